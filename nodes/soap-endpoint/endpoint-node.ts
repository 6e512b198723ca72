import type { Node } from '../types';
import type { SoapClient } from '../../adapters/soap';

/** A node that uses an endpoint: it is told the shared client's state to show as its status. */
export interface SoapEndpointUser {
  status(status: { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string }): void;
}

export interface SoapEndpointNode extends Node {
  client: SoapClient;
  register(user: SoapEndpointUser): void;
  deregister(user: SoapEndpointUser): void;
  /** The status every user shows when it is not calling: the client's state in words. */
  currentStatus(): Parameters<SoapEndpointUser['status']>[0];
}

