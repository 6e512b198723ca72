import fs from 'fs';
import os from 'os';
import path from 'path';
import amqp from 'amqplib';
import { startHubProcess, HubProcess } from '../support/hub-process';
import Redis from 'ioredis';
import { freePort } from '../support/ports';
import { startOwnRedis, type OwnRedis } from '../support/redis-server';
import { flowsDir } from '../../hub/paths';
import { startSimulators, RunningSimulators, startEmbeddedSftp, generateSshKeyPair } from '../../simulators';
import { backOfficeEnvironment } from '../../hub/demo';
import { GazetteerRecord, toCrmAddress } from '../../simulators/addresses';
import type { Resident } from '../../simulators/population';
import { Random } from '../../simulators/random';
import type { ReconciliationReport } from '../../hub/reconcile/reconcile';
import { HubApi } from './hub-api';

/**
 * The change-of-address journey end to end, as the council runs it: the CRM simulator
 * publishes ContactAddressChanged events to RabbitMQ, a real hub process (the hub's own
 * flows) delivers them to planning and housing over SOAP and to revenues over SFTP, while
 * faults hit every part: planning down, housing failing 30 % of calls, revenues rejecting
 * rows, the SFTP server dropped, the hub killed with kill -9. Then a support officer
 * replays the dead letters through the console API, and the outcome is reconciled against
 * the simulators' own records.
 *
 * Isolation on the shared broker: the hub's flow file is copied into the run's data folder
 * and its amqp-in node gets a per-run exchange and queue (the CRM simulator publishes to
 * that exchange), so no other hub, and no other CRM simulator on crm.events, shares this
 * run's events. The copy's delivery nodes retry quickly (1-4 s, 4 attempts) so that a
 * fault's failures become dead letters within the run. Nothing else in the flow changes.
 */
export const RABBITMQ_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
const TARGETS = ['planning', 'housing', 'revenues'] as const;
type Target = (typeof TARGETS)[number];

export interface JourneyOptions {
  /** change-of-address events to raise (at least 10) */
  events: number;
  /** gazetteer size of the seeded population (default 8000) */
  properties?: number;
  /** events raised per second (default 20) */
  ratePerSecond?: number;
  seed?: string;
  /** how long planning stays down, the SFTP server stays away, the hub stays dead (ms) */
  planningDownMs?: number;
  sftpDownMs?: number;
  hubDownMs?: number;
  /** how long to wait for the hub to finish (each time), default 10 minutes */
  settleTimeoutMs?: number;
  /**
   * hub instances sharing the work (default 1). Two share a Redis journal and the CRM's queue
   * (one is killed and restarted). Three run on a Redis of the run's own (AOF, appendfsync
   * always): one is killed with kill -9 and never restarted, one is paused with SIGSTOP past
   * its lease and then resumed (it must step down; the run restarts it as a supervisor
   * would), and Redis is killed and restarted once.
   */
  instances?: 1 | 2 | 3;
  /** HUB_LEASE_SECONDS for the instances (default 3 with three instances) */
  leaseSeconds?: number;
  log?: (line: string) => void;
}

export interface OtherJourneys {
  planningEvents: number;
  /** planning events on their CRM case exactly once */
  caseUpdatesOnce: number;
  caseUpdatesMissing: string[];
  caseUpdatesTwice: string[];
  payments: number;
  postedOnce: number;
  postingsMissing: string[];
  postedTwice: string[];
}

/** Every planning event on its CRM case once; every payment of the dropped files in Finance's ledger once. */
function otherJourneys(sims: RunningSimulators, paymentFiles: Array<{ payments: Array<{ transactionRef: string }> }>): OtherJourneys {
  const seen = new Map<string, number>();
  for (const k of sims.crm.allCases()) for (const u of k.updates) seen.set(u.sourceEventId, (seen.get(u.sourceEventId) ?? 0) + 1);
  const events = sims.planning.events().map((e) => `planning:${e.applicationRef}:${e.sequence}`);
  const posted = new Map<string, number>();
  for (const p of sims.finance.ledger()) posted.set(p.journalRef, (posted.get(p.journalRef) ?? 0) + 1);
  const refs = paymentFiles.flatMap((f) => f.payments.map((p) => `PAY-${p.transactionRef}`));
  return {
    planningEvents: events.length,
    caseUpdatesOnce: events.filter((id) => seen.get(id) === 1).length,
    caseUpdatesMissing: events.filter((id) => !seen.has(id)),
    caseUpdatesTwice: events.filter((id) => (seen.get(id) ?? 0) > 1),
    payments: refs.length,
    postedOnce: refs.filter((r) => posted.get(r) === 1).length,
    postingsMissing: refs.filter((r) => !posted.has(r)),
    postedTwice: refs.filter((r) => (posted.get(r) ?? 0) > 1),
  };
}

export interface InstanceFaultFigures {
  leaseSeconds: number;
  killed: string;
  /** from the kill -9 to the takeover recorded in Redis; undefined if none came */
  takeoverMs?: number;
  paused: string;
  pausedForMs: number;
  /** the paused instance's exit code once resumed (75: it stepped down) */
  pausedExitCode: number | null;
  redisRestarts: number;
  /** instances that stepped down although nobody paused them (their lease lapsed while starved of CPU): restarted */
  unexpectedStepDowns: string[];
  /** the case-updates and payments journeys run alongside */
  otherJourneys?: OtherJourneys;
  takeovers: Array<{ instance: string; by: string; at: number; deliveries: number; messages: number }>;
}

export interface SystemConvergence {
  /** movers this system knew before they moved */
  known: number;
  /** holding the CRM's latest address */
  converged: number;
  /** waiting for a person by design (several candidates, an address the gazetteer cannot place) */
  needsPerson: Array<{ contactId: string; why: string }>;
  /** neither: the journey failed them */
  notConverged: Array<{ contactId: string; holds: string; expected: string; why: string }>;
}

export interface JourneyFigures {
  runId: string;
  seconds: number;
  events: { raised: number; journalled: number; lost: string[]; publishPending: number };
  people: { movers: number; movedMoreThanOnce: number; knownTo: Record<Target, number> };
  faults: string[];
  replay: { deadBeforeReplay: number; replayed: number; editedCopies: number; refused: number; rounds: number };
  deliveries: Record<string, Record<string, number>>;
  /** pending, in flight, failed, or dead for a reason the hub or a replay should have fixed */
  open: number;
  /** dead because Revenues refused the data itself (no date of birth, several accounts): a person's work */
  deadForPerson: number;
  convergence: Record<Target, SystemConvergence>;
  untouched: { recordsChecked: number; changedWithoutRelationship: string[] };
  appliedTwice: Record<Target, string[]>;
  /** Three instances: the takeovers, how long each took, and whether the paused one stepped down. */
  instanceFaults?: InstanceFaultFigures;
  /** CRM events journalled by each hub instance (HUB_INSTANCE_ID) */
  takenBy: Record<string, number>;
  unknownRequests: Record<Target, number>;
  reconciliation: { summary: ReconciliationReport['summary']; disagreementsWithSimulators: string[] };
}

/** The revenues rejections the run's rejectField fault causes (others are the data's: a person's work). */
const INJECTED_REJECTION = /is not accepted by revenues/;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The copy of the hub's flows this run uses (see the module comment for what changes). */
function writeRunFlows(file: string, runId: string, otherJourneys = false): { exchange: string; queue: string } {
  const flows = JSON.parse(fs.readFileSync(path.join(flowsDir, 'flows.json'), 'utf8')) as any[];
  const exchange = `${runId}.crm.events`;
  const queue = `${runId}.hub.crm.contact-address-changed`;
  for (const node of flows) {
    if (node.type === 'amqp-in' && node.z === 'coa.tab') Object.assign(node, { exchange, queue });
    if (node.type === 'delivery' && node.z === 'coa.tab') Object.assign(node, { maxAttempts: '4', initialDelay: '1', maxDelay: '4' });
    if (!otherJourneys) continue;
    // The case-updates and payments journeys run alongside, quickly (as their own e2e runs set them).
    if (node.type === 'planning-poll') Object.assign(node, { interval: 1, start: '00:00', end: '24:00', days: 'Mon,Tue,Wed,Thu,Fri,Sat,Sun', maxEvents: 50 });
    if (node.type === 'sftp-watch' && node.z === 'pay.tab') Object.assign(node, { interval: 1 });
    if (node.type === 'ledger-answers') Object.assign(node, { interval: '1' });
    if (node.type === 'ledger-batch') Object.assign(node, { maxAgeSeconds: '2', maxJournals: '2000' });
    if (node.type === 'delivery' && (node.z === 'cu.tab' || node.z === 'pay.tab')) Object.assign(node, { maxAttempts: '8', initialDelay: '0.5', maxDelay: '3' });
  }
  fs.writeFileSync(file, JSON.stringify(flows, null, 2));
  return { exchange, queue };
}

interface Move {
  contactId: string;
  home: GazetteerRecord;
  withUprn: boolean;
}

/**
 * Who moves where. People known to planning or housing are favoured (they are the
 * interesting ones); some move two to four times. At most one holder of a council tax
 * account moves: Revenues keeps one address per account and moves it with whichever
 * holder's change it takes, so two holders moving apart cannot both converge (a limit of
 * the simulated Revenues, not of the hub).
 */
function planMoves(sims: RunningSimulators, count: number, seed: string): { moves: Move[]; movers: Map<string, Resident> } {
  const random = new Random(`${seed}:e2e-moves`);
  const residents = sims.population.residents.filter((r) => r.crmContactId);
  const interesting = residents.filter((r) => r.planningPartyId || r.tenancyRef);
  const others = residents.filter((r) => !r.planningPartyId && !r.tenancyRef);
  const people = Math.max(2, Math.round(count / 1.6));
  const movers = new Map<string, Resident>();
  const accounts = new Set<string>();
  const take = (r: Resident) => {
    if (movers.has(r.crmContactId!) || (r.councilTaxAccountRef && accounts.has(r.councilTaxAccountRef))) return;
    movers.set(r.crmContactId!, r);
    if (r.councilTaxAccountRef) accounts.add(r.councilTaxAccountRef);
  };
  for (let guard = 0; movers.size < people && guard < people * 50; guard++) take(random.chance(0.55) ? random.pick(interesting) : random.pick(others));
  const ids = [...movers.keys()];
  const order: string[] = [...ids];
  while (order.length < count) {
    const id = random.pick(ids);
    if (order.filter((o) => o === id).length < 4) order.push(id);
  }
  // Shuffle, so that a person's moves are spread across the faults.
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const homes = sims.population.gazetteer.filter((g) => g.logicalStatus === 1);
  const where = new Map<string, string>();
  const moves = order.slice(0, count).map((contactId) => {
    let home = random.pick(homes);
    while (home.uprn === where.get(contactId) || home.uprn === movers.get(contactId)!.uprn) home = random.pick(homes);
    where.set(contactId, home.uprn);
    return { contactId, home, withUprn: random.chance(0.75) };
  });
  return { moves, movers };
}

/** Every record of the three systems, as JSON, by a name that says whose it is. */
function snapshot(sims: RunningSimulators): Map<string, string> {
  const records = new Map<string, string>();
  for (const party of sims.population.planningParties) records.set(`planning party ${party.partyId}`, JSON.stringify(sims.planning.getParty(party.partyId)));
  for (const tenancy of sims.population.tenancies) {
    const now = sims.housing.getTenancy(tenancy.tenancyRef)!;
    for (const tenant of now.tenants) records.set(`housing tenant ${tenancy.tenancyRef}/${tenant.personRef}`, JSON.stringify(tenant));
  }
  for (const account of sims.population.councilTaxAccounts) records.set(`revenues account ${account.accountRef}`, JSON.stringify(sims.revenues.getAccount(account.accountRef)));
  return records;
}

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Work on RabbitMQ as an administrator would (declare, check, delete), on a connection of its own. */
export async function amqpAdmin<T>(work: (channel: amqp.Channel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(RABBITMQ_URL, { clientProperties: { connection_name: `council-hub-e2e-admin-${process.pid}` } });
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return await work(channel);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export async function runChangeOfAddressJourney(options: JourneyOptions): Promise<JourneyFigures> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 'council-hub';
  const runId = `e2e-${Date.now().toString(36)}-${process.pid}`;
  log(`run ${runId}`);
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const faults: string[] = [];
  const fault = (what: string) => {
    faults.push(`${at()} ${what}`);
    log(`  [${at()}] ${what}`);
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-e2e-'));
  const { exchange, queue } = writeRunFlows(path.join(dataDir, 'flows.json'), runId, (options.instances ?? 1) === 3);
  let sims: RunningSimulators | undefined;
  let sftp: Awaited<ReturnType<typeof startEmbeddedSftp>> | undefined;
  let hub: HubProcess | undefined;
  const others: HubProcess[] = [];
  const instances = options.instances ?? 1;
  const leaseSeconds = options.leaseSeconds ?? 3;
  let ownRedis: OwnRedis | undefined;
  let finishing = false;
  let pausedHub: HubProcess | undefined;
  let instanceFaults: InstanceFaultFigures | undefined;
  let keepLogs = () => undefined as void;
  try {
    if (instances === 3) ownRedis = await startOwnRedis({ appendonly: 'yes', appendfsync: 'always' });
    const journalRedisUrl = ownRedis?.url ?? REDIS_URL;
    sims = await startSimulators({ rabbitmqUrl: RABBITMQ_URL, crmExchange: exchange, sftp: false, seed, properties: options.properties ?? 8000, pollMs: 500, retryMs: 1000, dataDir: path.join(dataDir, 'simulators') });
    const hostKey = generateSshKeyPair('council-hub-e2e-host');
    const sftpLogin = { root: sims.sftpRoot, host: '127.0.0.1', port: await freePort(), username: 'council', password: `e2e-${runId}`, hostKey: hostKey.privateKey };
    sftp = await startEmbeddedSftp(sftpLogin);
    const env = {
      RABBITMQ_URL,
      ...backOfficeEnvironment(sims, { host: sftp.host, port: sftp.port, username: sftp.username, password: sftpLogin.password, hostKeyFingerprint: sftp.hostKeyFingerprint }),
      // Two instances share the journal, the cross-references and the poller locks in Redis.
      ...(instances > 1 ? { HUB_STORE: 'redis', REDIS_URL: journalRedisUrl, HUB_JOURNAL_PREFIX: `${runId}:journal:`, HUB_LEASE_SECONDS: String(leaseSeconds) } : { HUB_STORE: 'sqlite' }),
      HUB_INSTANCE_ID: `${runId}-hub`,
      HUB_RETRY_POLL_MS: '250',
      HUB_RETRY_MAX_ATTEMPTS: '4',
      HUB_RETRY_INITIAL_MS: '500',
      HUB_RETRY_MAX_MS: '4000',
    };
    const hubLogs: HubProcess[] = [];
    const startHub = async (instance = 1) => {
      const own = instance === 1 ? dataDir : path.join(dataDir, `hub-${instance}`);
      fs.mkdirSync(own, { recursive: true });
      const started = await startHubProcess({
        env: instance === 1 ? env : { ...env, HUB_INSTANCE_ID: `${runId}-hub-${instance}` },
        dataDir: own,
        flowFile: path.join(dataDir, 'flows.json'),
        startTimeoutMs: 60000,
      });
      hubLogs.push(started);
      return started;
    };
    keepLogs = () => hubLogs.forEach((h, i) => fs.writeFileSync(path.join(dataDir, `hub-${i + 1}.log`), h.output()));
    hub = await startHub();
    // The second instance runs the whole time; the first is the one killed and restarted.
    // With three, the first runs the whole time (the console API is on it); the others are hit.
    if (instances > 1) others.push(await startHub(2));
    if (instances > 2) others.push(await startHub(3));
    const api = new HubApi(hub.url);
    // Three instances: the run is every instance's supervisor (as systemd or Docker would be):
    // an instance that steps down (exit 75) is started again under its name. The paused one's
    // restart is its step's own.
    const supervise = (h: HubProcess, instance: number) => {
      void h.exited.then(async (code) => {
        if (finishing || code !== 75 || h === pausedHub) return;
        instanceFaults?.unexpectedStepDowns.push(`${at()} ${instance === 1 ? `${runId}-hub` : `${runId}-hub-${instance}`}`);
        fault(`instance ${instance === 1 ? `${runId}-hub` : `${runId}-hub-${instance}`} stepped down by itself (exit 75: its lease lapsed while it was starved of CPU); started again as its supervisor would`);
        const again = await startHub(instance);
        if (instance === 1) {
          hub = again;
          api.moved(again.url);
        } else others[instance - 2] = again;
        supervise(again, instance);
      });
    };
    if (instances === 3) [hub, ...others].forEach((h, i) => supervise(h, i + 1));
    log(`hub up at ${hub.url} (data ${dataDir}); events to exchange ${exchange}, queue ${queue}`);
    // The CRM publishes without `mandatory`: wait until the hub's queue is bound, or the first events go nowhere.
    await waitFor('the hub to bind its queue', 30000, () => amqpAdmin(async (ch) => !!(await ch.checkQueue(queue)).queue).catch(() => false));

    const { moves, movers } = planMoves(sims, options.events, seed);
    const before = snapshot(sims);
    const final = new Map<string, GazetteerRecord>();
    for (const move of moves) final.set(move.contactId, move.home);
    log(`${moves.length} events for ${movers.size} people`);

    // Raise the events at a steady pace, switching faults on and off as the run goes.
    const rate = options.ratePerSecond ?? 20;
    const planningDownMs = options.planningDownMs ?? 15000;
    const sftpDownMs = options.sftpDownMs ?? 6000;
    const hubDownMs = options.hubDownMs ?? 3000;
    const background: Promise<unknown>[] = [];
    const s = sims;
    const paymentFiles: Array<{ name: string; payments: Array<{ transactionRef: string }> }> = [];
    // Three instances: one dies for good, one is paused past its lease, Redis restarts.
    const instanceSteps = (): Array<[number, () => Promise<void>]> => {
      const redisUrl = journalRedisUrl;
      const f: InstanceFaultFigures = { leaseSeconds, killed: `${runId}-hub-3`, paused: `${runId}-hub-2`, pausedForMs: leaseSeconds * 1000 * 2 + 2000, pausedExitCode: null, redisRestarts: 0, unexpectedStepDowns: [], takeovers: [] };
      instanceFaults = f;
      const others3 = (what: string) => async () => {
        const raised = sims!.planning.raiseApplicationEvents(25);
        const file = await sims!.payments.writeFile({ count: 250 });
        paymentFiles.push(file);
        fault(`${what}: planning raises ${raised.length} application events; cash receipting drops ${file.name} (${file.payments.length} payments)`);
      };
      return [
        [0.2, others3('case updates and payments alongside')],
        [0.5, others3('more case updates and payments, while instances are down')],
        [0.3, async () => {
          const dead = others[1];
          dead.child.kill('SIGKILL');
          await dead.exited;
          const killedAt = Date.now();
          fault(`instance ${f.killed} killed with kill -9, never to come back`);
          background.push(
            (async () => {
              const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
              redis.on('error', () => undefined); // Redis is restarted during the wait: the client reconnects
              try {
                await waitFor('a survivor to take over the dead instance', 120000, async () => (await redis.lrange(`${runId}:journal:takeovers`, 0, -1)).some((t) => JSON.parse(t).instance === f.killed));
                f.takeoverMs = Date.now() - killedAt;
                fault(`instance ${f.killed}'s work taken over after ${(f.takeoverMs / 1000).toFixed(1)} s`);
              } finally {
                redis.disconnect();
              }
            })(),
          );
        }],
        [0.45, async () => {
          const paused = others[0];
          pausedHub = paused;
          paused.child.kill('SIGSTOP');
          fault(`instance ${f.paused} paused with SIGSTOP for ${f.pausedForMs} ms (its lease is ${leaseSeconds} s)`);
          background.push(
            sleep(f.pausedForMs).then(async () => {
              paused.child.kill('SIGCONT');
              f.pausedExitCode = await Promise.race([paused.exited, sleep(30000).then(() => -1)]);
              fault(`instance ${f.paused} resumed: it ${f.pausedExitCode === 75 ? 'stepped down (exit 75)' : `did not step down (exit ${f.pausedExitCode})`}; restarted as its supervisor would`);
              if (f.pausedExitCode === -1) await paused.stop('SIGKILL');
              others[0] = await startHub(2);
              supervise(others[0], 2);
            }),
          );
        }],
        [0.65, async () => {
          await ownRedis!.crash();
          fault('Redis (AOF, appendfsync always) killed with kill -9');
          await sleep(1000);
          await ownRedis!.restart();
          f.redisRestarts++;
          fault('Redis restarted on its AOF');
        }],
      ];
    };
    const steps: Array<[number, () => Promise<void>]> = [
      [0.15, async () => {
        await s.planning.faults.set({ down: 'refuse' });
        fault(`planning down (connection refused) for ${planningDownMs} ms`);
        background.push(sleep(planningDownMs).then(async () => {
          await s.planning.faults.set({ down: false });
          fault('planning back');
        }));
      }],
      [0.25, async () => {
        await s.housing.faults.set({ failPercent: 30 });
        fault('housing fails 30 % of calls with ServiceUnavailable');
      }],
      [0.35, async () => {
        await s.revenues.faults.set({ rejectField: { field: 'address_line_4' } });
        fault('revenues rejects rows with an address_line_4');
      }],
      ...(instances === 3 ? instanceSteps() : []),
      // One or two instances: the first is killed with kill -9 and restarted on the same data.
      ...(instances === 3 ? [] : ([
        [0.5, async () => {
          hub!.child.kill('SIGKILL');
          await hub!.exited;
          fault(`hub killed with kill -9; restarting on the same data folder in ${hubDownMs} ms`);
          background.push(sleep(hubDownMs).then(async () => {
            hub = await startHub();
            api.moved(hub.url);
            fault(`hub restarted at ${hub.url}`);
          }));
        }],
      ] as Array<[number, () => Promise<void>]>)),
      [0.6, async () => {
        await s.revenues.faults.set({ rejectField: null });
        fault('revenues accepts every row again');
      }],
      [0.7, async () => {
        await sftp!.stop();
        fault(`SFTP server stopped (connections dropped) for ${sftpDownMs} ms`);
        background.push(sleep(sftpDownMs).then(async () => {
          sftp = await startEmbeddedSftp(sftpLogin);
          fault('SFTP server back on the same port and host key');
        }));
      }],
      [0.85, async () => {
        await s.housing.faults.set({ failPercent: 0 });
        fault('housing healthy again');
      }],
    ];
    steps.sort((a, b) => a[0] - b[0]);
    for (let i = 0; i < moves.length; i++) {
      while (steps.length && i >= steps[0][0] * moves.length) await steps.shift()![1]();
      const move = moves[i];
      await sims.crm.changeContactAddress(move.contactId, toCrmAddress(move.home, move.withUprn));
      await sleep(1000 / rate);
    }
    for (const [, step] of steps) await step();
    await Promise.all(background);
    await Promise.all(Object.values(sims.controls).map((c) => c.faults.reset()));
    fault('every fault off');

    const settleTimeout = options.settleTimeoutMs ?? 600000;
    const crm = sims.crm;
    const settle = async (what: string) => {
      // What was still missing at the last look, so a timeout says what it waited for.
      let missing = 'the hub not answering';
      await waitFor(what, settleTimeout, async () => {
        const undelivered = crm.events().filter((e) => e.status !== 'delivered');
        if (undelivered.length) {
          missing = `${undelivered.length} CRM event(s) not delivered: ${undelivered.slice(0, 5).map((e) => `${e.id} tried ${e.attempts} time(s)${e.lastError ? ` (${e.lastError})` : ''}`).join(', ')}`;
          return false;
        }
        const counts = await api.get('/counts').catch(() => undefined);
        if (!counts) return false;
        const open = ['pending', 'in-flight', 'awaiting-answer', 'failed'].reduce((n, status) => n + (counts.byStatus[status] ?? 0), 0);
        const messages = await api.get(`/messages?source=crm&limit=1`);
        missing = `${messages.total} of ${moves.length} CRM messages journalled; deliveries ${JSON.stringify(counts.byStatus)}`;
        if (open !== 0 || messages.total < moves.length) return false;
        if (instanceFaults) {
          const others = otherJourneys(sims!, paymentFiles);
          missing = `${others.caseUpdatesMissing.length} planning events not on a CRM case, ${others.postingsMissing.length} payments not in Finance's ledger`;
          return !others.caseUpdatesMissing.length && !others.postingsMissing.length;
        }
        return true;
      }, () => missing);
      // Once more after a pause: a retry may have been due just as we looked.
      await sleep(1500);
      await waitFor(what, settleTimeout, async () => {
        const counts = await api.get('/counts');
        return ['pending', 'in-flight', 'awaiting-answer', 'failed'].every((status) => !counts.byStatus[status]);
      });
      log(`  [${at()}] ${what}: ${JSON.stringify((await api.get('/counts')).byStatus)}`);
    };
    await settle('the hub to finish every delivery');

    // The support officer replays the dead letters. Revenues remembers its answer to a
    // request_id, so a rejected row goes again as an edited copy (a new request id).
    const replay = { deadBeforeReplay: 0, replayed: 0, editedCopies: 0, refused: 0, rounds: 0 };
    for (let round = 1; round <= 3; round++) {
      const dead = (await api.all('/deliveries?status=dead')).filter((d: any) => !(d.target === 'revenues' && d.lastError?.code === 'REJECTED' && !INJECTED_REJECTION.test(d.lastError?.message ?? '')));
      if (!dead.length) break;
      replay.rounds = round;
      if (round === 1) replay.deadBeforeReplay = dead.length;
      for (const d of dead) {
        // Revenues answers a repeated request id as it did before: a rejected row goes again as
        // an edited copy (a new request id). An address too long for the target's lines goes
        // again without its locality (the UPRN and postcode still place it).
        const rejected = d.target === 'revenues' && d.lastError?.code === 'REJECTED';
        if (rejected && !INJECTED_REJECTION.test(d.lastError?.message ?? '')) continue; // bad data: a person fixes the CRM record
        const tooLong = /address needs \d+ lines/.test(d.lastError?.message ?? '');
        const why = rejected ? 'edited copy: revenues answers a repeated request id as before' : tooLong ? 'edited copy without locality and town name: the address did not fit the lines' : 'dead letter';
        const body: Record<string, unknown> = { reason: `e2e: ${d.target} fault cleared, replaying (${why})` };
        if (rejected || tooLong) {
          const detail = await api.get(`/deliveries/${d.id}`);
          const payload = structuredClone(detail.delivery.resume?.msg?.payload ?? detail.message.payload);
          if (tooLong && payload?.newAddress) {
            delete payload.newAddress.locality;
            if (payload.newAddress.postTown) payload.newAddress.townName = payload.newAddress.postTown;
          }
          body.payload = payload;
        }
        const { status, body: answer } = await api.call('POST', `/deliveries/${d.id}/replay`, body);
        if (status === 202) {
          replay.replayed++;
          if (rejected || tooLong) replay.editedCopies++;
        } else {
          replay.refused++;
          log(`  replay of ${d.id} (${d.target} ${d.key}) refused: ${status} ${JSON.stringify(answer)}`);
        }
      }
      log(`  [${at()}] replay round ${round}: ${dead.length} dead letters`);
      await settle(`the replays of round ${round} to finish`);
    }

    // Reconcile against the simulators' own records.
    const figures = await collectFigures({ sims, api, moves, movers, final, before, runId, faults, replay, started });
    if (instanceFaults) {
      const redis = new Redis(journalRedisUrl);
      instanceFaults.takeovers = (await redis.lrange(`${runId}:journal:takeovers`, 0, -1)).map((t) => JSON.parse(t));
      instanceFaults.otherJourneys = otherJourneys(sims, paymentFiles);
      redis.disconnect();
      figures.instanceFaults = instanceFaults;
    }
    return figures;
  } finally {
    finishing = true;
    for (const h of [hub, ...others]) await Promise.race([h?.stop().catch(() => undefined), sleep(20000).then(() => h?.stop('SIGKILL'))]);
    // E2E_KEEP: the journal stays readable in the run's own Redis (stop it by hand).
    if (process.env.E2E_KEEP && ownRedis) log(`kept the journal in ${ownRedis.url} (prefix ${runId}:journal:)`);
    else await ownRedis?.stop().catch(() => undefined);
    if (instances === 2 && !process.env.E2E_KEEP) {
      const redis = new Redis(REDIS_URL);
      for (;;) {
        const keys = await redis.keys(`${runId}:*`);
        if (!keys.length) break;
        await redis.del(...keys.slice(0, 500));
      }
      redis.disconnect();
    }
    await sftp?.stop().catch(() => undefined);
    await sims?.stop().catch(() => undefined);
    await amqpAdmin(async (ch) => {
      for (const q of [queue, `${queue}.dead-letter`]) await ch.deleteQueue(q).catch(() => undefined);
      for (const x of [exchange, `${queue}.dead-letter`]) await ch.deleteExchange(x).catch(() => undefined);
    }).catch(() => undefined);
    if (!process.env.E2E_KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
    else {
      keepLogs();
      log(`kept ${dataDir} (hub output in hub-<n>.log)`);
    }
  }
}

/** Polls `check` every 500 ms until it says yes; fails the run after timeoutMs. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, missing?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${missing ? ` (${missing()})` : ''}`);
    await sleep(500);
  }
}

interface Collected {
  sims: RunningSimulators;
  api: HubApi;
  moves: Move[];
  movers: Map<string, Resident>;
  final: Map<string, GazetteerRecord>;
  before: Map<string, string>;
  runId: string;
  faults: string[];
  replay: JourneyFigures['replay'];
  started: number;
}

async function collectFigures(c: Collected): Promise<JourneyFigures> {
  const { sims, api, movers, final } = c;
  const deliveries = await api.all('/deliveries');
  const messages = await api.all('/messages');
  const messageById = new Map(messages.map((m: any) => [m.id, m]));
  const takenBy: Record<string, number> = {};
  for (const m of messages) if (m.source === 'crm' && !m.editedFrom) takenBy[m.instance] = (takenBy[m.instance] ?? 0) + 1;
  // An edited copy stands for the CRM event it was made from.
  const eventOf = (messageId: string): string | undefined => {
    let m: any = messageById.get(messageId);
    while (m?.editedFrom) m = messageById.get(m.editedFrom);
    return m?.sourceMessageId;
  };

  // No event lost: every event the CRM raised is in the journal.
  const raised = sims.crm.events();
  const journalled = new Set(messages.filter((m: any) => m.source === 'crm' && m.sourceMessageId).map((m: any) => m.sourceMessageId));
  const lost = raised.map((e) => e.id).filter((id) => !journalled.has(id));

  const counts: Record<string, Record<string, number>> = {};
  for (const d of deliveries) (counts[d.target] ??= {})[d.status] = (counts[d.target][d.status] ?? 0) + 1;
  const waitingForPerson = (d: any) => d.target === 'revenues' && d.lastError?.code === 'REJECTED' && !INJECTED_REJECTION.test(d.lastError?.message ?? '');
  const open = deliveries.filter((d: any) => ['pending', 'in-flight', 'awaiting-answer', 'failed'].includes(d.status) || (d.status === 'dead' && !waitingForPerson(d))).length;
  const deadForPerson = deliveries.filter((d: any) => d.status === 'dead' && waitingForPerson(d)).length;

  // Each mover, in each system that knew them: the CRM's latest address, or a person is asked.
  const latest = (target: string, key: string) =>
    deliveries.filter((d: any) => d.target === target && d.key === key && d.status !== 'superseded').sort((a: any, b: any) => b.order - a.order || b.seq - a.seq)[0];
  const addressCheck = (key: string) => deliveries.find((d: any) => d.target === 'gazetteer' && d.key === key && d.status === 'needs-attention');
  const convergence = Object.fromEntries(TARGETS.map((t) => [t, { known: 0, converged: 0, needsPerson: [], notConverged: [] } as SystemConvergence])) as Record<Target, SystemConvergence>;
  const held = (target: Target, r: Resident): string | undefined => {
    if (target === 'planning') return r.planningPartyId ? sims.planning.getParty(r.planningPartyId)?.address.uprn : undefined;
    if (target === 'housing') return r.tenancyRef ? sims.housing.getTenancy(r.tenancyRef)?.tenants.find((t) => t.personRef === r.personRef)?.correspondenceAddress?.uprn : undefined;
    return r.councilTaxAccountRef ? sims.revenues.getAccount(r.councilTaxAccountRef)?.uprn : undefined;
  };
  const knows = (target: Target, r: Resident) => (target === 'planning' ? !!r.planningPartyId : target === 'housing' ? !!(r.tenancyRef && r.personRef) : !!r.councilTaxAccountRef);
  const truth = new Map<string, boolean>();
  for (const [contactId, r] of movers) {
    for (const target of TARGETS) {
      if (!knows(target, r)) continue;
      const row = convergence[target];
      row.known++;
      const expected = final.get(contactId)!.uprn;
      const holds = held(target, r) ?? '';
      truth.set(`${contactId}/${target}`, holds === expected);
      if (holds === expected) {
        row.converged++;
        continue;
      }
      const d = latest(target, contactId);
      const attention = addressCheck(contactId);
      // Revenues refusing the data (no date of birth in the CRM, several accounts match) waits for a person.
      const refusedData = d?.target === 'revenues' && d.status === 'dead' && d.lastError?.code === 'REJECTED' && !INJECTED_REJECTION.test(d.lastError?.message ?? '');
      if (attention) row.needsPerson.push({ contactId, why: `address needs attention: ${attention.reason}` });
      else if (d?.status === 'needs-attention' || refusedData) row.needsPerson.push({ contactId, why: `${d.status}: ${d.reason ?? d.lastError?.message}` });
      else row.notConverged.push({ contactId, holds, expected, why: d ? `latest delivery ${d.status}${d.reason ? `: ${d.reason}` : ''}${d.lastError ? ` (${d.lastError.message})` : ''}` : 'no delivery' });
    }
  }

  // Nobody else touched: every record that belongs to no mover is as it was.
  const after = snapshot(sims);
  const theirs = new Set<string>();
  for (const r of movers.values()) {
    if (r.planningPartyId) theirs.add(`planning party ${r.planningPartyId}`);
    if (r.tenancyRef) theirs.add(`housing tenant ${r.tenancyRef}/${r.personRef}`);
    if (r.councilTaxAccountRef) theirs.add(`revenues account ${r.councilTaxAccountRef}`);
  }
  const changedWithoutRelationship = [...c.before].filter(([name, was]) => !theirs.has(name) && after.get(name) !== was).map(([name]) => name);

  // No change applied twice: per target, the request ids the system applied, by CRM event.
  const byKey = new Map(deliveries.map((d: any) => [`${d.target}|${d.idempotencyKey}`, d]));
  const byId = new Map(deliveries.map((d: any) => [d.id, d]));
  const appliedTwice = { planning: [], housing: [], revenues: [] } as Record<Target, string[]>;
  const unknownRequests = { planning: 0, housing: 0, revenues: 0 } as Record<Target, number>;
  const applied: Record<Target, Array<[string, boolean]>> = {
    planning: Object.entries(sims.planning.state().requests).map(([id, result]) => [id, result === 'Updated']),
    housing: Object.entries(sims.housing.state().requests).map(([id, result]) => [id, result === 'Updated']),
    revenues: sims.revenues.state().answers.map((a) => [a.request_id, a.outcome === 'ACCEPTED']),
  };
  for (const target of TARGETS) {
    const perEvent = new Map<string, number>();
    for (const [requestId, changed] of applied[target]) {
      const d: any = byKey.get(`${target}|${requestId}`) ?? byId.get(requestId);
      if (!d) {
        unknownRequests[target]++;
        continue;
      }
      const event = eventOf(d.messageId) ?? d.messageId;
      if (changed) perEvent.set(event, (perEvent.get(event) ?? 0) + 1);
    }
    appliedTwice[target] = [...perEvent].filter(([, n]) => n > 1).map(([event, n]) => `${event} x${n}`);
  }

  // The reconciliation report (the support staff's tool) must see what the simulators hold.
  const report: ReconciliationReport = await api.reconciliation([...movers.keys()]);
  const disagreements: string[] = [];
  for (const person of report.people) {
    for (const finding of person.systems) {
      const real = truth.get(`${person.contactId}/${finding.system}`);
      if (real === undefined || finding.verdict === 'not-known') continue;
      if ((finding.verdict === 'agrees') !== real) disagreements.push(`${person.contactId}/${finding.system}: report ${finding.verdict}, simulator ${real ? 'agrees' : 'differs'}`);
    }
  }

  const perPerson = new Map<string, number>();
  for (const m of c.moves) perPerson.set(m.contactId, (perPerson.get(m.contactId) ?? 0) + 1);
  return {
    runId: c.runId,
    seconds: Math.round((Date.now() - c.started) / 1000),
    events: { raised: raised.length, journalled: raised.length - lost.length, lost, publishPending: raised.filter((e) => e.status !== 'delivered').length },
    people: {
      movers: movers.size,
      movedMoreThanOnce: [...perPerson.values()].filter((n) => n > 1).length,
      knownTo: { planning: convergence.planning.known, housing: convergence.housing.known, revenues: convergence.revenues.known },
    },
    faults: c.faults,
    replay: c.replay,
    deliveries: counts,
    open,
    deadForPerson,
    convergence,
    untouched: { recordsChecked: c.before.size - theirs.size, changedWithoutRelationship },
    appliedTwice,
    takenBy,
    unknownRequests,
    reconciliation: { summary: report.summary, disagreementsWithSimulators: disagreements },
  };
}

/** What is off, in words; empty when the journey did everything it should. */
export function problems(f: JourneyFigures): string[] {
  const out: string[] = [];
  if (f.events.lost.length) out.push(`${f.events.lost.length} CRM events are not in the journal`);
  if (f.events.publishPending) out.push(`${f.events.publishPending} CRM events were never published`);
  if (f.open) out.push(`${f.open} deliveries still pending, in flight, failed or dead`);
  for (const t of TARGETS) {
    const c = f.convergence[t];
    if (c.notConverged.length) out.push(`${t}: ${c.notConverged.length} of ${c.known} people do not hold the CRM's latest address`);
    if (f.appliedTwice[t].length) out.push(`${t}: ${f.appliedTwice[t].length} changes applied twice`);
    if (f.unknownRequests[t]) out.push(`${t}: ${f.unknownRequests[t]} requests the journal does not know`);
  }
  if (f.untouched.changedWithoutRelationship.length) out.push(`${f.untouched.changedWithoutRelationship.length} records of people with no relationship were changed`);
  const i = f.instanceFaults;
  if (i && i.takeoverMs === undefined) out.push(`nobody took over the work of ${i.killed}, killed for good`);
  const o = i?.otherJourneys;
  if (o && (o.caseUpdatesMissing.length || o.caseUpdatesTwice.length)) out.push(`case updates: ${o.caseUpdatesMissing.length} planning events missing from their CRM case, ${o.caseUpdatesTwice.length} there twice`);
  if (o && (o.postingsMissing.length || o.postedTwice.length)) out.push(`payments: ${o.postingsMissing.length} missing from Finance's ledger, ${o.postedTwice.length} posted twice`);
  if (i && i.pausedExitCode !== 75) out.push(`${i.paused}, paused past its lease, did not step down (exit ${i.pausedExitCode})`);
  if (f.reconciliation.disagreementsWithSimulators.length) out.push(`the reconciliation report disagrees with the simulators ${f.reconciliation.disagreementsWithSimulators.length} times`);
  return out;
}

/** The figures as a person reads them. */
export function describeFigures(f: JourneyFigures): string {
  const lines = [
    `change-of-address journey ${f.runId}: ${f.events.raised} events, ${f.people.movers} people (${f.people.movedMoreThanOnce} moved more than once), ${f.seconds} s`,
    `  faults: ${f.faults.length ? '' : 'none'}`,
    ...f.faults.map((x) => `    ${x}`),
    `  events: ${f.events.raised} raised, ${f.events.journalled} in the journal, ${f.events.lost.length} lost, ${f.events.publishPending} unpublished`,
    `  dead letters replayed by support: ${f.replay.deadBeforeReplay} dead after the run, ${f.replay.replayed} replayed (${f.replay.editedCopies} as edited copies), ${f.replay.refused} refused, ${f.replay.rounds} round(s)`,
    `  deliveries: ${Object.entries(f.deliveries).map(([t, s]) => `${t} ${JSON.stringify(s)}`).join('; ')}`,
    `  open at the end (pending, in flight, failed, dead): ${f.open}; dead letters left for a person (Revenues refused the data): ${f.deadForPerson}`,
    ...TARGETS.map((t) => {
      const c = f.convergence[t];
      return `  ${t}: ${c.known} movers known, ${c.converged} hold the CRM's latest address, ${c.needsPerson.length} wait for a person by design, ${c.notConverged.length} not converged; applied twice ${f.appliedTwice[t].length}; unknown requests ${f.unknownRequests[t]}`;
    }),
    `  untouched: ${f.untouched.recordsChecked} records of people with no relationship checked, ${f.untouched.changedWithoutRelationship.length} changed`,
    ...(f.instanceFaults
      ? [
          `  instances: lease ${f.instanceFaults.leaseSeconds} s; ${f.instanceFaults.killed} killed for good, taken over after ${f.instanceFaults.takeoverMs === undefined ? 'never' : `${(f.instanceFaults.takeoverMs / 1000).toFixed(1)} s`}; ${f.instanceFaults.paused} paused ${f.instanceFaults.pausedForMs} ms, exit ${f.instanceFaults.pausedExitCode} (75: stepped down); Redis restarted ${f.instanceFaults.redisRestarts} time(s); stepped down by themselves (restarted): ${f.instanceFaults.unexpectedStepDowns.length ? f.instanceFaults.unexpectedStepDowns.join(', ') : 'none'}`,
          ...(f.instanceFaults.otherJourneys
            ? [
                `  alongside: ${f.instanceFaults.otherJourneys.caseUpdatesOnce} of ${f.instanceFaults.otherJourneys.planningEvents} planning events on their CRM case once (${f.instanceFaults.otherJourneys.caseUpdatesMissing.length} missing, ${f.instanceFaults.otherJourneys.caseUpdatesTwice.length} twice); ${f.instanceFaults.otherJourneys.postedOnce} of ${f.instanceFaults.otherJourneys.payments} payments in Finance's ledger once (${f.instanceFaults.otherJourneys.postingsMissing.length} missing, ${f.instanceFaults.otherJourneys.postedTwice.length} twice)`,
              ]
            : []),
          ...f.instanceFaults.takeovers.map((t) => `    takeover: ${t.by} took ${t.instance}'s ${t.deliveries} in-flight deliveries and ${t.messages} unfinished messages`),
        ]
      : []),
    `  reconciliation report: ${f.reconciliation.summary.people} people, ${f.reconciliation.summary.peopleNotAgreeing} not agreeing; ${f.reconciliation.disagreementsWithSimulators.length} disagreements with the simulators`,
  ];
  for (const t of TARGETS) {
    for (const n of f.convergence[t].notConverged.slice(0, 10)) lines.push(`    not converged ${t} ${n.contactId}: holds ${n.holds || '-'} expected ${n.expected}; ${n.why}`);
    for (const n of f.convergence[t].needsPerson.slice(0, 5)) lines.push(`    needs a person ${t} ${n.contactId}: ${n.why}`);
  }
  for (const d of f.reconciliation.disagreementsWithSimulators.slice(0, 10)) lines.push(`    report vs simulator: ${d}`);
  for (const x of f.untouched.changedWithoutRelationship.slice(0, 10)) lines.push(`    changed without relationship: ${x}`);
  const off = problems(f);
  lines.push(off.length ? `RESULT: NOT OK\n${off.map((p) => `  - ${p}`).join('\n')}` : 'RESULT: OK');
  return lines.join('\n');
}
