import type Redis from 'ioredis';
import type { HubConfig } from './config';
import type { Journal } from './journal/journal';
import type { FlowTracker } from './flow-tracking/tracker';
import type { CrossReferenceStore } from './xref';

/**
 * What the running hub offers its nodes (the journal, the shared Redis client, the
 * configuration). startHub fills it before Node-RED starts the flows. Nodes must still
 * work where a field is missing: in node tests, or installed into another Node-RED.
 */
export interface HubServices {
  config?: HubConfig;
  redis?: Redis;
  /** The journal (hub/journal): messages, deliveries, retries, replay. */
  journal?: Journal;
  /** Follows journalled messages through the flows; takes failures a Catch node saw. */
  flowTracker?: FlowTracker;
  /** Whom the hub found in each system, per CRM contact (hub/xref). */
  crossReferences?: CrossReferenceStore;
}

export const hubServices: HubServices = {};
