import { SftpConnection } from '../../adapters/sftp';
import type { Node, NodeAPI, NodeDef } from '../types';
import { secret } from '../secrets';
import { sftpStatus, type SftpServerNode } from './shared';

interface SftpServerDef extends NodeDef {
  host: string;
  port: string | number;
  username: string;
  hostKeyFingerprint: string;
  /** Environment variables to read a secret from when its credential is empty (flows kept in git). */
  privateKeyEnv?: string;
  passwordEnv?: string;
}

interface SftpServerCredentials {
  privateKey?: string;
  passphrase?: string;
  password?: string;
}

/**
 * Config node: one SFTP server and one connection to it, shared by every sftp-watch and
 * sftp-write using it, opened on first use, pushed as status to them all, closed on redeploy.
 */
export = function register(RED: NodeAPI) {
  function SftpServer(this: Node & { credentials?: SftpServerCredentials }, config: SftpServerDef) {
    RED.nodes.createNode(this, config);
    const node = this as unknown as SftpServerNode & { connection?: SftpConnection; configError?: Error };
    const users = new Set<Node>();
    try {
      const port = Number(config.port || 22);
      node.connection = new SftpConnection({
        host: (config.host || '').trim(),
        port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 22,
        username: (config.username || '').trim(),
        hostKeyFingerprint: (config.hostKeyFingerprint || '').trim() || undefined,
        privateKey: secret(this.credentials?.privateKey, config.privateKeyEnv, (name) => RED.util.getSetting(this, name)) || undefined,
        passphrase: this.credentials?.passphrase || undefined,
        password: secret(this.credentials?.password, config.passwordEnv, (name) => RED.util.getSetting(this, name)) || undefined,
      });
      node.connection.on('connected', () => users.forEach((user) => user.status(sftpStatus('green', 'dot', 'connected'))));
      node.connection.on('disconnected', (error?: Error) =>
        users.forEach((user) => user.status(sftpStatus('yellow', 'ring', `reconnecting: ${error?.message ?? 'connection lost'}`))),
      );
    } catch (err) {
      node.configError = err as Error;
      this.error(`SFTP server configuration: ${(err as Error).message}`);
    }
    node.register = (user: Node) => {
      users.add(user);
      if (node.configError) user.status(sftpStatus('red', 'ring', node.configError.message));
      else if (node.connection?.state === 'connected') user.status(sftpStatus('green', 'dot', 'connected'));
    };
    node.deregister = (user: Node) => {
      users.delete(user);
    };
    this.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      if (!node.connection) return done();
      node.connection.close().then(done, done);
    });
  }
  RED.nodes.registerType('sftp-server', SftpServer as any, {
    credentials: { privateKey: { type: 'password' }, passphrase: { type: 'password' }, password: { type: 'password' } },
  });
};
