import fs from 'fs';
import os from 'os';
import path from 'path';
import { MappingLibrary } from '../../adapters/mapping';
import { journalPort } from '../../hub/composition';
import { SqliteCursors } from '../../hub/cursors';
import { SqlitePaymentRegister } from '../../hub/payments/register';
import { Journal } from '../../hub/journal/journal';
import { SqliteJournalStore } from '../../hub/journal/sqlite-store';
import { mappingsDir, repoRoot } from '../../hub/paths';
import { PORT_SETTING, type HubPort } from '../../hub/port';
import { hooksOf, observerFor } from '../../hub/runtime/message-observer';
import { Settlement } from '../../hub/runtime/settlement';
import { openSqlite } from '../../hub/store';
import { SqliteCrossReferences } from '../../hub/xref';

/**
 * The hub's port over real stores (a fresh SQLite file), for node tests with the test
 * helper: `helper.settings(testPort().settings)` before `helper.load(...)`.
 */
export function testPort(): { port: HubPort; journal: Journal; xref: SqliteCrossReferences; settings: Record<string, unknown>; close(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-port-'));
  const db = openSqlite(dir);
  const journal = new Journal({ store: new SqliteJournalStore(db), instance: 'test' });
  const xref = new SqliteCrossReferences(db);
  const hooks = hooksOf({});
  const register = new SqlitePaymentRegister(db);
  const port: HubPort = {
    paths: { root: repoRoot, mappings: mappingsDir },
    mappings: new MappingLibrary({ mappingsDir }),
    settlement: new Settlement(observerFor(hooks), () => Math.random().toString(16).slice(2)),
    journal: journalPort(journal),
    crossReferences: xref,
    cursors: new SqliteCursors(db),
    payments: register,
    ledgerBatches: register,
    redisPrefix: 'test:',
  };
  return {
    port,
    journal,
    xref,
    settings: { [PORT_SETTING]: port },
    close() {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh port for each test of a node-test-helper suite: given to the runtime before the
 * test loads its flow, unloaded and closed after it. `use` receives each test's port.
 */
export function eachTestPort(helper: { settings(s: Record<string, unknown>): unknown; unload(): Promise<unknown> }, use: (port: ReturnType<typeof testPort>) => void): void {
  let current: ReturnType<typeof testPort> | undefined;
  beforeEach(() => {
    current = testPort();
    helper.settings(current.settings);
    use(current);
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    current?.close();
  });
}
