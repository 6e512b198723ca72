import type { NodeStatus } from 'node-red';
import type { AmqpChannelStatus, AmqpConnection, AmqpConnectionStatus } from '../../adapters/amqp';
import type { Node } from '../types';

/** What amqp-in and amqp-out see of their amqp-broker config node. */
export interface AmqpBrokerNode extends Node {
  readonly connection: AmqpConnection;
  readonly prefetch: number;
  /** False when the URL is empty or an unset `${VARIABLE}`: users neither connect nor retry. */
  readonly configured: boolean;
  /** Starts the shared connection if needed and pushes its status to `user` from now on. */
  register(user: Node): void;
  deregister(user: Node): void;
}

/** The status line for a node, from its broker connection and (if any) its own channel. */
export function amqpNodeStatus(connection: AmqpConnectionStatus, channel?: AmqpChannelStatus): NodeStatus {
  if (connection.state === 'connected' && channel?.state === 'error') return { fill: 'red', shape: 'ring', text: shorten(channel.error?.message ?? 'channel error') };
  switch (connection.state) {
    case 'connected':
      return { fill: 'green', shape: 'dot', text: 'connected' };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: 'connecting' };
    case 'blocked':
      return { fill: 'yellow', shape: 'dot', text: shorten(`blocked by the broker: ${connection.blockedReason ?? 'alarm'}`) };
    case 'reconnecting':
      return { fill: 'yellow', shape: 'ring', text: shorten(`reconnecting: ${connection.error?.message ?? 'connection lost'}`) };
    case 'error':
      return { fill: 'red', shape: 'ring', text: shorten(connection.error?.message ?? 'error') };
    default:
      return {};
  }
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
