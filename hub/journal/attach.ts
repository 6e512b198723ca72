import type Database from 'better-sqlite3';
import type { HubConfig } from '../config';
import { consoleApi } from '../api/console-api';
import { reconciliationApi } from '../api/reconciliation-api';
import { consolePermissions } from '../security';
import { hubServices } from '../services';
import { FlowTracker } from '../flow-tracking/tracker';
import { openJournal } from './index';

/**
 * Wires the journal into the embedded Node-RED (called by startHub after RED.init, before
 * RED.start): opens the configured store, offers the journal to the nodes through
 * hubServices, installs the flow hooks, retry poller and recovery, and mounts the console
 * API on the admin app behind the hub's login.
 */
export function attachJournal(RED: any, config: HubConfig, sqlite: Database.Database): { stop(): Promise<void> } {
  const opened = openJournal(config, sqlite);
  const tracker = new FlowTracker(
    opened.journal,
    { hooks: RED.hooks, getNode: (id) => RED.nodes.getNode(id), events: RED.events, log: RED.log },
    { pollMs: opened.settings.pollMs, retentionMs: opened.settings.retentionMs },
  );
  hubServices.journal = opened.journal;
  hubServices.flowTracker = tracker;
  tracker.start();
  RED.httpAdmin.use(
    '/api/console',
    consoleApi(opened.journal, {
      read: RED.auth.needsPermission(consolePermissions.look),
      write: RED.auth.needsPermission(consolePermissions.act),
    }),
  );
  RED.httpAdmin.use('/api/console', reconciliationApi(RED.auth.needsPermission(consolePermissions.look)));
  return {
    async stop() {
      await tracker.stop();
      delete hubServices.journal;
      delete hubServices.flowTracker;
      await opened.close();
    },
  };
}
