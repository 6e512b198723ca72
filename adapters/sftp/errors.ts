/**
 * Errors of the SFTP adapter, with a code a caller can branch on and a message a support
 * officer can act on. The raw errors of ssh2 and ssh2-sftp-client ("connect: getConnection:
 * All configured authentication methods failed") say little about which server or why.
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
  | 'TRANSFER_FAILED';

export class SftpError extends Error {
  constructor(
    readonly code: SftpErrorCode,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
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
