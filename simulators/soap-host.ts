import fs from 'fs';
import http from 'http';
import path from 'path';
import express from 'express';
import * as soap from 'soap';
import { repoRoot } from '../hub/paths';
import { FaultSettings, FaultSwitch, SystemFault } from './faults';
import { SimulatorControl, closeServer, controlRouter } from './control';

/**
 * Hosts one simulator's SOAP service with the soap package's server on its own HTTP
 * server: the WSDL from adapters/ (its address rewritten to where it really listens) at
 * <endpoint>?wsdl, the control side at /_control, and the down and slow switches in front.
 */
export interface SoapCall {
  req: http.IncomingMessage;
  res: http.ServerResponse;
}

export type SoapOperation = (args: any, call: SoapCall) => Promise<object> | object;

export interface SoapHostOptions {
  control: SimulatorControl;
  /** path of the WSDL under the repository, e.g. adapters/crm/CrmService.wsdl */
  wsdl: string;
  /** e.g. /CrmService */
  path: string;
  host: string;
  port: number;
  operations: Record<string, SoapOperation>;
}

export interface SoapHost {
  /** http://host:port/<Service>; the WSDL is at endpoint + '?wsdl' */
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** The SOAP fault of the convention in the WSDLs: faultstring "<name>: <reason>", detail <fault><name/><reason/></fault>. */
export function soapFault(namespace: string, fault: SystemFault): { Fault: object } {
  return {
    Fault: {
      faultcode: fault.faultName === 'ServiceUnavailable' ? 'soap:Server' : 'soap:Client',
      faultstring: `${fault.faultName}: ${fault.reason}`,
      detail: { $xml: `<fault xmlns="${namespace}"><name>${fault.faultName}</name><reason>${escapeXml(fault.reason)}</reason></fault>` },
      statusCode: 500,
    },
  };
}

export function readWsdl(relativePath: string): string {
  return fs.readFileSync(path.join(repoRoot, relativePath), 'utf8');
}

export async function startSoapHost(options: SoapHostOptions): Promise<SoapHost> {
  const faults: FaultSwitch = options.control.faults;
  const source = readWsdl(options.wsdl);
  const namespace = /targetNamespace="([^"]+)"/.exec(source)![1];
  const serviceName = /<wsdl:service name="(\w+)">/.exec(source)![1];
  const portName = /<wsdl:port name="(\w+)"/.exec(source)![1];

  const app = express();
  app.disable('x-powered-by');
  app.use('/_control', controlRouter(options.control));
  app.use(options.path, (req, res, next) => {
    if (faults.settings.down === 'unavailable') {
      res.status(503).type('text/plain').send(`${options.control.system} is down (503 switched on)`);
      return;
    }
    next();
  });

  const port: Record<string, (args: any, cb: unknown, headers: unknown, req: http.IncomingMessage, res: http.ServerResponse) => Promise<object>> = {};
  for (const [name, operation] of Object.entries(options.operations)) {
    port[name] = async (args, _cb, _headers, req, res) => {
      try {
        await faults.beforeCall();
        return await operation(args ?? {}, { req, res });
      } catch (err) {
        if (err instanceof SystemFault) throw soapFault(namespace, err);
        throw err;
      }
    };
  }

  const server = http.createServer(app);
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port);
  const actualPort = (server.address() as { port: number }).port;
  const endpoint = `http://${options.host}:${actualPort}${options.path}`;
  const wsdl = source.replace(/<soap:address location="[^"]*"\s*\/>/, `<soap:address location="${endpoint}"/>`);
  const soapServer = soap.listen(app, { path: options.path, services: { [serviceName]: { [portName]: port } }, xml: wsdl, suppressStack: true });
  // Faults are the answer to a bad request, not a crash: keep the soap server's own logging quiet.
  soapServer.log = () => undefined;

  // down: 'refuse' closes the port; switching it off opens the same port again.
  const applier = async (settings: FaultSettings) => {
    const wantOpen = settings.down !== 'refuse';
    if (wantOpen && !server.listening) await listen(actualPort);
    if (!wantOpen && server.listening) await closeServer(server);
  };
  faults.addApplier(applier);

  return {
    endpoint,
    port: actualPort,
    async close() {
      faults.removeApplier(applier);
      await closeServer(server);
    },
  };
}
