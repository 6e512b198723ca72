import path from 'path';
import { createHash, randomUUID } from 'crypto';
import { HubError } from '../../adapters/errors';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../types';
import { DEFAULT_REPLY_TIMEOUT_MS, SoapFault, hostSoapService, pendingSoapReplies, replyKey, soapRegistryFor, type HostedSoapService, type MountPoint, type SoapReplyContext } from '../../adapters/soap';
import { hubPort } from '../port';

interface SoapInDef extends NodeDef {
  wsdl: string;
  path: string;
  operations: string;
  replyTimeout: number | string;
  maxBodyKb: number | string;
}

/**
 * Hosts a WSDL service on a path of the hub's HTTP port. Each valid request becomes a
 * message (msg.payload the parsed request, msg.operation its operation), and the caller
 * waits until a soap-response node answers it (or a fault, or the reply timeout).
 * Malformed, oversized, DOCTYPE-bearing and invalid requests are answered with a fault
 * before any message is sent.
 */
export = function register(RED: NodeAPI) {
  function SoapInNode(this: Node, config: SoapInDef) {
    RED.nodes.createNode(this, config);
    const operationOutputs = (config.operations ?? '').split(',').map((o) => o.trim()).filter(Boolean);
    const replyTimeoutMs = Number(config.replyTimeout) > 0 ? Number(config.replyTimeout) * 1000 : DEFAULT_REPLY_TIMEOUT_MS;
    const maxBodyBytes = Number(config.maxBodyKb) > 0 ? Number(config.maxBodyKb) * 1024 : undefined;
    const wsdl = path.isAbsolute(config.wsdl ?? '') ? config.wsdl : path.join(hubPort(RED).paths.root, config.wsdl ?? '');
    let hosted: HostedSoapService | undefined;
    let closed = false;

    const handler = async ({ operation, args }: { operation: string; args: Record<string, unknown> }) => {
      const correlationId = randomUUID();
      const msgid = RED.util.generateId();
      const key = replyKey(msgid, correlationId);
      const msg: NodeMessage & { operation: string; soap: SoapReplyContext } = {
        _msgid: msgid,
        payload: args,
        operation,
        soap: { correlationId, service: hosted?.serviceName ?? '', path: hosted?.path ?? config.path, operation },
      };
      const reply = pendingSoapReplies.wait(key, this.id, replyTimeoutMs);
      if (operationOutputs.length) {
        const index = operationOutputs.indexOf(operation);
        if (index < 0) {
          pendingSoapReplies.fail(key, new SoapFault('ServiceUnavailable', `${operation} is not wired in this hub`, 'Server'));
        } else {
          const outputs: Array<NodeMessage | null> = operationOutputs.map(() => null);
          outputs[index] = msg;
          this.send(outputs);
        }
      } else {
        this.send(msg);
      }
      return reply;
    };

    if (!config.wsdl || !config.path) {
      this.status({ fill: 'red', shape: 'ring', text: 'WSDL and path are required' });
    } else if (!RED.httpNode) {
      this.status({ fill: 'red', shape: 'ring', text: 'the HTTP node server is disabled' });
    } else {
      this.status({ fill: 'yellow', shape: 'ring', text: 'reading WSDL' });
      // A request refused with a fault is kept for the console's inbound failures (the caller
      // was answered and must send again: it can be read and discarded there, not resubmitted).
      const onRefused = ({ body, fault }: { body: string; fault: Error }) => {
        const sha256 = createHash('sha256').update(body).digest('hex');
        hubPort(RED)
          .journal?.refuse({
            source: 'soap',
            sourceMessageId: `refused:${config.path}:${sha256}`,
            key: config.path,
            msg: { payload: body.slice(0, 256 * 1024), soap: { path: config.path } },
            nodeId: this.id,
            error: new HubError('SOAP_REQUEST_REFUSED', `a request to ${config.path} was refused with a fault: ${fault.message}`, { transient: false }),
            where: { nodeId: this.id, nodeType: 'soap-in', nodeName: config.name || config.path },
          })
          .catch((err: Error) => this.warn(`soap-in: a refused request was not kept for the console: ${err.message}`));
      };
      const hosting = hostSoapService(soapRegistryFor(RED.httpNode as unknown as MountPoint), { wsdl, path: config.path, handler, maxBodyBytes, onRefused });
      // The hub is not ready (/healthz) until the service answers on its path.
      hubPort(RED).startup?.track(hosting);
      hosting
        .then((service) => {
          if (closed) return service.close();
          hosted = service;
          const unwired = operationOutputs.filter((o) => !service.operations.includes(o));
          if (unwired.length) this.warn(`soap-in: ${unwired.join(', ')} not in the WSDL (it offers ${service.operations.join(', ')})`);
          this.status({ fill: 'green', shape: 'dot', text: `listening on ${service.path}` });
        })
        .catch((err: Error) => {
          this.error(`soap-in: cannot host ${config.wsdl} on ${config.path}: ${err.message}`);
          this.status({ fill: 'red', shape: 'ring', text: `error: ${err.message.slice(0, 60)}` });
        });
    }

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      hosted?.close();
      // callers waiting now get a fault that tells them to try again, not a hang
      pendingSoapReplies.failAll(this.id, new SoapFault('ServiceUnavailable', 'the hub is redeploying its flows: try again', 'Server'));
      done();
    });
  }
  RED.nodes.registerType('soap-in', SoapInNode);
};
