import type { Node, NodeAPI, NodeDef, NodeMessage, Send, Done } from '../types';
import { SoapFault, faultFromError, pendingSoapReplies, replyKey, type SoapReplyContext } from '../../adapters/soap';

interface SoapResponseMessage extends NodeMessage {
  soap?: Partial<SoapReplyContext>;
  fault?: { name?: unknown; reason?: unknown; side?: unknown };
  error?: { message?: string; transient?: boolean; cause?: { transient?: boolean } };
}

/** The fault a message asks for: msg.fault explicitly, else msg.error (from a Catch node). */
function faultOf(msg: SoapResponseMessage): SoapFault | undefined {
  if (msg.fault && typeof msg.fault === 'object') {
    const { name, reason, side } = msg.fault;
    return new SoapFault(String(name || 'ProcessingFailed'), String(reason ?? ''), side === 'Server' ? 'Server' : 'Client');
  }
  if (msg.error) {
    const transient = msg.error.transient ?? msg.error.cause?.transient;
    return faultFromError({ message: msg.error.message ?? String(msg.error), transient });
  }
  return undefined;
}

/**
 * Answers the SOAP request a soap-in node turned into this message: msg.payload is the
 * operation's response, or msg.fault / msg.error make it a fault. The reply is found by
 * msg._msgid and msg.soap.correlationId, so the message must keep both.
 */
export = function register(RED: NodeAPI) {
  function SoapResponseNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg: SoapResponseMessage, send: Send, done: Done) => {
      try {
        const correlationId = msg.soap?.correlationId;
        if (!correlationId) throw new Error('soap-response: the message has no msg.soap.correlationId (did it come from a soap-in node, keeping msg.soap?)');
        const key = replyKey(String(msg._msgid), correlationId);
        const fault = faultOf(msg);
        if (!fault && (typeof msg.payload !== 'object' || msg.payload === null || Array.isArray(msg.payload))) {
          throw new Error(`soap-response: msg.payload must be an object with the ${msg.soap?.operation ?? 'operation'}'s response elements`);
        }
        const answered = fault ? pendingSoapReplies.fail(key, fault) : pendingSoapReplies.reply(key, msg.payload as Record<string, unknown>);
        if (!answered) {
          throw new Error('soap-response: no SOAP request waits for this reply (already answered, timed out, or its soap-in node was redeployed)');
        }
        this.status(fault ? { fill: 'yellow', shape: 'dot', text: `fault ${fault.faultName}` } : { fill: 'green', shape: 'dot', text: `answered ${msg.soap?.operation ?? ''}` });
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: 'not answered' });
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('soap-response', SoapResponseNode);
};
