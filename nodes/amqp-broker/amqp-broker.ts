import { hostname } from 'os';
import { AmqpConnection, type AmqpConnectionStatus } from '../../adapters/amqp';
import type { Node, NodeAPI, NodeDef } from '../types';
import { amqpNodeStatus, type AmqpBrokerNode } from './shared';

interface AmqpBrokerDef extends NodeDef {
  url: string;
  heartbeat: string | number;
  prefetch: string | number;
}

interface AmqpBrokerCredentials {
  username?: string;
  password?: string;
}

function wholeNumber(value: string | number | undefined, fallback: number, min: number, max: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

/**
 * Config node: one RabbitMQ connection shared by every amqp-in and amqp-out using it.
 * Connects when the first of them registers, pushes the connection's status to all of
 * them, and closes the connection when it is closed itself (redeploy, stop).
 */
export = function register(RED: NodeAPI) {
  function AmqpBroker(this: AmqpBrokerNode & { credentials: AmqpBrokerCredentials }, config: AmqpBrokerDef) {
    RED.nodes.createNode(this, config);
    const users = new Set<Node>();
    // A URL from an unset environment variable (`${RABBITMQ_URL}` with no broker, as in the
    // demo profile without one) means "no broker here": nothing connects, nothing retries.
    const url = (config.url ?? '').trim();
    const configured = url !== '' && !/^\$\{.*\}$/.test(url);
    const notConfigured = { fill: 'grey', shape: 'ring', text: 'no broker configured' } as const;
    const connection = new AmqpConnection({
      url: configured ? url : 'amqp://127.0.0.1:5672',
      username: this.credentials?.username || undefined,
      password: this.credentials?.password || undefined,
      heartbeatSeconds: wholeNumber(config.heartbeat, 5, 1, 600),
      // Operators find the hub's connections by this name (management UI, rabbitmqctl).
      connectionName: `council-hub ${hostname()} pid ${process.pid} ${config.name || config.id}`,
    });
    const node = this as AmqpBrokerNode & { connection: AmqpConnection; prefetch: number; configured: boolean };
    node.connection = connection;
    node.configured = configured;
    node.prefetch = wholeNumber(config.prefetch, 100, 1, 65535);
    connection.on('status', (status: AmqpConnectionStatus) => {
      if (status.state === 'error' || status.state === 'reconnecting') this.warn(`RabbitMQ: ${status.error?.message ?? status.state}; next attempt in ${status.retryInMs} ms`);
      for (const user of users) user.status(amqpNodeStatus(status));
    });
    node.register = (user: Node) => {
      users.add(user);
      if (!configured) {
        user.status(notConfigured);
        return;
      }
      user.status(amqpNodeStatus(connection.status));
      connection.start();
    };
    node.deregister = (user: Node) => {
      users.delete(user);
    };
    this.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      connection.close().then(done, done);
    });
  }
  RED.nodes.registerType('amqp-broker', AmqpBroker as any, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
