import { HubError } from '../errors';

/**
 * Errors of the SFTP adapter, with a code a caller can branch on and a message a support
 * officer can act on. The raw errors of ssh2 and ssh2-sftp-client ("connect: getConnection:
 * All configured authentication methods failed") say little about which server or why.
 * Every SftpError follows the hub's error contract (adapters/errors.ts): SFTP_TRANSIENT
 * below says, per code, whether trying again later can help.
 */
export type SftpErrorCode =
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_MISMATCH'
  | 'CONNECTION_REFUSED'
  | 'AUTHENTICATION_FAILED'
  | 'CONNECTION_FAILED'
  | 'CONNECTION_LOST'
  | 'CONFIGURATION'
  | 'INVALID_REQUEST'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'TRANSFER_FAILED'
  | 'FILE_DEFERRED';

/**
 * Transient (true) or permanent (false), per code.
 * - CONNECTION_REFUSED, CONNECTION_FAILED (a timeout, a handshake cut short), CONNECTION_LOST:
 *   the server or the network was not there; the next use connects again.
 * - TRANSFER_FAILED: an operation failed on a live connection (an upload cut short, the
 *   server's I/O failing); the same write usually succeeds later.
 * - HOST_KEY_UNKNOWN, HOST_KEY_MISMATCH: the server is not the pinned one; connecting again
 *   meets the same key, and a person must decide whether to trust it.
 * - AUTHENTICATION_FAILED: the key or password is refused on every try until it is changed.
 * - CONFIGURATION, INVALID_REQUEST: the node's settings or the message (a file name, the
 *   content) are wrong.
 * - NOT_FOUND: the folder does not exist on the server: someone must create it or fix the name.
 * - ALREADY_EXISTS: the file is there and overwriting is off; a retry writes the same name.
 * - FILE_DEFERRED: a taken file's handling failed for a passing reason (the hub's store was
 *   away): it stays in processing/ and is offered again.
 */
export const SFTP_TRANSIENT: Readonly<Record<SftpErrorCode, boolean>> = {
  CONNECTION_REFUSED: true,
  CONNECTION_FAILED: true,
  CONNECTION_LOST: true,
  TRANSFER_FAILED: true,
  FILE_DEFERRED: true,
  HOST_KEY_UNKNOWN: false,
  HOST_KEY_MISMATCH: false,
  AUTHENTICATION_FAILED: false,
  CONFIGURATION: false,
  INVALID_REQUEST: false,
  NOT_FOUND: false,
  ALREADY_EXISTS: false,
};

export class SftpError extends HubError {
  declare readonly code: SftpErrorCode;

  constructor(code: SftpErrorCode, message: string, cause?: unknown) {
    super(code, message, { transient: SFTP_TRANSIENT[code], cause });
    this.name = 'SftpError';
  }
}

/** Turns a failed connection attempt into an SftpError naming the server. */
export function connectionError(where: string, err: unknown): SftpError {
  if (err instanceof SftpError) return err;
  const error = err as { code?: string; level?: string; message?: string };
  const message = String(error?.message ?? err);
  if (error?.code === 'ECONNREFUSED' || /refused connection/i.test(message)) {
    return new SftpError('CONNECTION_REFUSED', `SFTP server ${where} refused the connection (is it running, is the port right?)`, err);
  }
  if (error?.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new SftpError('AUTHENTICATION_FAILED', `SFTP login to ${where} failed: the server did not accept the key or password`, err);
  }
  return new SftpError('CONNECTION_FAILED', `SFTP connection to ${where} failed: ${message}`, err);
}
