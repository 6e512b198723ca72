import { Readable } from 'stream';
import { writeSftpFile } from '../../adapters/sftp';
import type { Done, Node, NodeAPI, NodeDef, Send } from '../types';
import { serverOf, type SftpServerNode } from '../sftp-server/shared';

interface SftpWriteDef extends NodeDef {
  server: string;
  folder: string;
  overwrite: boolean;
}

/** The control file a message asks for: msg.control as the content, or {name, content}. */
function controlOf(control: unknown): { name?: string; content: Buffer | string } | undefined {
  if (control === undefined || control === null) return undefined;
  if (typeof control === 'string' || Buffer.isBuffer(control)) return { content: control };
  if (typeof control === 'object' && 'content' in control) {
    const { name, content } = control as { name?: unknown; content: unknown };
    if (name !== undefined && typeof name !== 'string') throw new Error('msg.control.name must be a string');
    if (typeof content === 'string' || Buffer.isBuffer(content)) return { name, content };
  }
  throw new Error('msg.control must be a string, a Buffer, or {name, content} with string or Buffer content');
}

/** Writes msg.payload to <folder>/<msg.filename> through .part + rename; done once the file has its final name. */
export = function register(RED: NodeAPI) {
  function SftpWrite(this: Node, config: SftpWriteDef) {
    RED.nodes.createNode(this, config);
    const server = RED.nodes.getNode(config.server) as SftpServerNode | null;
    server?.register?.(this);
    this.on('input', async (msg: any, send: Send, done: Done) => {
      try {
        const connection = serverOf(server);
        const content = msg.payload;
        if (!Buffer.isBuffer(content) && typeof content !== 'string' && !(content instanceof Readable)) {
          throw new Error(`msg.payload must be a string, a Buffer or a stream to be written as a file, not ${content === null ? 'null' : typeof content}`);
        }
        const result = await writeSftpFile(connection, {
          folder: (config.folder || '').trim(),
          name: msg.filename,
          content,
          overwrite: Boolean(config.overwrite),
          control: controlOf(msg.control),
        });
        msg.sftp = { folder: config.folder, name: msg.filename, path: result.path, size: result.size, controlPath: result.controlPath };
        send(msg);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      server?.deregister?.(this);
      done();
    });
  }
  RED.nodes.registerType('sftp-write', SftpWrite as any);
};
