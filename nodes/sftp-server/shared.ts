import type { NodeStatus } from 'node-red';
import type { SftpConnection } from '../../adapters/sftp';
import type { Node } from '../types';

/** What sftp-watch and sftp-write see of their sftp-server config node. */
export interface SftpServerNode extends Node {
  /** Undefined when the configuration is unusable; `configError` says why. */
  readonly connection?: SftpConnection;
  readonly configError?: Error;
  /** Pushes the connection's state to `user` from now on. */
  register(user: Node): void;
  deregister(user: Node): void;
}

/** The server node a user node names, or an error saying what is missing. */
export function serverOf(server: Node | null | undefined): SftpConnection {
  const node = server as SftpServerNode | null | undefined;
  if (!node) throw new Error('no sftp-server configured');
  if (!node.connection) throw node.configError ?? new Error('the sftp-server configuration is unusable');
  return node.connection;
}

export function sftpStatus(fill: NodeStatus['fill'], shape: NodeStatus['shape'], text: string): NodeStatus {
  return { fill, shape, text: text.length > 120 ? `${text.slice(0, 117)}...` : text };
}
