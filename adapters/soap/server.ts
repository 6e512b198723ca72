import fs from 'fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'http';
import zlib from 'zlib';
import * as soap from 'soap';
import { HubError, permanentError } from '../errors';
import { STRICT_VALUES } from './deserialize';
import { isTransientFaultName } from './errors';
import { checkRequest } from './request-check';
import { XmlRefusedError, checkSoapXml } from './xml-guard';

/**
 * Hosting a WSDL service on an HTTP path. The soap package's server does the SOAP work
 * (finding the operation, parsing the body, writing the response envelope); the hub puts
 * a gate in front of it and a check behind it:
 *   before: a body over the size bound, any DOCTYPE/ENTITY declaration, XML that is not
 *           well-formed or uses a hostile name, and a body that is not a SOAP envelope get
 *           a fault, and the soap package never sees them;
 *   after:  a request whose elements break the WSDL (a required element missing, a value
 *           outside an enumeration or pattern) gets a fault naming the elements;
 *   then:   the handler gets the operation and its parsed request, and its reply (or
 *           SoapFault) becomes the response.
 * Services are mounted through a SoapPathRegistry, so that they can be removed again
 * (Node-RED re-creates nodes on every deploy; express routes cannot be removed).
 */

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A request as the handler sees it. */
export interface SoapRequest {
  operation: string;
  /** The operation's input element, parsed (dates as text, numbers as numbers). */
  args: Record<string, unknown>;
  /** The request's HTTP headers. */
  headers: IncomingHttpHeaders;
}

/** Resolves with the operation's output element content, or rejects (SoapFault for a named fault). */
export type SoapOperationHandler = (request: SoapRequest) => Promise<Record<string, unknown>>;

/**
 * A fault the hub answers with, in the hub's convention (CrmService.wsdl): faultcode
 * soap:Client (the caller's problem) or soap:Server (try again later), faultstring
 * "<name>: <reason>", detail <fault><name/><reason/></fault>.
 * Its contract code is the fault's name; like a fault the hub's client receives, it is
 * transient only when that name is ServiceUnavailable.
 */
export class SoapFault extends HubError {
  constructor(
    readonly faultName: string,
    readonly reason: string,
    readonly side: 'Client' | 'Server' = 'Client',
  ) {
    super(faultName, `${faultName}: ${reason}`, { transient: isTransientFaultName(faultName) });
    this.name = 'SoapFault';
  }
}

/** The fault for an error that is not a SoapFault: the hub failed, the caller may try again unless the error says otherwise. */
export function faultFromError(err: unknown): SoapFault {
  if (err instanceof SoapFault) return err;
  const e = err as { message?: string; transient?: boolean } | undefined;
  const reason = e?.message ?? String(err);
  return e?.transient === false ? new SoapFault('ProcessingFailed', reason, 'Server') : new SoapFault('ServiceUnavailable', reason, 'Server');
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** A complete SOAP 1.1 fault envelope: for faults raised before the soap package has parsed anything. */
export function soapFaultEnvelope(fault: SoapFault, namespace?: string): string {
  const ns = namespace ? ` xmlns:tns="${escapeXml(namespace)}"` : '';
  const p = namespace ? 'tns:' : '';
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    '<soap:Body><soap:Fault>' +
    `<faultcode>soap:${fault.side}</faultcode>` +
    `<faultstring>${escapeXml(fault.message)}</faultstring>` +
    `<detail><${p}fault${ns}><${p}name>${escapeXml(fault.faultName)}</${p}name><${p}reason>${escapeXml(fault.reason)}</${p}reason></${p}fault></detail>` +
    '</soap:Fault></soap:Body></soap:Envelope>'
  );
}

/** What an express app or router offers for mounting a middleware (kept structural: no express import). */
export interface MountPoint {
  use(handler: (req: any, res: any, next: (err?: unknown) => void) => void): unknown;
}

interface HttpRequest extends IncomingMessage {
  /** express: the path within the app the middleware is mounted on */
  path?: string;
  originalUrl?: string;
  protocol?: string;
  body?: unknown;
}

export interface HostedSoapService {
  /** The HTTP path it answers on (normalised: leading slash, no trailing slash). */
  readonly path: string;
  readonly serviceName: string;
  readonly targetNamespace: string;
  readonly operations: string[];
  /** Answers one HTTP request (POST: a SOAP call; GET ?wsdl: the WSDL). */
  handle(req: HttpRequest, res: ServerResponse): void;
  /** Stops answering (removes it from its registry). */
  close(): void;
}

export interface SoapServiceOptions {
  /** WSDL file path. */
  wsdl: string;
  /** HTTP path, e.g. /soap/contact-events. */
  path: string;
  handler: SoapOperationHandler;
  /** Larger bodies get a fault before they are parsed (default 1 MiB). */
  maxBodyBytes?: number;
  /** Told of each request refused with a fault before any operation ran (not XML, a DOCTYPE,
   * no such operation, a SOAPAction that does not match), with the body as text, so that
   * the hub can keep it for support. Not for a body too large (it is not read). */
  onRefused?: (refusal: { body: string; fault: SoapFault }) => void;
}

export function normalisePath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed || '/' : `/${trimmed}`;
}

/**
 * One middleware, mounted once on an app, that dispatches each request by its path to
 * the service registered there now. Services come and go on every deploy; the
 * middleware stays. Paths it does not know fall through to the app's other routes.
 */
export class SoapPathRegistry {
  private readonly services = new Map<string, HostedSoapService>();

  readonly middleware = (req: HttpRequest, res: ServerResponse, next: (err?: unknown) => void): void => {
    const path = normalisePath(req.path ?? new URL(req.url ?? '/', 'http://localhost').pathname);
    const service = this.services.get(path);
    if (!service) return next();
    service.handle(req, res);
  };

  /** Registers a service on its path; refuses a path another service holds. */
  register(service: HostedSoapService): void {
    const holder = this.services.get(service.path);
    if (holder && holder !== service) throw permanentError('SOAP_PATH_IN_USE', `SOAP path ${service.path} is already hosted (${holder.serviceName})`);
    this.services.set(service.path, service);
  }

  unregister(service: HostedSoapService): void {
    if (this.services.get(service.path) === service) this.services.delete(service.path);
  }

  paths(): string[] {
    return [...this.services.keys()];
  }
}

const registries = new WeakMap<object, SoapPathRegistry>();

/** The registry of an app (an express app or router, e.g. Node-RED's RED.httpNode), mounted on first use. */
export function soapRegistryFor(app: MountPoint): SoapPathRegistry {
  let registry = registries.get(app);
  if (!registry) {
    registry = new SoapPathRegistry();
    app.use(registry.middleware);
    registries.set(app, registry);
  }
  return registry;
}

class BodyTooLarge extends HubError {
  constructor() {
    super('BODY_TOO_LARGE', 'the request body is larger than the bound', { transient: false });
  }
}

/** Reads a request body up to maxBytes (after gunzip, so a small gzip cannot expand without bound). */
function readBody(req: HttpRequest, maxBytes: number): Promise<string> {
  if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) {
    // an earlier middleware already read it
    const text = req.body.toString();
    return Buffer.byteLength(text) > maxBytes ? Promise.reject(new BodyTooLarge()) : Promise.resolve(text);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
    const source: NodeJS.ReadableStream = encoding === 'gzip' || encoding === 'deflate' ? req.pipe(encoding === 'gzip' ? zlib.createGunzip() : zlib.createInflate()) : req;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > maxBytes) {
        settled = true;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (!settled) {
        settled = true;
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    source.on('error', (err: Error) => {
      if (!settled) {
        settled = true;
        reject(new SoapFault('InvalidRequest', `the body cannot be read: ${err.message}`));
      }
    });
  });
}

/** The WSDL's soap:address locations pointed at the URL the caller used, so a client built from ?wsdl calls back here. */
function wsdlFor(xml: string, req: HttpRequest): string {
  const host = req.headers.host;
  if (!host) return xml;
  const protocol = req.protocol ?? 'http';
  const path = (req.originalUrl ?? req.url ?? '/').split('?')[0];
  return xml.replace(/(<[\w.-]+:address\s+location=")[^"]*(")/g, `$1${escapeXml(`${protocol}://${host}${path}`)}$2`);
}

/** Prepares a WSDL service for hosting (not yet mounted: see hostSoapService). */
export async function createSoapService(options: SoapServiceOptions): Promise<HostedSoapService> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const path = normalisePath(options.path);
  const xml = await fs.readFile(options.wsdl, 'utf8');
  // The soap package calls services[service][port][operation](args, callback, headers, req);
  // the object is filled in once the WSDL is read and the operations are known.
  const services: soap.IServices = {};
  const server = await new Promise<soap.Server>((resolve, reject) => {
    const listening: soap.Server = soap.listen(null, {
      path,
      services,
      xml,
      uri: options.wsdl,
      suppressStack: true,
      customDeserializer: STRICT_VALUES,
      callback: (err: unknown) => (err ? reject(err) : resolve(listening)),
    } as soap.IServerOptions);
  });
  const wsdl: soap.WSDL = (server as unknown as { wsdl: soap.WSDL }).wsdl;
  const definitions = wsdl.definitions as any;
  const targetNamespace: string = definitions.$targetNamespace;
  const serviceName = Object.keys(definitions.services)[0] ?? 'service';
  const operations = new Set<string>();
  // document/literal: the Body's element names the operation
  const operationByElement = new Map<string, string>();
  /** The SOAPAction each operation's binding declares (SOAP 1.1 clients send it as a header). */
  const actionByElement = new Map<string, string>();
  for (const binding of Object.values<any>(definitions.bindings ?? {})) {
    for (const [operation, method] of Object.entries<any>(binding.methods ?? {})) {
      if (method.input?.$name) operationByElement.set(method.input.$name, operation);
      if (method.input?.$name && typeof method.soapAction === 'string') actionByElement.set(method.input.$name, method.soapAction);
    }
  }
  for (const [name, service] of Object.entries<any>(definitions.services)) {
    services[name] = {};
    for (const [portName, port] of Object.entries<any>(service.ports)) {
      services[name][portName] = {};
      for (const operation of Object.keys(port.binding.methods)) {
        operations.add(operation);
        services[name][portName][operation] = async (args: unknown, _callback: unknown, _headers: unknown, req: { headers?: IncomingHttpHeaders }) => {
          try {
            const problems = checkRequest(wsdl, operation, args);
            if (problems.length) throw new SoapFault('InvalidRequest', problems.join('; '));
            const request = args && typeof args === 'object' ? (args as Record<string, unknown>) : {};
            return await options.handler({ operation, args: request, headers: req?.headers ?? {} });
          } catch (err) {
            const fault = faultFromError(err);
            throw {
              Fault: {
                faultcode: `soap:${fault.side}`,
                faultstring: fault.message,
                detail: { 'tns:fault': { 'tns:name': fault.faultName, 'tns:reason': fault.reason } },
                statusCode: 500,
              },
            };
          }
        };
      }
    }
  }

  const sendFault = (res: ServerResponse, fault: SoapFault) => {
    if (res.headersSent) return;
    res.statusCode = 500;
    res.setHeader('Content-Type', 'text/xml; charset=utf-8');
    res.end(soapFaultEnvelope(fault, targetNamespace));
  };

  let registry: SoapPathRegistry | undefined;
  const hosted: HostedSoapService & { attach(r: SoapPathRegistry): void } = {
    path,
    serviceName,
    targetNamespace,
    operations: [...operations],
    attach(r: SoapPathRegistry) {
      registry = r;
    },
    close() {
      registry?.unregister(hosted);
      registry = undefined;
    },
    handle(req, res) {
      if (req.method === 'GET' && /^wsdl\b/i.test(new URL(req.url ?? '/', 'http://localhost').search.slice(1))) {
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/xml; charset=utf-8');
        res.end(wsdlFor(xml, req));
        return;
      }
      if (req.method !== 'POST') {
        res.statusCode = 405;
        res.setHeader('Allow', 'POST, GET');
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(`${serviceName}: POST SOAP 1.1 requests here; the WSDL is at ${path}?wsdl\n`);
        return;
      }
      let received: string | undefined;
      const refused = (fault: SoapFault) => {
        // The caller's own mistakes only: a fault of the hub's is not the request's content.
        if (received === undefined || !options.onRefused || fault.side !== 'Client') return;
        try {
          options.onRefused({ body: received, fault });
        } catch {
          // the listener's own failure must not change the caller's answer
        }
      };
      readBody(req, maxBodyBytes)
        .then(async (body) => {
          received = typeof body === 'string' ? body : String(body);
          const { bodyElements } = await checkSoapXml(body);
          const element = bodyElements[0];
          if (!element || !operationByElement.has(element)) {
            const offered = [...operationByElement.keys()].join(', ');
            throw new SoapFault('InvalidRequest', element ? `${element} is not an operation of ${serviceName} (it offers ${offered})` : `the SOAP Body is empty (${serviceName} offers ${offered})`);
          }
          // The soap package picks the operation by SOAPAction and fails obscurely on a wrong one:
          // a SOAPAction that does not name the Body's operation is refused, saying which it should be.
          const action = String(req.headers.soapaction ?? '').trim().replace(/^"(.*)"$/, '$1');
          const expected = actionByElement.get(element);
          if (action && expected && action !== expected) {
            throw new SoapFault('InvalidRequest', `SOAPAction "${action.slice(0, 120)}" does not match the operation in the Body, ${element} (expected "${expected}")`);
          }
          const answer = await server.processRequest(body, { url: path, headers: req.headers, method: 'POST' } as any);
          if (res.headersSent) return;
          if (answer.statusCode >= 500 && !/<faultcode>/.test(answer.body)) {
            // the soap package failed in a way it does not answer as a SOAP 1.1 fault: answer one
            return sendFault(res, new SoapFault('ProcessingFailed', answer.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200), 'Server'));
          }
          res.statusCode = answer.statusCode;
          res.setHeader('Content-Type', 'text/xml; charset=utf-8');
          res.end(answer.body);
        })
        .catch((err: unknown) => {
          if (err instanceof BodyTooLarge) {
            // the rest of the body is not worth reading: answer, then close the connection
            res.setHeader('Connection', 'close');
            sendFault(res, new SoapFault('InvalidRequest', `the body is larger than ${maxBodyBytes} bytes`));
            req.resume();
            return;
          }
          const fault = err instanceof XmlRefusedError ? new SoapFault('InvalidRequest', err.message) : faultFromError(err);
          refused(fault);
          sendFault(res, fault);
        });
    },
  };
  return hosted;
}

/** Hosts a WSDL service on a path of an app's SOAP registry; close() removes it again. */
export async function hostSoapService(registry: SoapPathRegistry, options: SoapServiceOptions): Promise<HostedSoapService> {
  const service = (await createSoapService(options)) as HostedSoapService & { attach(r: SoapPathRegistry): void };
  registry.register(service);
  service.attach(registry);
  return service;
}
