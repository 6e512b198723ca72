/** SFTP for the hub: pinned connections, watched folders with claim/settle, atomic writes. */
export { SftpConnection } from './connection';
export type { SftpEndpoint, SftpConnectionState } from './connection';
export { SftpError, SFTP_TRANSIENT, connectionError } from './errors';
export type { SftpErrorCode } from './errors';
export { hostKeyFingerprint, normaliseFingerprint } from './host-key';
export { SftpFolderWatcher, globToRegExp, PROCESSING, PROCESSED, FAILED } from './watch';
export type { SftpIncomingFile, SftpWatchOptions, SftpWatchStatus } from './watch';
export { writeSftpFile, uploadAtomically, controlFileName, checkFileName } from './write';
export type { SftpWriteRequest, SftpWriteResult, SftpContent } from './write';
