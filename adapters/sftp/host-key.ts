import { createHash } from 'crypto';
import { SftpError } from './errors';

/**
 * Host key pinning. The configuration holds the server's SHA256 fingerprint as
 * `ssh-keygen -lf` prints it ("SHA256:" + unpadded base64 of the SHA-256 of the key blob),
 * so an administrator can copy it from the server or from ssh's first-connection prompt.
 */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Accepts "SHA256:abc", "abc" or "abc=" and returns "SHA256:abc"; refuses anything else. */
export function normaliseFingerprint(configured: string): string {
  const value = configured.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]{43}$/.test(value)) {
    throw new SftpError(
      'CONFIGURATION',
      `"${configured}" is not a SHA256 host key fingerprint (expected SHA256: followed by 43 base64 characters, as ssh-keygen -lf prints it)`,
    );
  }
  return `SHA256:${value}`;
}

/** The refusal for a host key that is not the pinned one (or when none is pinned). */
export function hostKeyRefusal(where: string, presented: string, pinned: string | undefined): SftpError {
  if (!pinned) {
    return new SftpError(
      'HOST_KEY_UNKNOWN',
      `SFTP server ${where} presented host key ${presented}, and no host key fingerprint is configured: refusing to connect. Configure ${presented} if this is the right server.`,
    );
  }
  return new SftpError(
    'HOST_KEY_MISMATCH',
    `SFTP server ${where} presented host key ${presented}, but the configuration pins ${pinned}: refusing to connect (the server's key changed, or this is not the right server).`,
  );
}
