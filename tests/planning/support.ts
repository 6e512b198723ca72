import assert from 'assert';
import Database from 'better-sqlite3';
import { SoapClient } from '../../adapters/soap';
import { SqliteCursors } from '../../hub/cursors';
import { DEFAULT_PLANNING_CREDENTIALS, type RunningSimulators } from '../../simulators';

/** The hub's SoapClient for the planning simulator, in a connector session, as the soap-endpoint node makes it. */
export function planningClient(sims: RunningSimulators, timeoutMs = 5000): SoapClient {
  return new SoapClient({ wsdl: `${sims.endpoints.planning}?wsdl`, timeoutMs, session: { ...DEFAULT_PLANNING_CREDENTIALS } });
}

/** The hub's SQLite cursor store on a fresh in-memory database. */
export function sqliteCursors(): SqliteCursors {
  return new SqliteCursors(new Database(':memory:'));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** 1..n */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** A promise with its resolve, for holding a callback until the test lets it go. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
