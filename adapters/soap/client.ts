import { EventEmitter } from 'events';
import * as soap from 'soap';
import { HubError, permanentError } from '../errors';
import {
  SOAP_KIND_CODES,
  SoapCallError,
  faultNameOf,
  isTransientFaultName,
  isTransientHttpStatus,
  isTransientNetworkCode,
  type SoapFailureKind,
} from './errors';
import { XmlRefusedError, checkSoapXml, declaresDtd, looksLikeSoapEnvelope } from './xml-guard';
import { DATES_AS_TEXT } from './deserialize';

/**
 * The hub's SOAP client: one per endpoint configuration. It reads the WSDL once (the
 * first call waits for it; a failed read is tried again on the next call), keeps the
 * soap package's client, and turns every failure into a SoapCallError whose `transient`
 * flag the retry engine reads. Services that work in a session (the planning system's
 * LogonToConnector) are logged on by the client itself, again when the session is lost.
 */

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export interface WsSecurityOptions {
  username: string;
  password: string;
  /** PasswordText (default) or PasswordDigest. */
  passwordType?: 'PasswordText' | 'PasswordDigest';
}

/** A Uniform-style connector session: a logon operation sets a cookie every other call carries. */
export interface SessionLogonOptions {
  databaseId: string;
  userName: string;
  password: string;
  /** Default LogonToConnector; called with { databaseId, userName, password }. */
  logonOperation?: string;
  /** Default LogoffFromConnector; called on close. */
  logoffOperation?: string;
  /** Faults that mean "no live session": log on again and retry the call once. Default NotLoggedOn, SessionExpired. */
  sessionFaults?: string[];
}

export interface SoapClientOptions {
  /** WSDL file path or http(s) URL. */
  wsdl: string;
  /** Overrides the WSDL's soap:address (the same WSDL serves test, UAT and live). */
  endpoint?: string;
  /** Default per-call timeout in ms (also bounds reading the WSDL). */
  timeoutMs?: number;
  /** Responses larger than this are refused (default 10 MiB). */
  maxResponseBytes?: number;
  wsSecurity?: WsSecurityOptions;
  session?: SessionLogonOptions;
}

export interface CallOptions {
  /** This call's timeout in ms, instead of the client's. */
  timeoutMs?: number;
}

/** ready: WSDL read; logged-on: a session is live; error: the last WSDL read or logon failed. */
export type SoapClientState = 'idle' | 'loading' | 'ready' | 'logged-on' | 'error' | 'closed';

/** What the guarded HTTP client saw of one call's response (status and headers, for faults and cookies). */
interface ObservedResponse {
  status?: number;
  headers?: Record<string, unknown>;
}

/** The per-call options key under which a call passes its ObservedResponse; removed before axios sees the options. */
const OBSERVE = Symbol('council-hub.soap.observe');

/** A response the guard refused before the soap package parsed it (it becomes a SoapCallError of the same kind). */
class RefusedResponse extends HubError {
  constructor(
    readonly kind: SoapFailureKind,
    message: string,
    readonly httpStatus: number | undefined,
    transient: boolean,
  ) {
    super(SOAP_KIND_CODES[kind], message, { transient });
    this.name = 'RefusedResponse';
  }
}

/**
 * soap's HttpClient with a guard on every SOAP call's response: a response that is not a
 * SOAP envelope, is not well-formed, declares a DOCTYPE or uses a hostile name never
 * reaches the soap package's parser. WSDL downloads (no OBSERVE key) pass untouched.
 */
class GuardedHttpClient extends soap.HttpClient {
  /** soap trims everything around the Envelope (a DOCTYPE included) before the callback: look first. */
  override handleResponse(req: any, res: any, body: any) {
    if (res && typeof body === 'string' && declaresDtd(body)) res.declaresDtd = true;
    return super.handleResponse(req, res, body);
  }

  override request(rurl: string, data: any, callback: (error: any, res?: any, body?: any) => any, exheaders?: soap.IHeaders, exoptions?: soap.IExOptions) {
    const observed: ObservedResponse | undefined = exoptions?.[OBSERVE as any];
    if (!observed) return super.request(rurl, data, callback, exheaders, exoptions);
    const options = { ...exoptions };
    delete options[OBSERVE as any];
    return super.request(
      rurl,
      data,
      (err, res, body) => {
        if (err) return callback(err, res, body);
        observed.status = res?.status;
        observed.headers = res?.headers;
        if (res?.declaresDtd) {
          return callback(new RefusedResponse('hostile-response', 'response refused: it declares a DOCTYPE or ENTITY (external entities and entity expansion are refused)', res.status, false));
        }
        const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : String(body ?? '');
        if (!looksLikeSoapEnvelope(text)) {
          const status = res?.status as number | undefined;
          const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 120);
          return callback(
            new RefusedResponse(
              status !== undefined && status >= 400 ? 'http' : 'malformed-response',
              `HTTP ${status} without a SOAP envelope${snippet ? `: ${snippet}` : ''}`,
              status,
              isTransientHttpStatus(status),
            ),
          );
        }
        checkSoapXml(text).then(
          () => callback(null, res, body),
          (refused: unknown) => {
            const kind: SoapFailureKind = refused instanceof XmlRefusedError && (refused.refusal === 'hostile-name' || refused.refusal === 'doctype' || refused.refusal === 'too-deep') ? 'hostile-response' : 'malformed-response';
            callback(new RefusedResponse(kind, `response refused: ${(refused as Error).message}`, res?.status, false));
          },
        );
      },
      exheaders,
      options,
    );
  }
}

function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && '$value' in (value as object)) return textOf((value as { $value: unknown }).$value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The session cookie pairs ("name=value") of a response's Set-Cookie headers, joined for a Cookie header. */
function cookieFrom(headers: Record<string, unknown> | undefined): string | undefined {
  const setCookie = headers?.['set-cookie'];
  const lines = Array.isArray(setCookie) ? setCookie : typeof setCookie === 'string' ? [setCookie] : [];
  const pairs = lines.map((line) => String(line).split(';')[0].trim()).filter((pair) => pair.includes('='));
  return pairs.length ? pairs.join('; ') : undefined;
}

export class SoapClient extends EventEmitter {
  private readonly options: SoapClientOptions;
  private loading?: Promise<soap.Client>;
  private operationNames: string[] = [];
  private sessionCookie?: string;
  private loggingOn?: Promise<string>;
  private _state: SoapClientState = 'idle';
  private wsdlEndpoint?: string;

  constructor(options: SoapClientOptions) {
    super();
    if (!options.wsdl) throw permanentError('CONFIGURATION', 'SoapClient: a WSDL file or URL is required');
    this.options = options;
  }

  get state(): SoapClientState {
    return this._state;
  }

  /** Where calls go: the endpoint override, else the WSDL's address (known once the WSDL is read). */
  get endpoint(): string | undefined {
    return this.options.endpoint || this.wsdlEndpoint;
  }

  private setState(state: SoapClientState, detail?: string) {
    this._state = state;
    this.emit('state', state, detail);
  }

  /** Reads the WSDL (once) and resolves with the operations it offers. */
  async ready(): Promise<string[]> {
    await this.client();
    return [...this.operationNames];
  }

  private client(): Promise<soap.Client> {
    // Closed only with its endpoint node (a redeploy, a shutdown): a later try runs on the new client.
    if (this._state === 'closed') return Promise.reject(new SoapCallError('the SOAP client is closed', { kind: 'bad-request', code: 'SOAP_CLIENT_CLOSED', transient: true }));
    if (!this.loading) {
      this.setState('loading');
      this.loading = this.load().then(
        (client) => {
          this.setState('ready');
          return client;
        },
        (err: SoapCallError) => {
          this.loading = undefined; // the next call reads the WSDL again
          this.setState('error', err.message);
          throw err;
        },
      );
    }
    return this.loading;
  }

  private async load(): Promise<soap.Client> {
    const timeout = this.options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    let client: soap.Client;
    try {
      client = await soap.createClientAsync(this.options.wsdl, {
        endpoint: this.options.endpoint || undefined,
        disableCache: true, // this client is the cache; a redeploy must see a changed WSDL
        httpClient: new GuardedHttpClient(),
        customDeserializer: DATES_AS_TEXT,
        wsdl_options: { timeout },
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const status = /Code: (\d{3})/.exec(e.message ?? '')?.[1];
      const transient = isTransientNetworkCode(e.code) || isTransientHttpStatus(status ? Number(status) : undefined);
      throw new SoapCallError(`cannot read the WSDL ${this.options.wsdl}: ${(e.message ?? String(err)).split('\n')[0]}`, {
        kind: 'wsdl',
        code: e.code,
        httpStatus: status ? Number(status) : undefined,
        transient,
      });
    }
    const services = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
    const ports = Object.values((client as any).wsdl?.definitions?.services ?? {}).flatMap((service: any) => Object.values(service.ports ?? {})) as Array<{ location?: string }>;
    this.wsdlEndpoint = ports.find((port) => port.location)?.location;
    this.operationNames = [...new Set(Object.values(services).flatMap((ports) => Object.values(ports).flatMap((ops) => Object.keys(ops))))];
    if (this.options.wsSecurity) {
      const { username, password, passwordType } = this.options.wsSecurity;
      client.setSecurity(new soap.WSSecurity(username, password, { passwordType: passwordType ?? 'PasswordText', hasTimeStamp: true }));
    }
    return client;
  }

  /**
   * Calls one operation and resolves with its result (the output element's content).
   * Rejects with a SoapCallError. In a session, logs on first if needed, and when the
   * service says the session is gone, logs on again and retries the call once.
   */
  async call<T = any>(operation: string, args: object = {}, callOptions: CallOptions = {}): Promise<T> {
    const session = this.options.session;
    const logon = session?.logonOperation ?? 'LogonToConnector';
    const logoff = session?.logoffOperation ?? 'LogoffFromConnector';
    await this.operationOffered(operation);
    if (!session || operation === logon || operation === logoff) return this.invoke<T>(operation, args, callOptions);
    const sessionFaults = new Set(session.sessionFaults ?? ['NotLoggedOn', 'SessionExpired']);
    for (let attempt = 0; ; attempt++) {
      const cookie = await this.logOn();
      try {
        return await this.invoke<T>(operation, args, callOptions, { Cookie: cookie });
      } catch (err) {
        if (attempt === 0 && err instanceof SoapCallError && err.kind === 'fault' && err.faultName && sessionFaults.has(err.faultName)) {
          this.forgetSession(cookie);
          continue;
        }
        throw err;
      }
    }
  }

  /** The live session's cookie; logs on when there is none (one logon however many calls wait). */
  private logOn(): Promise<string> {
    if (this.sessionCookie) return Promise.resolve(this.sessionCookie);
    if (!this.loggingOn) {
      const session = this.options.session!;
      const logon = session.logonOperation ?? 'LogonToConnector';
      const observed: ObservedResponse = {};
      this.loggingOn = this.invoke(logon, { databaseId: session.databaseId, userName: session.userName, password: session.password }, {}, undefined, observed)
        .then(() => {
          const cookie = cookieFrom(observed.headers);
          if (!cookie) throw new SoapCallError(`${logon} answered without a session cookie`, { kind: 'malformed-response', operation: logon, endpoint: this.endpoint, httpStatus: observed.status, transient: false });
          this.sessionCookie = cookie;
          this.setState('logged-on');
          return cookie;
        })
        .catch((err: SoapCallError) => {
          this.setState('error', `logon failed: ${err.message}`);
          throw err;
        })
        .finally(() => {
          this.loggingOn = undefined;
        });
    }
    return this.loggingOn;
  }

  /** Drops a session the service no longer knows, unless another call already replaced it. */
  private forgetSession(cookie: string) {
    if (this.sessionCookie === cookie) this.sessionCookie = undefined;
  }

  /** Reads the WSDL if needed and refuses an operation it does not offer. */
  private async operationOffered(operation: string): Promise<soap.Client> {
    const client = await this.client();
    if (!this.operationNames.includes(operation)) {
      throw new SoapCallError(`operation "${operation}" is not in the WSDL (it offers ${this.operationNames.join(', ')})`, { kind: 'bad-request', operation, endpoint: this.endpoint, transient: false });
    }
    return client;
  }

  private async invoke<T>(operation: string, args: object, callOptions: CallOptions, headers?: Record<string, string>, observed: ObservedResponse = {}): Promise<T> {
    const client = await this.operationOffered(operation);
    const method = (client as any)[`${operation}Async`] as soap.SoapMethodAsync | undefined;
    if (typeof method !== 'function') {
      throw new SoapCallError(`operation "${operation}" cannot be called by name`, { kind: 'bad-request', operation, endpoint: this.endpoint, transient: false });
    }
    const timeout = callOptions.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const maxBytes = this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    let result: unknown;
    const started = Date.now();
    try {
      [result] = await method.call(client, args, { timeout, maxContentLength: maxBytes, [OBSERVE]: observed }, headers);
    } catch (err) {
      // a server that sends its headers and then stalls fails as an aborted stream, not as a timeout: the clock decides
      throw this.toCallError(err, operation, observed, Date.now() - started >= timeout);
    }
    if (result === undefined) {
      throw new SoapCallError(`${operation}: the response has no ${operation} result element`, { kind: 'malformed-response', operation, endpoint: this.endpoint, httpStatus: observed.status, transient: false });
    }
    return (result ?? {}) as T;
  }

  private toCallError(err: unknown, operation: string, observed: ObservedResponse, timedOut: boolean): SoapCallError {
    const endpoint = this.endpoint;
    if (err instanceof SoapCallError) return err;
    if (err instanceof RefusedResponse) {
      return new SoapCallError(`${operation}: ${err.message}`, { kind: err.kind, operation, endpoint, httpStatus: err.httpStatus, transient: err.transient });
    }
    const e = (err ?? {}) as { code?: string; message?: string; root?: any; response?: { status?: number } };
    const httpStatus = e.response?.status ?? observed.status;
    const fault = e.root?.Envelope?.Body?.Fault;
    if (fault) {
      // SOAP 1.1 faultcode/faultstring/detail; SOAP 1.2 Code/Reason/Detail
      const faultcode = textOf(fault.faultcode) ?? textOf(fault.Code?.Value);
      const faultstring = textOf(fault.faultstring) ?? textOf(fault.Reason?.Text) ?? '';
      const detail = fault.detail ?? fault.Detail;
      const faultName = faultNameOf(faultcode, faultstring, detail);
      return new SoapCallError(`${operation}: ${faultstring || faultcode || 'SOAP fault'}`, {
        kind: 'fault',
        operation,
        endpoint,
        faultcode,
        faultstring,
        faultName,
        detail,
        httpStatus,
        transient: isTransientFaultName(faultName),
      });
    }
    if (timedOut || e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') {
      return new SoapCallError(`${operation}: no response within the timeout (${e.message})`, { kind: 'timeout', operation, endpoint, code: e.code, transient: true });
    }
    if (isTransientNetworkCode(e.code)) {
      return new SoapCallError(`${operation}: ${e.code} (${e.message})`, { kind: 'connection', operation, endpoint, code: e.code, transient: true });
    }
    if (/maxContentLength/.test(e.message ?? '')) {
      return new SoapCallError(`${operation}: the response is larger than ${this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES} bytes`, { kind: 'malformed-response', operation, endpoint, code: e.code, transient: false });
    }
    // Anything else came either before a response (the arguments cannot be sent) or from an unreadable answer.
    const kind: SoapFailureKind = httpStatus === undefined ? 'bad-request' : 'malformed-response';
    return new SoapCallError(`${operation}: ${e.message ?? String(err)}`, { kind, operation, endpoint, code: e.code, httpStatus, transient: false });
  }

  /** Ends the session (LogoffFromConnector) if one is live, and refuses further calls. */
  async close(): Promise<void> {
    if (this._state === 'closed') return;
    const session = this.options.session;
    const cookie = this.sessionCookie ?? (await this.loggingOn?.catch(() => undefined));
    if (session && cookie) {
      try {
        await this.invoke(session.logoffOperation ?? 'LogoffFromConnector', {}, { timeoutMs: Math.min(this.options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, 5000) }, { Cookie: cookie });
      } catch {
        // the session ends by itself after its idle time; closing must not fail because the peer is gone
      }
    }
    this.sessionCookie = undefined;
    this.setState('closed');
    this.removeAllListeners();
  }
}

/** The client factory: one SoapClient per endpoint configuration, kept by whoever owns that configuration. */
export function createSoapClient(options: SoapClientOptions): SoapClient {
  return new SoapClient(options);
}
