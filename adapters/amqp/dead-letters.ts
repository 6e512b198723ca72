import { permanentError } from '../errors';
import type { AmqpDeadLetter } from './consumer';

/** The journal's source name of AMQP dead letters (the console's inbound failures). */
export const AMQP_DEAD_LETTER_SOURCE = 'amqp';

/** Bodies longer than this are kept cut short in the journal (the dead-letter queue has them whole). */
const KEPT_BYTES = 256 * 1024;

/**
 * What the hub keeps of a dead-lettered AMQP message for the console: the body (parsed when
 * it is JSON, else its text, so that support sees exactly what came) and where it came from.
 */
export function deadLetterRecord(d: AmqpDeadLetter): {
  source: string;
  sourceMessageId: string;
  reason: string;
  msg: { payload: unknown; amqp: Record<string, unknown> };
} {
  const text = d.content.subarray(0, KEPT_BYTES).toString('utf8');
  let payload: unknown = text;
  try {
    if (d.content.length <= KEPT_BYTES) payload = JSON.parse(text);
  } catch {
    // not JSON: kept as the text it is
  }
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(d.headers)) headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  return {
    source: AMQP_DEAD_LETTER_SOURCE,
    sourceMessageId: `dead-letter:${d.queue}:${d.deadLetterId}`,
    reason: `dead-lettered from ${d.queue}: ${d.reason}`,
    msg: {
      payload,
      amqp: {
        queue: d.queue,
        deadLetterQueue: d.deadLetterQueue,
        routingKey: d.routingKey,
        messageId: d.deadLetterId,
        headers,
        bytes: d.content.length,
        deadLetteredAt: d.at,
        ...(d.content.length > KEPT_BYTES ? { cutShort: true } : {}),
      },
    },
  };
}

/**
 * The body of a resubmitted copy: JSON for a JSON queue (an object or array, or a string
 * that parses as one; anything else is refused, permanently, so it waits in the console
 * again), the text for a text queue.
 */
export function resubmissionBody(payload: unknown, format: 'json' | 'text'): unknown {
  if (format === 'text') {
    if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
    return payload;
  }
  let value = payload;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (err) {
      throw permanentError('RESUBMISSION_NOT_JSON', `the resubmitted body is not JSON: ${(err as Error).message}`);
    }
  }
  if (value === null || typeof value !== 'object') {
    throw permanentError('RESUBMISSION_NOT_JSON', `the resubmitted body must be a JSON object or array, got ${value === null ? 'null' : typeof value}`);
  }
  return value;
}
