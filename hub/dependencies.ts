import amqp from 'amqplib';
import Redis from 'ioredis';
import { registerHealthCheck } from './health';

/**
 * Health probes for the shared infrastructure. RabbitMQ: a short-lived connection
 * (heartbeat on) opened and closed; Redis: PING on one long-lived lazy client.
 */
export function registerRabbitmqHealth(url: string): () => Promise<void> {
  registerHealthCheck('rabbitmq', async () => {
    const connection = await amqp.connect(url, { timeout: 1500, heartbeat: 5 });
    const version = (connection as any).connection?.serverProperties?.version as string | undefined;
    await connection.close();
    return version ? `RabbitMQ ${version}` : undefined;
  });
  return async () => undefined;
}

export function registerRedisHealth(url: string): () => Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 1500 });
  client.on('error', () => undefined); // reported through the probe, not as an unhandled event
  registerHealthCheck('redis', async () => {
    if (client.status === 'wait' || client.status === 'end') await client.connect();
    const answer = await client.ping();
    if (answer !== 'PONG') throw new Error(`PING answered ${answer}`);
  });
  return async () => {
    client.disconnect();
  };
}
