import type Redis from 'ioredis';
import type { HubConfig } from './config';

/**
 * What the running hub offers its nodes (the journal, the shared Redis client, the
 * configuration). startHub fills it before Node-RED starts the flows. Nodes must still
 * work where a field is missing: in node tests, or installed into another Node-RED.
 */
export interface HubServices {
  config?: HubConfig;
  redis?: Redis;
}

export const hubServices: HubServices = {};
