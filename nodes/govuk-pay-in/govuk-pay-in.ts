import { createHash } from 'crypto';
import express, { type Request, type Response } from 'express';
import type { NodeAPI, NodeDef, Node, NodeMessage } from '../types';
import { errorCode } from '../../adapters/errors';
import { parseWebhookEvent } from '../../adapters/govuk-pay/events';
import { verifyWebhookSignature } from '../../adapters/govuk-pay/signature';
import { secret } from '../secrets';
import { hubPort } from '../port';

interface GovukPayInDef extends NodeDef {
  path: string;
  /** Environment variable holding the webhook's signing secret when no credential is set. */
  secretEnv: string;
  maxBodyKb: string | number;
}

/** The largest body any handler may take; each node checks its own limit below it. */
const MOUNT_LIMIT = '1mb';
/** GOV.UK Pay waits 15 s for an answer: the hub answers before that, 503 if not stored by then. */
const ANSWER_WITHIN_MS = 12000;

type Handler = (req: Request, res: Response) => void;
/** One route per path on the HTTP node app; a redeployed node replaces the handler behind it. */
const handlers = new Map<string, Handler>();
const mounted = new WeakMap<object, Set<string>>();

/**
 * GOV.UK Pay's webhook: POST <path> (default /webhooks/govuk-pay). The Pay-Signature header
 * must be the HMAC-SHA256 of the raw body with the signing secret, else 401 and nothing is
 * stored. A signed body that is not a GOV.UK Pay event gets 400 and is kept (without its
 * body: it could hold card details) for the console. A good event goes into the flow with
 * only the fields the contract needs (card details never), and is answered 200 once the
 * journal has stored it; 503 if that has not happened within 12 s (GOV.UK Pay tries again).
 */
export = function register(RED: NodeAPI) {
  function GovukPayInNode(this: Node & { credentials?: { secret?: string } }, config: GovukPayInDef) {
    RED.nodes.createNode(this, config);
    const node = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the route's handler answers for this node
    const path = (config.path || '/webhooks/govuk-pay').trim();
    const maxBytes = (Number(config.maxBodyKb) > 0 ? Number(config.maxBodyKb) : 256) * 1024;
    const port = hubPort(RED);
    const signingSecret = () => secret(node.credentials?.secret, config.secretEnv || 'GOVUK_PAY_WEBHOOK_SECRET', (name) => RED.util.getSetting(node, name));
    let answered = 0;

    const answer = (res: Response, status: number, body: object) => {
      if (!res.headersSent) res.status(status).json(body);
    };

    const handler: Handler = (req, res) => {
      // The signature is over the exact bytes: a body some parser already turned into an object cannot be checked.
      if (!Buffer.isBuffer(req.body)) return answer(res, 500, { error: `the hub did not keep this request's raw body; listen under /webhooks/ (this node listens on ${path})` });
      const body = req.body;
      if (body.length > maxBytes) return answer(res, 413, { error: `the body is ${body.length} bytes; at most ${maxBytes} are taken` });
      const key = signingSecret();
      if (!key) {
        node.status({ fill: 'red', shape: 'ring', text: 'no signing secret configured' });
        return answer(res, 503, { error: 'the hub has no GOV.UK Pay signing secret configured' });
      }
      if (!verifyWebhookSignature(body, req.headers['pay-signature'], key)) {
        node.warn(`govuk-pay-in: refused a webhook with a ${req.headers['pay-signature'] ? 'wrong' : 'missing'} Pay-Signature from ${req.ip}`);
        return answer(res, 401, { error: 'the Pay-Signature header is missing or does not match the body' });
      }
      const funds = Object.keys((port.mappings.table('funds') as Record<string, unknown> | undefined) ?? {});
      let event;
      try {
        event = parseWebhookEvent(body, funds);
      } catch (err) {
        const reason = (err as Error).message;
        const sha256 = createHash('sha256').update(body).digest('hex');
        const journal = port.journal;
        const kept = journal
          ? journal.refuse({
              source: 'govuk-pay',
              sourceMessageId: `invalid:${sha256}`,
              msg: { payload: { reason, bytes: body.length, sha256 } },
              nodeId: node.id,
              error: err,
              where: { nodeId: node.id, nodeType: 'govuk-pay-in', nodeName: path },
            })
          : Promise.resolve();
        kept.then(
          () => answer(res, 400, { error: reason }),
          (storeErr: Error) => answer(res, 503, { error: `the event is not valid (${reason}), and the hub could not keep it: ${storeErr.message}` }),
        );
        return;
      }
      const msg: NodeMessage & Record<string, unknown> = {
        _msgid: RED.util.generateId(),
        payload: event,
        govukPay: { webhookMessageId: event.webhookMessageId, eventType: event.eventType, paymentId: event.paymentId },
      };
      port.settlement.await(
        msg,
        {
          settled: () => {
            answered += 1;
            node.status({ fill: 'green', shape: 'dot', text: `${answered} events taken; last ${event.eventType}` });
            answer(res, 200, { received: event.webhookMessageId });
          },
          failed: (error) => answer(res, errorCode(error) === 'INVALID_MESSAGE' ? 400 : 503, { error: `not stored: ${error.message}` }),
        },
        { timeoutMs: ANSWER_WITHIN_MS },
      );
      node.send(msg);
    };

    const app = RED.httpNode as unknown as express.Router | undefined;
    if (!app) {
      node.status({ fill: 'red', shape: 'ring', text: 'the HTTP node server is disabled' });
    } else {
      const paths = mounted.get(app) ?? new Set<string>();
      mounted.set(app, paths);
      if (!paths.has(path)) {
        paths.add(path);
        app.post(path, express.raw({ type: () => true, limit: MOUNT_LIMIT }), (req, res, next) => {
          const current = handlers.get(path);
          if (!current) return next();
          current(req, res);
        });
      }
      handlers.set(path, handler);
      if (!path.startsWith('/webhooks/')) node.warn(`govuk-pay-in: ${path} is not under /webhooks/, where council-hub keeps a request's raw body: signatures there cannot be checked`);
      node.status({ fill: signingSecret() ? 'green' : 'red', shape: 'ring', text: signingSecret() ? `listening on POST ${path}` : 'no signing secret configured' });
    }

    this.on('close', (_removed: boolean, done: () => void) => {
      if (handlers.get(path) === handler) handlers.delete(path);
      done();
    });
  }
  RED.nodes.registerType('govuk-pay-in', GovukPayInNode as any, { credentials: { secret: { type: 'password' } } } as any);
};
