
export * from './types';
export { Journal, RefusedError, NotFoundError, deliveryIdOf, deliveryTag, messageTag } from './journal';
export type { RunTask, MessageTag, DeliveryTag, StartResult, ReplayRequest, ReplayResult, ReplayFrom } from './journal';
export { SqliteJournalStore } from './sqlite-store';
export { RedisJournalStore } from './redis-store';
export { retryPolicy, retryDelayMs, classifyError, defaultRetryPolicy } from './retry';
export { storableMessage } from './snapshot';
