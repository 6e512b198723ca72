import { HubError } from '../errors';

/**
 * Readable errors for the AMQP adapter. amqplib reports broker refusals as raw protocol
 * text ("Operation failed: QueueDeclare; 404 (NOT-FOUND) with message ...") and socket
 * failures as bare Node errors (ECONNREFUSED); support staff and node status lines need
 * to know what to fix, so every error leaving the adapter goes through describeAmqpError.
 * Every AmqpError follows the hub's error contract (adapters/errors.ts): a code and
 * whether trying again later can help (AMQP_TRANSIENT below).
 */
export type AmqpErrorCode =
  | 'CONNECTION_REFUSED'
  | 'HOST_NOT_FOUND'
  | 'TIMEOUT'
  | 'ACCESS_REFUSED'
  | 'VHOST_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'PRECONDITION_FAILED'
  | 'CONNECTION_LOST'
  | 'CHANNEL_CLOSED'
  | 'UNROUTABLE'
  | 'NACKED'
  | 'CLOSED'
  | 'INVALID_MESSAGE'
  | 'INVALID_URL'
  | 'CONFIGURATION'
  | 'UNKNOWN';

/**
 * Transient (true) or permanent (false), per code. The rule: an error about the path to
 * the broker or its momentary state is transient; an error that the same message, name or
 * configuration meets again on every try is permanent (a person fixes it, then replays).
 * - CONNECTION_REFUSED, TIMEOUT, CONNECTION_LOST, CHANNEL_CLOSED: the broker restarting, a
 *   network blip, a heartbeat timeout; the connection reconnects by itself.
 * - HOST_NOT_FOUND: transient. EAI_AGAIN is by definition a temporary DNS failure, and an
 *   ENOTFOUND during a DNS or VPN outage looks the same; a misspelt host fails every try
 *   and ends a dead letter after the retries, which costs little.
 * - NACKED: the broker could not take the message now (a queue at its length limit with
 *   reject-publish, a disk alarm); it may take it later.
 * - CLOSED: the hub itself closed the connection or publisher (a redeploy, a shutdown);
 *   the next attempt runs on the new one.
 * - UNKNOWN: a failure amqplib or the socket did not explain; like any unexplained error
 *   it is retried (the hub's default), with the retries bounded.
 * - ACCESS_REFUSED, VHOST_NOT_ALLOWED: wrong credentials or permissions, the same on
 *   every try until someone changes the configuration or the broker.
 * - NOT_FOUND, PRECONDITION_FAILED: a missing exchange or queue, or one declared with
 *   other settings: needs a declaration or a fix of the name.
 * - UNROUTABLE: no queue is bound for the routing key; the same message is returned again.
 * - INVALID_MESSAGE: the body is not JSON, or cannot be sent as JSON: the data.
 * - INVALID_URL, CONFIGURATION: the node's settings are wrong.
 */
export const AMQP_TRANSIENT: Readonly<Record<AmqpErrorCode, boolean>> = {
  CONNECTION_REFUSED: true,
  HOST_NOT_FOUND: true,
  TIMEOUT: true,
  CONNECTION_LOST: true,
  CHANNEL_CLOSED: true,
  NACKED: true,
  CLOSED: true,
  UNKNOWN: true,
  ACCESS_REFUSED: false,
  VHOST_NOT_ALLOWED: false,
  NOT_FOUND: false,
  PRECONDITION_FAILED: false,
  UNROUTABLE: false,
  INVALID_MESSAGE: false,
  INVALID_URL: false,
  CONFIGURATION: false,
};

export class AmqpError extends HubError {
  override readonly name = 'AmqpError';
  declare readonly code: AmqpErrorCode;

  constructor(code: AmqpErrorCode, message: string, cause?: unknown) {
    super(code, message, { transient: AMQP_TRANSIENT[code], cause });
  }
}

/** "amqp://user:secret@host:5672/vhost" -> "host:5672" (never the password). */
export function brokerLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'amqps:' ? '5671' : '5672')}`;
  } catch {
    return 'the broker';
  }
}

function brokerText(raw: string): string {
  // amqplib: '... with message "NOT_FOUND - no queue 'x' in vhost '/'"' -> "no queue 'x' in vhost '/'"
  const quoted = /with message "([^"]*)"/.exec(raw);
  const text = quoted ? quoted[1] : raw;
  return text.replace(/^[A-Z_]+ - /, '');
}

/** Turns whatever amqplib or the socket threw into an AmqpError that says what to fix. */
export function describeAmqpError(err: unknown, broker = 'the broker'): AmqpError {
  if (err instanceof AmqpError) return err;
  const e = err as NodeJS.ErrnoException & { code?: string | number };
  const raw = e?.message ?? String(err);
  const errno = typeof e?.code === 'string' ? e.code : undefined;
  if (errno === 'ECONNREFUSED') return new AmqpError('CONNECTION_REFUSED', `RabbitMQ at ${broker} refused the connection: is the broker running and the port right?`, err);
  if (errno === 'ENOTFOUND' || errno === 'EAI_AGAIN') return new AmqpError('HOST_NOT_FOUND', `RabbitMQ host of ${broker} was not found (DNS)`, err);
  if (errno === 'ETIMEDOUT' || /ETIMEDOUT/.test(raw)) return new AmqpError('TIMEOUT', `RabbitMQ at ${broker} did not answer in time`, err);
  if (errno === 'ECONNRESET' || errno === 'EPIPE') return new AmqpError('CONNECTION_LOST', `the connection to RabbitMQ at ${broker} was reset`, err);
  if (/ACCESS[-_]REFUSED/.test(raw)) return new AmqpError('ACCESS_REFUSED', `RabbitMQ at ${broker} refused the user name or password (ACCESS_REFUSED): check the broker's credentials`, err);
  if (/NOT[-_]ALLOWED/.test(raw)) return new AmqpError('VHOST_NOT_ALLOWED', `RabbitMQ at ${broker} does not allow this user on the virtual host: ${brokerText(raw)}`, err);
  if (/NOT[-_]FOUND/.test(raw)) return new AmqpError('NOT_FOUND', `RabbitMQ at ${broker}: ${brokerText(raw)} (NOT_FOUND): declare it or fix the name`, err);
  if (/PRECONDITION[-_]FAILED/.test(raw)) return new AmqpError('PRECONDITION_FAILED', `RabbitMQ at ${broker} refused the declaration: ${brokerText(raw)} (PRECONDITION_FAILED): an existing queue or exchange has other settings`, err);
  if (/Heartbeat timeout/i.test(raw)) return new AmqpError('CONNECTION_LOST', `RabbitMQ at ${broker} stopped answering heartbeats; the connection is treated as dead`, err);
  if (/CONNECTION[-_]FORCED/.test(raw)) return new AmqpError('CONNECTION_LOST', `RabbitMQ at ${broker} closed the connection: ${brokerText(raw)}`, err);
  if (/channel closed|Channel closed|Channel ended/i.test(raw)) return new AmqpError('CHANNEL_CLOSED', `the channel to RabbitMQ at ${broker} closed`, err);
  if (/Connection closed|Socket closed/i.test(raw)) return new AmqpError('CONNECTION_LOST', `the connection to RabbitMQ at ${broker} was lost`, err);
  return new AmqpError('UNKNOWN', `RabbitMQ at ${broker}: ${raw}`, err);
}
