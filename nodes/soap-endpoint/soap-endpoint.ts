import path from 'path';
import type { NodeAPI, NodeDef } from '../types';
import type { SoapEndpointNode, SoapEndpointUser } from './endpoint-node';
import { createSoapClient, type SoapClientOptions, type SoapClientState } from '../../adapters/soap';
import { hubPort } from '../port';
import { secret } from '../secrets';

interface SoapEndpointDef extends NodeDef {
  wsdl: string;
  endpoint: string;
  auth: 'none' | 'wsse' | 'session';
  passwordType: 'PasswordText' | 'PasswordDigest';
  databaseId: string;
  logonOperation: string;
  logoffOperation: string;
  timeout: number | string;
  /** Environment variables holding the username and password when no credential is set. */
  usernameEnv?: string;
  passwordEnv?: string;
}

interface SoapEndpointCredentials {
  username?: string;
  password?: string;
}

const STATE_STATUS: Record<SoapClientState, Parameters<SoapEndpointUser['status']>[0]> = {
  idle: { fill: 'grey', shape: 'ring', text: 'not connected' },
  loading: { fill: 'yellow', shape: 'ring', text: 'reading WSDL' },
  ready: { fill: 'green', shape: 'dot', text: 'ready' },
  'logged-on': { fill: 'green', shape: 'dot', text: 'logged on' },
  error: { fill: 'red', shape: 'ring', text: 'error' },
  closed: { fill: 'grey', shape: 'ring', text: 'closed' },
};

/** A relative WSDL path is taken from the hub's repository root (e.g. adapters/planning/...). */
function resolveWsdl(wsdl: string, root: string): string {
  const trimmed = wsdl.trim();
  return /^https?:\/\//i.test(trimmed) || path.isAbsolute(trimmed) ? trimmed : path.join(root, trimmed);
}

/**
 * One SOAP endpoint (WSDL, address, credentials, session logon, timeout): one client
 * shared by every soap-request node that uses it, closed (and logged off) on redeploy.
 */
export = function register(RED: NodeAPI) {
  function SoapEndpointNode(this: SoapEndpointNode, config: SoapEndpointDef) {
    RED.nodes.createNode(this, config);
    const stored = ((this as any).credentials ?? {}) as SoapEndpointCredentials;
    const env = (name: string) => RED.util.getSetting(this, name) as string | undefined;
    const credentials: SoapEndpointCredentials = {
      username: secret(stored.username, config.usernameEnv, env),
      password: secret(stored.password, config.passwordEnv, env),
    };
    const timeoutSeconds = Number(config.timeout) > 0 ? Number(config.timeout) : 30;
    const options: SoapClientOptions = {
      wsdl: resolveWsdl(config.wsdl ?? '', hubPort(RED).paths.root),
      endpoint: config.endpoint?.trim() || undefined,
      timeoutMs: timeoutSeconds * 1000,
    };
    if (config.auth === 'wsse') {
      options.wsSecurity = { username: credentials.username ?? '', password: credentials.password ?? '', passwordType: config.passwordType || 'PasswordText' };
    } else if (config.auth === 'session') {
      options.session = {
        databaseId: config.databaseId ?? '',
        userName: credentials.username ?? '',
        password: credentials.password ?? '',
        logonOperation: config.logonOperation?.trim() || undefined,
        logoffOperation: config.logoffOperation?.trim() || undefined,
      };
    }
    const users = new Set<SoapEndpointUser>();
    let lastDetail: string | undefined;
    this.client = createSoapClient(options);
    this.currentStatus = () => {
      const status = { ...STATE_STATUS[this.client.state] };
      if (this.client.state === 'error' && lastDetail) status.text = `error: ${lastDetail.slice(0, 60)}`;
      return status;
    };
    this.client.on('state', (_state: SoapClientState, detail?: string) => {
      lastDetail = detail;
      const status = this.currentStatus();
      for (const user of users) user.status(status);
    });
    this.register = (user) => {
      users.add(user);
      user.status(this.currentStatus());
    };
    this.deregister = (user) => {
      users.delete(user);
    };
    if (config.wsdl) {
      // read the WSDL now, so the status says at deploy whether it can be read; a failure is retried on the first call
      this.client.ready().catch((err: Error) => this.warn(`SOAP endpoint ${config.name || options.wsdl}: ${err.message}`));
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      this.client.close().then(done, done);
    });
  }
  RED.nodes.registerType('soap-endpoint', SoapEndpointNode as any, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });
};
