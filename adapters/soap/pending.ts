import { permanentError } from '../errors';
import { SoapFault } from './server';

/**
 * Requests to a hosted service that wait for a flow to answer. The node that receives a
 * SOAP request puts it here under a key the message carries (its _msgid and a
 * correlation id: plain strings, so they survive Node-RED cloning the message); the node
 * that answers finds it by that key. A request nobody answers in time gets a
 * ServiceUnavailable fault, so the caller retries instead of hanging.
 */

export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;

interface Pending {
  owner: string;
  resolve(reply: Record<string, unknown>): void;
  reject(fault: SoapFault): void;
  timer: NodeJS.Timeout;
}

/** What a hosting node puts on each request's message (msg.soap): the answering node needs correlationId, with msg._msgid. */
export interface SoapReplyContext {
  correlationId: string;
  service: string;
  path: string;
  operation: string;
}

export function replyKey(msgid: string, correlationId: string): string {
  return `${msgid}:${correlationId}`;
}

export class PendingReplies {
  private readonly entries = new Map<string, Pending>();

  /** Waits for the reply to `key`; `owner` is the hosting node, so its requests can be failed together on close. */
  wait(key: string, owner: string, timeoutMs = DEFAULT_REPLY_TIMEOUT_MS): Promise<Record<string, unknown>> {
    if (this.entries.has(key)) return Promise.reject(permanentError('SOAP_REPLY_KEY_IN_USE', `a request is already waiting under ${key}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.entries.delete(key);
        reject(new SoapFault('ServiceUnavailable', `no reply from the hub's flow within ${Math.round(timeoutMs / 1000)} s`, 'Server'));
      }, timeoutMs);
      this.entries.set(key, { owner, resolve, reject, timer });
    });
  }

  /** Answers a waiting request; false when none waits under the key (answered, timed out, or hosted by a closed node). */
  reply(key: string, reply: Record<string, unknown>): boolean {
    const pending = this.take(key);
    pending?.resolve(reply);
    return !!pending;
  }

  fail(key: string, fault: SoapFault): boolean {
    const pending = this.take(key);
    pending?.reject(fault);
    return !!pending;
  }

  /** Fails every request an owner still holds (its node is closing). */
  failAll(owner: string, fault: SoapFault): void {
    for (const [key, pending] of this.entries) {
      if (pending.owner === owner) this.fail(key, fault);
    }
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private take(key: string): Pending | undefined {
    const pending = this.entries.get(key);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.entries.delete(key);
    return pending;
  }
}

/** The one store the soap-in and soap-response nodes share (both load this module once per process). */
export const pendingSoapReplies = new PendingReplies();
