import amqp from 'amqplib';
import type Redis from 'ioredis';

/**
 * Health probes for the shared infrastructure. RabbitMQ: a short-lived connection
 * (heartbeat on) opened and closed; Redis: PING on the hub's one Redis client.
 */
export function rabbitmqHealth(url: string) {
  return async () => {
    const connection = await amqp.connect(url, { timeout: 1500, heartbeat: 5 });
    const version = (connection as any).connection?.serverProperties?.version as string | undefined;
    await connection.close();
    return version ? `RabbitMQ ${version}` : undefined;
  };
}

export function redisHealth(client: Redis) {
  return async () => {
    if (client.status !== 'ready') throw new Error(`Redis connection is ${client.status}`);
    const answer = await client.ping();
    if (answer !== 'PONG') throw new Error(`PING answered ${answer}`);
  };
}
