import { SftpFolderWatcher, type SftpIncomingFile, type SftpWatchStatus } from '../../adapters/sftp';
import { hubPort, whenFlowsStarted } from '../port';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../types';
import { serverOf, sftpStatus, type SftpServerNode } from '../sftp-server/shared';

interface SftpWatchDef extends NodeDef {
  server: string;
  folder: string;
  pattern: string;
  /** Seconds between polls. */
  interval: string | number;
  /** Files above this many MiB come as a stream. */
  streamAboveMiB: string | number;
}

function positive(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * Takes files from a folder on an SFTP server, one message per file, and moves each to
 * processed/ once the flow has settled it (the journal stored it, or the flow finished
 * with it), or to failed/ with the reason when the flow failed it.
 */
export = function register(RED: NodeAPI) {
  function SftpWatch(this: Node, config: SftpWatchDef) {
    RED.nodes.createNode(this, config);
    const server = RED.nodes.getNode(config.server) as SftpServerNode | null;
    let watcher: SftpFolderWatcher | undefined;
    let lastError = '';
    const port = hubPort(RED);
    try {
      const connection = serverOf(server);
      server!.register(this);
      const folder = (config.folder || '').trim();
      watcher = new SftpFolderWatcher(connection, {
        folder,
        pattern: (config.pattern || '').trim() || '*',
        pollIntervalMs: positive(config.interval, 5) * 1000,
        streamThresholdBytes: positive(config.streamAboveMiB, 10) * 1024 * 1024,
        redis: port.sharedRedis,
        onFile: (file: SftpIncomingFile) =>
          new Promise<void>((resolve, reject) => {
            const msg: NodeMessage & Record<string, unknown> = {
              payload: file.content ?? file.stream,
              filename: file.name,
              sftp: { folder: file.folder, name: file.name, size: file.size, path: file.path, recovered: file.recovered },
            };
            port.settlement.await(msg, { settled: () => resolve(), failed: (error) => reject(error) });
            this.send(msg);
          }),
        onStatus: (status: SftpWatchStatus, detail?: string) => {
          if (status === 'connected') lastError = '';
          this.status(
            {
              polling: sftpStatus('blue', 'dot', 'polling'),
              connected: sftpStatus('green', 'dot', 'connected'),
              reconnecting: sftpStatus('yellow', 'ring', `reconnecting: ${detail ?? ''}`),
              standby: sftpStatus('grey', 'ring', 'standby: another hub instance polls this folder'),
              error: sftpStatus('red', 'ring', `error: ${detail ?? ''}`),
            }[status],
          );
        },
        // A server that stays down would log every poll: log each new reason once.
        onError: (error: Error) => {
          if (error.message !== lastError) this.error(error.message);
          lastError = error.message;
        },
      });
      const started = watcher;
      whenFlowsStarted(RED, this, () => started.start());
    } catch (err) {
      this.error((err as Error).message);
      this.status(sftpStatus('red', 'ring', (err as Error).message));
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      server?.deregister?.(this);
      if (!watcher) return done();
      watcher.stop().then(done, done);
    });
  }
  RED.nodes.registerType('sftp-watch', SftpWatch as any);
};
