import type { Node, NodeAPI, NodeDef, NodeMessage, Send, Done } from '../types';
import type { SoapEndpointNode } from '../soap-endpoint/endpoint-node';
import { SoapCallError } from '../../adapters/soap';

interface SoapRequestDef extends NodeDef {
  endpoint: string;
  operation: string;
}

interface SoapRequestMessage extends NodeMessage {
  operation?: unknown;
  requestTimeout?: unknown;
}

/**
 * Calls one operation of a SOAP endpoint per message: the operation fixed in the node or
 * msg.operation, the arguments msg.payload; the result replaces msg.payload. A failure is
 * the message's error (done(err)) carrying the SoapCallError, so a Catch node sees
 * msg.error.cause.transient / faultName and the journal's hooks see error.transient.
 */
export = function register(RED: NodeAPI) {
  function SoapRequestNode(this: Node, config: SoapRequestDef) {
    RED.nodes.createNode(this, config);
    const endpoint = RED.nodes.getNode(config.endpoint) as SoapEndpointNode | null;
    const fixedOperation = config.operation?.trim();
    let inFlight = 0;
    if (!endpoint) {
      this.status({ fill: 'red', shape: 'ring', text: 'no SOAP endpoint configured' });
    } else {
      endpoint.register(this);
    }

    this.on('input', async (msg: SoapRequestMessage, send: Send, done: Done) => {
      try {
        if (!endpoint) throw new Error('soap-request: no SOAP endpoint is configured');
        const operation = fixedOperation || msg.operation;
        if (typeof operation !== 'string' || !operation) {
          throw new SoapCallError('soap-request: no operation (set one in the node or in msg.operation)', { kind: 'bad-request', transient: false });
        }
        const args = msg.payload ?? {};
        if (typeof args !== 'object' || Array.isArray(args)) {
          throw new SoapCallError(`soap-request: msg.payload must be an object of ${operation}'s arguments, not ${Array.isArray(args) ? 'an array' : typeof args}`, { kind: 'bad-request', operation, transient: false });
        }
        const timeoutMs = Number(msg.requestTimeout) > 0 ? Number(msg.requestTimeout) : undefined;
        inFlight++;
        this.status({ fill: 'blue', shape: 'dot', text: `calling ${operation}` });
        try {
          msg.payload = await endpoint.client.call(operation, args as object, { timeoutMs });
        } finally {
          inFlight--;
        }
        msg.operation = operation;
        if (inFlight === 0) this.status(endpoint.currentStatus());
        send(msg);
        done();
      } catch (err) {
        const e = err as Error & Partial<SoapCallError>;
        this.status({ fill: 'red', shape: 'ring', text: `${e.faultName ?? e.kind ?? 'error'}${e.transient ? ' (transient)' : ''}` });
        done(e);
      }
    });

    this.on('close', () => {
      endpoint?.deregister(this);
    });
  }
  RED.nodes.registerType('soap-request', SoapRequestNode);
};
