import path from 'path';
import { Readable } from 'stream';
import type SftpClient from 'ssh2-sftp-client';
import type { SftpConnection } from './connection';
import { SftpError } from './errors';

export type SftpContent = Buffer | string | Readable;

export interface SftpWriteRequest {
  /** Remote folder, relative to the login's start directory or absolute. It must exist. */
  folder: string;
  /** File name (no folder part). */
  name: string;
  /** Strings are written as UTF-8. */
  content: SftpContent;
  /** Replace a file of the same name. Default false: an existing file is an error. */
  overwrite?: boolean;
  /** A control file written after the file is complete (e.g. Finance's .ctl). */
  control?: { content: Buffer | string; /** Default: the file's name with its extension replaced by .ctl */ name?: string };
}

export interface SftpWriteResult {
  /** Remote path of the file under its final name. */
  path: string;
  size: number;
  controlPath?: string;
}

const PART = '.part';

/** `GL_20261123_0001.csv` -> `GL_20261123_0001.ctl` */
export function controlFileName(name: string): string {
  return `${path.posix.basename(name, path.posix.extname(name))}.ctl`;
}

/** A bare file name: no folder part, no '..', not one of our .part names. */
export function checkFileName(name: unknown): string {
  if (typeof name !== 'string' || !name.trim()) throw new SftpError('INVALID_REQUEST', 'no file name given');
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..' || name.includes('\0')) {
    throw new SftpError('INVALID_REQUEST', `"${name}" is not a plain file name (no folders, no "..")`);
  }
  if (name.endsWith(PART)) throw new SftpError('INVALID_REQUEST', `"${name}" ends in ${PART}, which the hub reserves for files being uploaded`);
  return name;
}

export function remotePath(folder: string, name: string): string {
  return path.posix.join(folder, name);
}

/**
 * Uploads `content` under `<target>.part`, checks the size the server reports, and only then
 * renames it to `target`: a reader never sees a partial file under the final name, whatever
 * happens to the connection. An existing target is replaced (atomically, posix-rename) only
 * when `overwrite`; otherwise it is an error and nothing is uploaded.
 */
export async function uploadAtomically(sftp: SftpClient, target: string, content: SftpContent, overwrite: boolean): Promise<number> {
  if (!overwrite && (await sftp.exists(target))) {
    throw new SftpError('ALREADY_EXISTS', `${target} already exists on the server and overwriting is off`);
  }
  const part = `${target}${PART}`;
  let size: number;
  try {
    if (content instanceof Readable) {
      let counted = 0;
      content.on('data', (chunk: Buffer) => (counted += chunk.length));
      await sftp.put(content, part);
      size = counted;
    } else {
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      await sftp.put(bytes, part);
      size = bytes.length;
    }
    const stored = await sftp.stat(part);
    if (stored.size !== size) {
      throw new SftpError('TRANSFER_FAILED', `upload of ${target} is incomplete: ${stored.size} of ${size} bytes arrived`);
    }
    if (overwrite) {
      await sftp.posixRename(part, target).catch(async (err: Error) => {
        // A server without posix-rename@openssh.com (not OpenSSH): replace by delete and rename.
        if (!/does not support this extended request/i.test(err.message)) throw err;
        await sftp.delete(target, true);
        await sftp.rename(part, target);
      });
    } else {
      await sftp.rename(part, target).catch(async (err) => {
        if (await sftp.exists(target)) throw new SftpError('ALREADY_EXISTS', `${target} appeared on the server during the upload and overwriting is off`);
        throw err;
      });
    }
  } catch (err) {
    // Best effort: on a dropped connection the .part stays, under a name no reader takes.
    await sftp.delete(part, true).catch(() => undefined);
    throw err;
  }
  return size;
}

/** Writes a file (and its control file, after it) to a folder on the server. */
export async function writeSftpFile(connection: SftpConnection, request: SftpWriteRequest): Promise<SftpWriteResult> {
  const name = checkFileName(request.name);
  if (!request.folder) throw new SftpError('INVALID_REQUEST', 'no folder given');
  const content = request.content;
  if (!(content instanceof Readable) && !Buffer.isBuffer(content) && typeof content !== 'string') {
    throw new SftpError('INVALID_REQUEST', `the content of ${name} must be a Buffer, a string or a stream, not ${content === null ? 'null' : typeof content}`);
  }
  const control = request.control;
  const controlName = control ? checkFileName(control.name ?? controlFileName(name)) : undefined;
  if (controlName === name) throw new SftpError('INVALID_REQUEST', `the control file cannot have the same name as the file (${name})`);
  if (control && !Buffer.isBuffer(control.content) && typeof control.content !== 'string') {
    throw new SftpError('INVALID_REQUEST', `the control file content of ${name} must be a Buffer or a string`);
  }
  const target = remotePath(request.folder, name);
  return connection.run(async (sftp) => {
    if (!(await sftp.exists(request.folder))) throw new SftpError('NOT_FOUND', `folder ${request.folder} does not exist on ${connection.where}`);
    const size = await uploadAtomically(sftp, target, content, request.overwrite ?? false);
    if (!control || !controlName) return { path: target, size };
    const controlPath = remotePath(request.folder, controlName);
    await uploadAtomically(sftp, controlPath, control.content, request.overwrite ?? false);
    return { path: target, size, controlPath };
  });
}
