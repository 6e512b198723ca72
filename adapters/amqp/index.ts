/** The hub's RabbitMQ adapter: one shared connection per broker, consumers and publishers on it. */
export { AmqpConnection } from './connection';
export type { AmqpConnectionOptions, AmqpConnectionState, AmqpConnectionStatus, AmqpConnectionUser } from './connection';
export { AmqpConsumer, DEAD_LETTER_HEADERS } from './consumer';
export type { AmqpConsumerOptions, AmqpDelivery, AmqpMessageHandler, AmqpDeadLetter, AmqpBodyFormat } from './consumer';
export { AmqpPublisher } from './publisher';
export type { AmqpPublisherOptions, AmqpPublishOptions } from './publisher';
export type { AmqpChannelState, AmqpChannelStatus } from './channel-owner';
export { resolveTopology, declareQueueTopology } from './topology';
export type { QueueTopology, ResolvedTopology, AmqpExchangeType } from './topology';
export { AmqpError, AMQP_TRANSIENT, describeAmqpError, brokerLabel } from './errors';
export type { AmqpErrorCode } from './errors';
export { backoffDelay } from './backoff';
export type { BackoffOptions } from './backoff';
