import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import { MappingLibrary } from '../adapters/mapping';
import { Gazetteer } from '../adapters/gazetteer';
import { SharingPolicy, sharingRulesFile } from '../adapters/sharing';
import { findPerson, type LookupSystem } from '../adapters/people/lookup';
import { createSoapClient, type SoapClient } from '../adapters/soap';
import { SftpConnection } from '../adapters/sftp/connection';
import { uploadAtomically } from '../adapters/sftp/write';
import { ackFileName, buildRequestFile, parseAckFile, requestFileName, requestRow, type RevenuesRequestRow } from '../adapters/revenues/files';
import type { PersonAddressChanged } from '../adapters/canonical';
import { SqliteCrossReferences } from '../hub/xref';
import { backOfficeEnvironment } from '../hub/demo';
import { flowsDir, mappingsDir } from '../hub/paths';
import { startSimulators, type RunningSimulators } from '../simulators';
import { generateSshKeyPair, startEmbeddedSftp } from '../simulators/sftp-server';
import { DEFAULT_PLANNING_CREDENTIALS } from '../simulators/planning';
import { toCrmAddress } from '../simulators/addresses';
import { Random } from '../simulators/random';
import { startHubProcess, type HubProcess } from '../tests/support/hub-process';
import { freePort } from '../tests/support/ports';
import { HubApi } from '../tests/e2e/hub-api';
import { amqpAdmin } from '../tests/e2e/journey';
import type { Comparison, Measurement } from './harness';

/**
 * Scenarios 1 and 2: the change-of-address journey, end to end, no faults.
 *
 * 1. Through the hub (a real hub process, SQLite journal, the events from the CRM simulator
 *    over RabbitMQ) against a plain script calling the same simulators directly with the same
 *    adapters: map, resolve, share, find the person, update planning and housing over SOAP,
 *    write Revenues' request files over SFTP and wait for their acks. The script keeps nothing
 *    and recovers from nothing: it is the limit of the back office and the machine.
 * 2. The same hub journey with the journal flushed to disk on every commit (synchronous=FULL,
 *    as councils run it) against the same journal not flushed (OFF): what durability costs.
 *
 * Events per second from the first event raised to the last delivery settled (Revenues' ack
 * included). Each round moves other residents. Revenues batches close after 1 s in both (the
 * flows' 5 s is a latency choice, not a cost).
 */

const RABBITMQ_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
const CONCURRENCY = 32;
const ROWS_PER_FILE = 100;

interface Shared {
  sims: RunningSimulators;
  sftp: Awaited<ReturnType<typeof startEmbeddedSftp>>;
  sftpPassword: string;
  dir: string;
  exchange: string;
  queue: string;
  random: Random;
  /** Residents not yet moved in this run, so that every round's movers are fresh. */
  next: number;
}

function runFlows(file: string, exchange: string, queue: string): void {
  const flows = JSON.parse(fs.readFileSync(path.join(flowsDir, 'flows.json'), 'utf8')) as any[];
  // Only the change-of-address tab and the config nodes it uses: the other journeys' pollers stay out of the figure.
  const kept = flows.filter((n) => n.id === 'coa.tab' || n.z === 'coa.tab' || (n.z === undefined && n.type !== 'tab'));
  for (const node of kept) {
    if (node.type === 'amqp-in') Object.assign(node, { exchange, queue });
    if (node.type === 'revenues-batch') Object.assign(node, { maxAgeSeconds: '1' });
    // The hub keeps running through the script's rounds: its watch takes only its own acks, not the script's (ADDR_SCRIPT_...).
    // Revenues' acks looked for every 0.1 s, as the script looks for its own.
    if (node.type === 'sftp-watch') Object.assign(node, { interval: 0.1, ...(node.folder === 'revenues/ack' ? { pattern: 'ADDR_2*.ack.csv' } : {}) });
  }
  fs.writeFileSync(file, JSON.stringify(kept, null, 2));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Revenues' ack folder as a round finds it: empty. The hub's watch takes every ack file in
 * revenues/ack, so the script's acks and a file the previous hub left in processing/ would
 * be read by the next hub as acks it knows nothing about (a fresh journal each round).
 */
function clearRevenuesAcks(shared: Shared): void {
  const acks = path.join(shared.sims.sftpRoot, 'revenues', 'ack');
  const earlier = path.join(shared.dir, 'earlier-acks');
  fs.mkdirSync(earlier, { recursive: true });
  for (const folder of [acks, path.join(acks, 'processing')]) {
    if (!fs.existsSync(folder)) continue;
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      if (entry.isFile()) fs.renameSync(path.join(folder, entry.name), path.join(earlier, `${Date.now()}-${entry.name}`));
    }
  }
}

/**
 * Whether the hub's queue hears the CRM's address changes. Scenario 1's hub runs through the
 * script's rounds too: the script raises its own events with the same CRM, which the hub
 * must not take (unbound, they go nowhere, as before the hub was kept running).
 */
async function hubHears(shared: Shared, hears: boolean): Promise<void> {
  await amqpAdmin(async (ch) => {
    if (!(await ch.checkQueue(shared.queue).then(() => true, () => false))) return;
    if (hears) await ch.bindQueue(shared.queue, shared.exchange, 'contact.address.changed');
    else await ch.unbindQueue(shared.queue, shared.exchange, 'contact.address.changed');
  });
}

/** The next `count` residents the CRM knows, each to a new home. */
function movers(shared: Shared, count: number) {
  const residents = shared.sims.population.residents.filter((r) => r.crmContactId);
  const homes = shared.sims.population.gazetteer.filter((g) => g.logicalStatus === 1);
  const out: Array<{ contactId: string; address: ReturnType<typeof toCrmAddress> }> = [];
  for (let i = 0; i < count; i++) {
    const resident = residents[shared.next++ % residents.length];
    let home = shared.random.pick(homes);
    while (home.uprn === resident.uprn) home = shared.random.pick(homes);
    out.push({ contactId: resident.crmContactId!, address: toCrmAddress(home, true) });
  }
  return out;
}

async function setUpShared(): Promise<Shared> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-bench-journey-'));
  const runId = `bench-${Date.now().toString(36)}-${process.pid}`;
  const exchange = `${runId}.crm.events`;
  const queue = `${runId}.hub.crm.contact-address-changed`;
  const sims = await startSimulators({ rabbitmqUrl: RABBITMQ_URL, crmExchange: exchange, sftp: false, seed: 'bench', properties: 6000, pollMs: 250, dataDir: path.join(dir, 'simulators') });
  const sftpPassword = `bench-${runId}`;
  const sftp = await startEmbeddedSftp({ root: sims.sftpRoot, host: '127.0.0.1', port: await freePort(), username: 'council', password: sftpPassword, hostKey: generateSshKeyPair('bench-host').privateKey });
  return { sims, sftp, sftpPassword, dir, exchange, queue, random: new Random('bench:journey'), next: 0 };
}

async function tearDownShared(shared: Shared): Promise<void> {
  await shared.sftp.stop().catch(() => undefined);
  await shared.sims.stop().catch(() => undefined);
  await amqpAdmin(async (ch) => {
    for (const q of [shared.queue, `${shared.queue}.dead-letter`]) await ch.deleteQueue(q).catch(() => undefined);
    for (const x of [shared.exchange, `${shared.queue}.dead-letter`]) await ch.deleteExchange(x).catch(() => undefined);
  }).catch(() => undefined);
  fs.rmSync(shared.dir, { recursive: true, force: true });
}

interface BenchHub {
  hub: HubProcess;
  api: HubApi;
  stop(): Promise<void>;
}

/** A hub process on the change-of-address tab, bound to the run's queue; stop() takes its queue and data with it. */
async function startBenchHub(shared: Shared, synchronous: 'FULL' | 'OFF', mappingsCompiled: boolean): Promise<BenchHub> {
  const dataDir = fs.mkdtempSync(path.join(shared.dir, 'hub-'));
  runFlows(path.join(dataDir, 'flows.json'), shared.exchange, shared.queue);
  const env = {
    RABBITMQ_URL,
    ...backOfficeEnvironment(shared.sims, { host: shared.sftp.host, port: shared.sftp.port, username: shared.sftp.username, password: shared.sftpPassword, hostKeyFingerprint: shared.sftp.hostKeyFingerprint }),
    HUB_STORE: 'sqlite',
    HUB_SQLITE_SYNCHRONOUS: synchronous,
    HUB_INSTANCE_ID: `bench-hub-${process.pid}`,
    HUB_RETRY_POLL_MS: '250',
    HUB_MAPPINGS_COMPILED: mappingsCompiled ? 'on' : 'off',
  };
  let hub: HubProcess | undefined;
  const stop = async () => {
    await hub?.stop().catch(() => undefined);
    await amqpAdmin(async (ch) => {
      await ch.deleteQueue(shared.queue).catch(() => undefined);
      await ch.deleteQueue(`${shared.queue}.dead-letter`).catch(() => undefined);
    }).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    hub = await startHubProcess({ env, dataDir, flowFile: path.join(dataDir, 'flows.json'), startTimeoutMs: 60000 });
    await until('the hub to bind its queue', 30000, () => amqpAdmin(async (ch) => !!(await ch.checkQueue(shared.queue)).queue).catch(() => false), 200);
    return { hub, api: new HubApi(hub.url), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `count` moves through a running hub: from the first event raised to the last delivery settled. */
async function measureHub(shared: Shared, api: HubApi, count: number): Promise<Measurement> {
  const before = (await api.get('/messages?source=crm&limit=1')).total as number;
  await hubHears(shared, true);
  const moves = movers(shared, count);
  clearRevenuesAcks(shared);
  const started = process.hrtime.bigint();
  for (const m of moves) await shared.sims.crm.changeContactAddress(m.contactId, m.address);
  // Asked ten times a second, as the script looks for its acks: the messages until all are in, then the counts only.
  let allIn = false;
  await until('the hub to settle every delivery', 30 * 60 * 1000, async () => {
    if (!allIn) {
      const messages = await api.get(`/messages?source=crm&limit=1`).catch(() => undefined);
      if (!messages || messages.total < before + count) return false;
      allIn = true;
    }
    const counts = await api.get('/counts');
    return ['pending', 'in-flight', 'awaiting-answer', 'failed'].every((status) => !counts.byStatus[status]);
  }, 100);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { value: count / seconds, extra: { seconds: Math.round(seconds * 100) / 100 } };
}

/** One round through a hub process of its own: started before the clock, stopped after. */
async function hubRound(shared: Shared, count: number, synchronous: 'FULL' | 'OFF', mappingsCompiled = true): Promise<Measurement> {
  const running = await startBenchHub(shared, synchronous, mappingsCompiled);
  try {
    return await measureHub(shared, running.api, count);
  } finally {
    await running.stop();
  }
}

/** The same work as the hub's flow, as a plain script: no journal, no Node-RED, no retries. */
class DirectScript {
  private readonly library = new MappingLibrary({ mappingsDir });
  private readonly sharing = new SharingPolicy(sharingRulesFile(mappingsDir));
  private readonly xrefDb = new Database(':memory:');
  private readonly xref = new SqliteCrossReferences(this.xrefDb);
  private gazetteer!: Gazetteer;
  private planning!: SoapClient;
  private housing!: SoapClient;
  private sftp!: SftpConnection;
  private sequence = 0;

  constructor(private readonly shared: Shared) {}

  async open(): Promise<void> {
    this.gazetteer = new Gazetteer(this.shared.sims.gazetteerFile);
    await this.gazetteer.load();
    const endpoints = this.shared.sims.endpoints;
    this.planning = createSoapClient({
      wsdl: `${endpoints.planning}?wsdl`,
      session: { databaseId: DEFAULT_PLANNING_CREDENTIALS.databaseId, userName: DEFAULT_PLANNING_CREDENTIALS.userName, password: DEFAULT_PLANNING_CREDENTIALS.password },
    });
    this.housing = createSoapClient({ wsdl: `${endpoints.housing}?wsdl` });
    const s = this.shared.sftp;
    this.sftp = new SftpConnection({ host: s.host, port: s.port, username: s.username, password: this.shared.sftpPassword, hostKeyFingerprint: s.hostKeyFingerprint });
  }

  async close(): Promise<void> {
    await this.planning?.close?.();
    await this.housing?.close?.();
    await this.sftp?.close();
    this.xrefDb.close();
  }

  private async toSystem(system: LookupSystem, event: PersonAddressChanged): Promise<void> {
    const decision = this.sharing.decide(system, event);
    if (!decision.share) return;
    const shared = decision.event as unknown as PersonAddressChanged;
    const client = system === 'planning' ? this.planning : this.housing;
    const found = await findPerson(
      system,
      { contactId: event.person.ids!.crmContactId!, surname: shared.person?.surname ?? '', forename: shared.person?.forename, dateOfBirth: shared.person?.dateOfBirth, knownDateOfBirth: event.person.dateOfBirth, previousUprn: shared.previousAddress?.uprn ?? '' },
      { call: (operation, args) => client.call(operation, args), xref: this.xref },
    );
    if (found.outcome !== 'found') return;
    const request = await this.library.run<object>(system === 'planning' ? 'canonical-to-planning' : 'canonical-to-housing', shared, { ...found.ids, requestId: event.eventId });
    await client.call(system === 'planning' ? 'UpdatePartyAddress' : 'UpdateCorrespondenceAddress', request);
  }

  private async revenuesRow(event: PersonAddressChanged): Promise<RevenuesRequestRow | undefined> {
    const decision = this.sharing.decide('revenues', event);
    if (!decision.share) return undefined;
    return requestRow(await this.library.run<Record<string, unknown>>('canonical-to-revenues', decision.event, { requestId: event.eventId }));
  }

  /** Every event to every system, then Revenues' files written and their acks awaited. */
  async round(count: number): Promise<Measurement> {
    const moves = movers(this.shared, count);
    await hubHears(this.shared, false);
    clearRevenuesAcks(this.shared);
    const started = process.hrtime.bigint();
    const rows: RevenuesRequestRow[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < moves.length) {
          const move = moves[next++];
          const crmEvent = await this.shared.sims.crm.changeContactAddress(move.contactId, move.address);
          const event = await this.library.run<PersonAddressChanged>('crm-event-to-canonical', crmEvent);
          let resolvable = true;
          for (const key of ['previousAddress', 'newAddress'] as const) {
            const result = this.gazetteer.resolve(event[key] as never);
            if (result.status === 'enriched') (event as unknown as Record<string, unknown>)[key] = result.address;
            else resolvable = false;
          }
          if (!resolvable) continue;
          await Promise.all([this.toSystem('planning', event), this.toSystem('housing', event)]);
          const row = await this.revenuesRow(event);
          if (row) rows.push(row);
        }
      }),
    );
    const files: string[] = [];
    for (let at = 0; at < rows.length; at += ROWS_PER_FILE) {
      const name = requestFileName(new Date(), ++this.sequence).replace(/^ADDR_/, 'ADDR_SCRIPT_');
      files.push(name);
      const content = Buffer.from(buildRequestFile(rows.slice(at, at + ROWS_PER_FILE)), 'utf8');
      await this.sftp.run((sftp) => uploadAtomically(sftp, `revenues/in/${name}`, content, false));
    }
    const acks = new Set(files.map((f) => ackFileName(f)));
    await until("Revenues' acks", 10 * 60 * 1000, async () => {
      const listed = await this.sftp.run((sftp) => sftp.list('revenues/ack'));
      return [...acks].every((a) => listed.some((f) => f.name === a));
    }, 100);
    // Read like the hub reads them (a script that ignored Revenues' answers would not know what failed), then out of the way.
    let answered = 0;
    for (const ack of acks) {
      answered += parseAckFile((await this.sftp.run((sftp) => sftp.get(`revenues/ack/${ack}`))) as Buffer).length;
      await this.sftp.run(async (sftp) => {
        if (!(await sftp.exists('revenues/ack/processed'))) await sftp.mkdir('revenues/ack/processed', true);
        await sftp.rename(`revenues/ack/${ack}`, `revenues/ack/processed/${ack}`);
      });
    }
    if (answered !== rows.length) throw new Error(`bench: Revenues answered ${answered} of ${rows.length} rows`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { value: count / seconds, extra: { seconds: Math.round(seconds * 100) / 100, revenuesRows: rows.length } };
  }
}

export interface JourneyScenarios {
  journey: Comparison;
  journal: Comparison;
  /** The journey with the mappings compiled, against the same hub running them on the jsonata interpreter. */
  compiledMappings: Comparison;
  /** Starts the simulators both use; call before the comparisons, and close() after. */
  open(): Promise<void>;
  close(): Promise<void>;
}

export function journeyScenarios(quick: boolean): JourneyScenarios {
  const count = quick ? 300 : 2000;
  let shared: Shared | undefined;
  let direct: DirectScript | undefined;
  // Scenario 1's hub runs for the whole comparison, as a hub does (and as the script's process
  // does): a new process every round would measure its start-up warm-up against a warm script.
  let longRunning: Promise<BenchHub> | undefined;
  const need = () => {
    if (!shared) throw new Error('bench: journeyScenarios().open() first');
    return shared;
  };
  return {
    async open() {
      shared = await setUpShared();
      direct = new DirectScript(shared);
      await direct.open();
    },
    async close() {
      await direct?.close().catch(() => undefined);
      if (shared) await tearDownShared(shared);
    },
    journey: {
      scenario: `1. change of address, ${count} events (simulators, no faults)`,
      unit: 'events/s',
      higherIsBetter: true,
      subject: {
        label: 'hub',
        round: async () => {
          longRunning ??= startBenchHub(need(), 'FULL', true);
          return measureHub(need(), (await longRunning).api, count);
        },
      },
      reference: { label: 'direct script', round: () => direct!.round(count) },
      goal: { ratioAtLeast: 0.6, text: 'at least 0.6 of the direct script' },
      async tearDown() {
        const running = await longRunning?.catch(() => undefined);
        longRunning = undefined;
        await running?.stop();
      },
    },
    journal: {
      scenario: `2. change of address through the hub, ${count} events: journal flushed to disk, against not flushed`,
      unit: 'events/s',
      higherIsBetter: true,
      subject: { label: 'journal on disk (FULL)', round: () => hubRound(need(), count, 'FULL') },
      reference: { label: 'journal not flushed (OFF)', round: () => hubRound(need(), count, 'OFF') },
      goal: { ratioAtLeast: 0.9, text: 'journal overhead under 10% (ratio at least 0.9)' },
    },
    compiledMappings: {
      scenario: `1c. change of address through the hub, ${count} events: mappings compiled, against interpreted`,
      unit: 'events/s',
      higherIsBetter: true,
      subject: { label: 'mappings compiled', round: () => hubRound(need(), count, 'FULL', true) },
      reference: { label: 'jsonata interpreter (HUB_MAPPINGS_COMPILED=off)', round: () => hubRound(need(), count, 'FULL', false) },
    },
  };
}

