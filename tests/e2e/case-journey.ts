import fs from 'fs';
import os from 'os';
import path from 'path';
import { startHubProcess, HubProcess } from '../support/hub-process';
import { freePort } from '../support/ports';
import { flowsDir } from '../../hub/paths';
import { startSimulators, RunningSimulators } from '../../simulators';
import { backOfficeEnvironment } from '../../hub/demo';
import { toCrmAddress } from '../../simulators/addresses';
import { Random } from '../../simulators/random';
import { HubApi } from './hub-api';
import { sleep, waitFor } from './journey';

/**
 * The case-updates journey end to end, as the council runs it: planning's application
 * events polled by a real hub process (the hub's own flows) in a connector session, housing
 * pushing repair statuses to the hub's RepairNotificationService, and every one of them
 * added to its CRM case, while faults hit every part: the CRM down for a while and then
 * failing 30 % of calls, planning's sessions expired mid-run, housing pushing duplicates
 * and statuses out of order, the hub killed with kill -9 while it polls. A support officer
 * replays the dead letters; then each CRM case is checked against what happened.
 *
 * Before the events, some residents known to planning or housing move (the CRM pushes the
 * change to the hub): the hub then knows whose parties and tenancies they are, and their
 * cases are created for their CRM contacts.
 *
 * The run's copy of the flows polls planning every second all day (the hub's own flows poll
 * in working hours) and retries CRM deliveries quickly (0.5-3 s, 6 attempts), so that
 * faults make dead letters within the run. Nothing else in the flow changes.
 */
export interface CaseJourneyOptions {
  /** planning application events to raise (at least 10) */
  planningEvents: number;
  /** repair statuses to push (at least 10; duplicates come on top) */
  repairStatuses: number;
  /** gazetteer size of the seeded population (default 8000) */
  properties?: number;
  /** residents known to planning or housing who move first (default 40) */
  movers?: number;
  seed?: string;
  /** how long the CRM stays down, the hub stays dead (ms) */
  crmDownMs?: number;
  hubDownMs?: number;
  /** how long to wait for the hub to finish (each time), default 10 minutes */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface CaseCheck {
  /** events the systems raised */
  raised: number;
  /** distinct events in the journal */
  journalled: number;
  lost: string[];
  /** events on their case exactly once */
  onceOnCase: number;
  missing: string[];
  /** updates on a case the systems never raised (or raised for another case) */
  unknownOnCase: string[];
  cases: number;
  createdTwice: string[];
  wrongStatus: Array<{ caseRef: string; ref: string; status?: string; expected: string }>;
  withContact: number;
  /** cases of a party or tenancy the hub knew (by a mover's change) created without that contact */
  contactMissed: string[];
}

export interface CaseJourneyFigures {
  runId: string;
  seconds: number;
  faults: string[];
  planning: CaseCheck;
  housing: CaseCheck & { duplicatesPushed: number; outOfOrder: number };
  replay: { deadBeforeReplay: number; replayed: number; refused: number; rounds: number };
  deliveries: Record<string, number>;
  /** pending, in flight, failed or dead deliveries to the CRM at the end */
  open: number;
  /** reports of the planning poller (sequence gaps, backwards) */
  pollerReports: number;
  /** a malformed NotifyRepairStatus (no jobRef, an unknown status): the hub's answer, and whether anything was stored */
  malformedRepair: { httpStatus: number; faultstring: string; stored: boolean };
  /** cases the CRM holds without a contact, and those the console lists as created without one */
  withoutContact: { onCrm: number; inConsole: number };
  reconciliation?: { summary: unknown; problems: string[] };
}


function writeRunFlows(file: string): void {
  const flows = JSON.parse(fs.readFileSync(path.join(flowsDir, 'flows.json'), 'utf8')) as any[];
  for (const node of flows) {
    if (node.type === 'planning-poll') Object.assign(node, { interval: 1, start: '00:00', end: '24:00', days: 'Mon,Tue,Wed,Thu,Fri,Sat,Sun', maxEvents: 50 });
    if (node.type === 'delivery' && node.z === 'cu.tab') Object.assign(node, { maxAttempts: '6', initialDelay: '0.5', maxDelay: '3' });
  }
  fs.writeFileSync(file, JSON.stringify(flows, null, 2));
}

const day = (offset: number) => new Date(Date.UTC(2026, 10, 1) + offset * 86400000).toISOString().slice(0, 10);

/** One repair job's statuses, dated in the order they happen. */
function jobStatuses(random: Random, jobRef: string, tenancyRef: string, personRef: string, startDay: number) {
  const statuses = [{ jobRef, tenancyRef, personRef, status: 'Raised', statusDate: day(startDay), notes: 'Reported by the tenant' } as Record<string, string>];
  if (random.chance(0.15)) return [...statuses, { jobRef, tenancyRef, personRef, status: 'Cancelled', statusDate: day(startDay + 1) }];
  statuses.push({ jobRef, tenancyRef, personRef, status: 'Scheduled', statusDate: day(startDay + 1), appointmentDate: day(startDay + 4) });
  if (random.chance(0.8)) statuses.push({ jobRef, tenancyRef, personRef, status: 'Completed', statusDate: day(startDay + 4) });
  return statuses;
}

export async function runCaseUpdatesJourney(options: CaseJourneyOptions): Promise<CaseJourneyFigures> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 'council-hub';
  const random = new Random(`${seed}:e2e-cases`);
  const runId = `e2e-cases-${Date.now().toString(36)}-${process.pid}`;
  log(`run ${runId}`);
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const faults: string[] = [];
  const fault = (what: string) => {
    faults.push(`${at()} ${what}`);
    log(`  [${at()}] ${what}`);
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-e2e-cases-'));
  writeRunFlows(path.join(dataDir, 'flows.json'));
  let sims: RunningSimulators | undefined;
  let hub: HubProcess | undefined;
  const hubLogs: HubProcess[] = [];
  try {
    // The housing and CRM simulators push to the hub: its port is chosen first, and kept over the restart.
    const port = await freePort();
    const hubUrl = `http://127.0.0.1:${port}`;
    sims = await startSimulators({ seed, properties: options.properties ?? 8000, hubUrl, retryMs: 1000, pollMs: 500, dataDir: path.join(dataDir, 'simulators') });
    const env = {
      ...backOfficeEnvironment(sims),
      HUB_STORE: 'sqlite',
      HUB_INSTANCE_ID: `${runId}-hub`,
      HUB_RETRY_POLL_MS: '250',
      HUB_RETRY_MAX_ATTEMPTS: '4',
      HUB_RETRY_INITIAL_MS: '500',
      HUB_RETRY_MAX_MS: '3000',
    };
    const startHub = async () => {
      const h = await startHubProcess({ env, dataDir, flowFile: path.join(dataDir, 'flows.json'), startTimeoutMs: 60000, port });
      hubLogs.push(h);
      return h;
    };
    hub = await startHub();
    const api = new HubApi(hub.url);
    log(`hub up at ${hub.url} (data ${dataDir})`);
    const s = sims;
    const settleTimeout = options.settleTimeoutMs ?? 600000;
    const openCount = async () => {
      const counts = await api.get('/counts');
      return ['pending', 'in-flight', 'awaiting-answer', 'failed'].reduce((n, status) => n + (counts.byStatus[status] ?? 0), 0);
    };

    // Residents known to planning or housing move first: the hub learns whose records they are.
    const residents = s.population.residents.filter((r) => r.crmContactId && (r.planningPartyId || r.tenancyRef));
    const moving = residents.slice(0, Math.min(options.movers ?? 40, residents.length));
    const homes = s.population.gazetteer.filter((g) => g.logicalStatus === 1);
    for (const r of moving) await s.crm.changeContactAddress(r.crmContactId!, toCrmAddress(random.pick(homes), true));
    // Every change stored, routed to its deliveries (a message still at the gazetteer has none yet), and settled.
    await waitFor('the movers to reach planning and housing', settleTimeout, async () => {
      if (!s.crm.events().every((e) => e.status === 'delivered')) return false;
      const changes = await api.all('/messages?source=crm');
      return changes.length >= moving.length && changes.every((m: any) => m.status === 'routed') && (await openCount()) === 0;
    });
    const counts = (await api.get('/counts')).byTarget;
    log(`  [${at()}] ${moving.length} residents moved first: ${JSON.stringify(counts)}`);

    // Repair jobs for tenancies, some of them the movers'.
    const tenancies = s.population.tenancies;
    const notices: Array<Record<string, string>> = [];
    for (let job = 1; notices.length < options.repairStatuses; job++) {
      const tenancy = job % 3 === 0 ? tenancies.find((t) => t.tenants.some((x) => moving.some((m) => m.personRef === x.personRef))) ?? random.pick(tenancies) : random.pick(tenancies);
      const tenant = tenancy.tenants[0];
      notices.push(...jobStatuses(random, `JE${String(job).padStart(6, '0')}`, tenancy.tenancyRef, tenant.personRef, job % 20));
    }
    notices.length = options.repairStatuses;
    // Out of order: the later status of some jobs is pushed first. Duplicates: some twice.
    let outOfOrder = 0;
    for (let i = 0; i + 1 < notices.length; i++) {
      if (notices[i].jobRef === notices[i + 1].jobRef && random.chance(0.2)) {
        [notices[i], notices[i + 1]] = [notices[i + 1], notices[i]];
        outOfOrder++;
        i++;
      }
    }
    let duplicatesPushed = 0;
    const pushes: Array<Record<string, string>> = [];
    for (const n of notices) {
      pushes.push(n);
      if (random.chance(0.15)) {
        pushes.push({ ...n });
        duplicatesPushed++;
      }
    }

    const planningTotal = options.planningEvents;
    const crmDownMs = options.crmDownMs ?? 10000;
    const hubDownMs = options.hubDownMs ?? 3000;
    const background: Promise<unknown>[] = [];
    const steps: Array<[number, () => Promise<void>]> = [
      [0.2, async () => {
        await s.crm.faults.set({ down: 'refuse' });
        fault(`CRM down (connection refused) for ${crmDownMs} ms`);
        background.push(sleep(crmDownMs).then(async () => {
          await s.crm.faults.set({ down: false, failPercent: 30 });
          fault('CRM back, failing 30 % of calls');
        }));
      }],
      [0.4, async () => {
        const { expired } = s.planning.actions['expire-sessions']({}) as { expired: number };
        fault(`planning's connector sessions expired (${expired})`);
      }],
      [0.55, async () => {
        // A burst for the poller to be busy with, then kill -9 while it takes it.
        s.planning.raiseApplicationEvents(Math.min(100, Math.max(1, Math.floor(planningTotal / 10))));
        await sleep(1200);
        hub!.child.kill('SIGKILL');
        await hub!.exited;
        fault(`hub killed with kill -9 while polling; restarting on the same port in ${hubDownMs} ms`);
        background.push(sleep(hubDownMs).then(async () => {
          hub = await startHub();
          api.moved(hub.url);
          fault(`hub restarted at ${hub.url}`);
        }));
      }],
      [0.8, async () => {
        await Promise.all(background); // the CRM is back (failing) and the hub restarted first
        await s.crm.faults.set({ failPercent: 0 });
        fault('CRM healthy again');
      }],
    ];
    // Raise the planning events and push the repair statuses side by side, in slices.
    const slices = 40;
    let raised = 0;
    let pushed = 0;
    for (let slice = 1; slice <= slices; slice++) {
      while (steps.length && slice / slices >= steps[0][0]) await steps.shift()![1]();
      const planningTarget = Math.round((planningTotal * slice) / slices);
      const burst = s.planning.events().length;
      const toRaise = planningTarget - raised;
      if (toRaise > 0) s.planning.raiseApplicationEvents(toRaise);
      raised += s.planning.events().length - burst;
      const repairTarget = Math.round((pushes.length * slice) / slices);
      for (; pushed < repairTarget; pushed++) await s.housing.notifyRepairStatus(pushes[pushed] as never);
      await sleep(250);
    }
    for (const [, step] of steps) await step();
    await Promise.all(background);
    await Promise.all(Object.values(s.controls).map((c) => c.faults.reset()));
    fault('every fault off');

    const planningEvents = s.planning.events();
    const settle = async (what: string) => {
      await waitFor(what, settleTimeout, async () => {
        if (s.housing.notifications().some((n) => n.status !== 'delivered')) return false;
        const journalled = await api.get(`/messages?source=planning&limit=1`);
        if (journalled.total < planningEvents.length) return false;
        return (await openCount()) === 0;
      });
      await sleep(1500);
      await waitFor(what, settleTimeout, async () => (await openCount()) === 0);
      log(`  [${at()}] ${what}: ${JSON.stringify((await api.get('/counts')).byStatus)}`);
    };
    await settle('the hub to put every event on its case');

    // The support officer replays the dead letters (the CRM's faults spent some retries).
    const replay = { deadBeforeReplay: 0, replayed: 0, refused: 0, rounds: 0 };
    for (let round = 1; round <= 3; round++) {
      const dead = (await api.all('/deliveries?status=dead')).filter((d: any) => d.target === 'crm' || d.target === 'hub');
      if (!dead.length) break;
      replay.rounds = round;
      if (round === 1) replay.deadBeforeReplay = dead.length;
      for (const d of dead) {
        const { status, body } = await api.call('POST', `/deliveries/${d.id}/replay`, { reason: 'e2e: the CRM is back, replaying the dead letter' });
        if (status === 202) replay.replayed++;
        else {
          replay.refused++;
          log(`  replay of ${d.id} (${d.target} ${d.key}) refused: ${status} ${JSON.stringify(body)}`);
        }
      }
      log(`  [${at()}] replay round ${round}: ${dead.length} dead letters`);
      await settle(`the replays of round ${round} to finish`);
    }

    // A malformed repair status: a SOAP fault naming the problem, and nothing stored.
    const before = (await api.get('/messages?source=housing&limit=1')).total;
    const malformed = `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:r="urn:council-hub:RepairNotificationService"><soap:Body><r:NotifyRepairStatus><r:tenancyRef>T0000001</r:tenancyRef><r:personRef>T0000001-1</r:personRef><r:status>Finished</r:status><r:statusDate>2026-11-30</r:statusDate></r:NotifyRepairStatus></soap:Body></soap:Envelope>`;
    const answer = await fetch(`${hubUrl}/soap/repair-notifications`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', SOAPAction: '"urn:council-hub:RepairNotificationService#NotifyRepairStatus"' }, body: malformed });
    const faultText = await answer.text();
    const malformedRepair = {
      httpStatus: answer.status,
      faultstring: /<faultstring>([^<]*)<\/faultstring>/.exec(faultText)?.[1] ?? faultText.slice(0, 200),
      stored: (await api.get('/messages?source=housing&limit=1')).total !== before,
    };

    const figures = await collect({ sims: s, api, runId, started, faults, replay, notices, duplicatesPushed, outOfOrder, malformedRepair, hubLog: () => hubLogs.map((h) => h.output()).join('\n') });
    return figures;
  } finally {
    await Promise.race([hub?.stop().catch(() => undefined), sleep(20000).then(() => hub?.stop('SIGKILL'))]);
    await sims?.stop().catch(() => undefined);
    if (!process.env.E2E_KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
    else {
      hubLogs.forEach((h, i) => fs.writeFileSync(path.join(dataDir, `hub-${i + 1}.log`), h.output()));
      log(`kept ${dataDir} (hub output in hub-<n>.log)`);
    }
  }
}

interface Collected {
  sims: RunningSimulators;
  api: HubApi;
  runId: string;
  started: number;
  faults: string[];
  replay: CaseJourneyFigures['replay'];
  notices: Array<Record<string, string>>;
  duplicatesPushed: number;
  outOfOrder: number;
  malformedRepair: CaseJourneyFigures['malformedRepair'];
  hubLog: () => string;
}

async function collect(c: Collected): Promise<CaseJourneyFigures> {
  const { sims, api } = c;
  const cases = sims.crm.allCases();
  const messages = await api.all('/messages');
  const deliveries = await api.all('/deliveries?target=crm');
  const byStatus: Record<string, number> = {};
  for (const d of deliveries) byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
  const open = deliveries.filter((d: any) => ['pending', 'in-flight', 'awaiting-answer', 'failed', 'dead'].includes(d.status)).length;

  // Whose parties and tenancies the hub knows: a mover's change reached that system (found them there).
  // (planning's seeded history is polled at once, before anyone moved: those cases come before the hub knew.)
  const xrefs = new Map<string, { contactId: string; since: number }>();
  for (const target of ['planning', 'housing'] as const) {
    for (const d of await api.all(`/deliveries?target=${target}&status=delivered`)) {
      const resident = sims.population.residents.find((r) => r.crmContactId === d.key);
      const known = { contactId: d.key as string, since: d.settledAt ?? d.updatedAt };
      if (target === 'planning' && resident?.planningPartyId) xrefs.set(`planning:${resident.planningPartyId}`, known);
      if (target === 'housing' && resident?.tenancyRef && resident.personRef) xrefs.set(`housing:${resident.tenancyRef}/${resident.personRef}`, known);
    }
  }

  const check = (system: 'planning' | 'housing', expected: Map<string, { ref: string; status: string; rank: number; party?: string }>): CaseCheck => {
    const journalIds = new Set(messages.filter((m: any) => m.source === system && !m.editedFrom).map((m: any) => m.sourceMessageId));
    const ours = cases.filter((k) => k.externalSystem === system);
    const perRef = new Map<string, typeof ours>();
    for (const k of ours) perRef.set(k.externalRef, [...(perRef.get(k.externalRef) ?? []), k]);
    const seen = new Map<string, number>();
    const unknownOnCase: string[] = [];
    for (const k of ours) {
      for (const u of k.updates) {
        const e = expected.get(u.sourceEventId);
        if (!e || e.ref !== k.externalRef) unknownOnCase.push(`${k.caseRef}: ${u.sourceEventId}`);
        seen.set(u.sourceEventId, (seen.get(u.sourceEventId) ?? 0) + 1);
      }
    }
    const missing = [...expected.keys()].filter((id) => !seen.has(id));
    const onceOnCase = [...expected.keys()].filter((id) => seen.get(id) === 1).length;
    const wrongStatus: CaseCheck['wrongStatus'] = [];
    let withContact = 0;
    const contactMissed: string[] = [];
    for (const [ref, list] of perRef) {
      const k = list[0];
      if (k.contactId) withContact++;
      const events = [...expected.values()].filter((e) => e.ref === ref);
      const newest = events.reduce((a, b) => (b.rank > a.rank ? b : a), events[0]);
      if (newest && k.status !== newest.status) wrongStatus.push({ caseRef: k.caseRef, ref, status: k.status, expected: newest.status });
      const party = events.find((e) => e.party)?.party;
      const known = party ? xrefs.get(party) : undefined;
      if (known && known.since < Date.parse(k.createdAt) && k.contactId !== known.contactId) {
        contactMissed.push(`${k.caseRef} (${ref}): ${party} was known as ${known.contactId}'s when the case was created, the case has ${k.contactId ?? 'no contact'}`);
      }
    }
    return {
      raised: expected.size,
      journalled: [...expected.keys()].filter((id) => journalIds.has(system === 'planning' ? id.split(':').pop() : id.replace(/^housing:/, '').split(':').slice(0, 3).join(':'))).length,
      lost: [...expected.keys()].filter((id) => !journalIds.has(system === 'planning' ? id.split(':').pop() : id.replace(/^housing:/, '').split(':').slice(0, 3).join(':'))),
      onceOnCase,
      missing,
      unknownOnCase,
      cases: perRef.size,
      createdTwice: [...perRef].filter(([, list]) => list.length > 1).map(([ref, list]) => `${ref}: ${list.map((k) => k.caseRef).join(', ')}`),
      wrongStatus,
      withContact,
      contactMissed,
    };
  };

  // What happened: planning's events (newest of a case = the latest date, then the highest sequence;
  // ranked by days, not ms, so that the sum stays exact in a double),
  // and the distinct repair statuses (newest = the latest status date).
  const planning = new Map<string, { ref: string; status: string; rank: number; party?: string }>();
  for (const e of sims.planning.events()) {
    planning.set(`planning:${e.applicationRef}:${e.sequence}`, { ref: e.applicationRef, status: e.status, rank: (Date.parse(e.eventDate) / 86400000) * 1e7 + e.sequence, party: e.applicantPartyId ? `planning:${e.applicantPartyId}` : undefined });
  }
  const housing = new Map<string, { ref: string; status: string; rank: number; party?: string }>();
  for (const n of c.notices) {
    const id = `housing:${n.jobRef}:${n.status}:${n.statusDate}${n.appointmentDate ? `:${n.appointmentDate}` : ''}`;
    housing.set(id, { ref: n.jobRef, status: n.status, rank: Date.parse(n.statusDate), party: `housing:${n.tenancyRef}/${n.personRef}` });
  }
  const onCrm = cases.filter((k) => !k.contactId).length;
  const inConsole = (await api.get<any>(`/deliveries?target=crm&status=delivered&q=${encodeURIComponent('created without a contact')}&limit=1`)).total;
  const pollerReports = (c.hubLog().match(/\[warn\] \[planning-poll/g) ?? []).length;
  let reconciliation: CaseJourneyFigures['reconciliation'];
  try {
    const report = await api.post<any>('/reconciliation/cases', {}, 600000);
    reconciliation = { summary: report.summary, problems: (report.cases ?? []).filter((k: any) => k.verdict && k.verdict !== 'agrees').map((k: any) => `${k.system} ${k.ref}: ${k.verdict} ${(k.problems ?? []).join('; ')}`) };
  } catch (err) {
    reconciliation = { summary: undefined, problems: [`the case reconciliation could not run: ${(err as Error).message}`] };
  }
  return {
    runId: c.runId,
    seconds: Math.round((Date.now() - c.started) / 1000),
    faults: c.faults,
    planning: check('planning', planning),
    housing: { ...check('housing', housing), duplicatesPushed: c.duplicatesPushed, outOfOrder: c.outOfOrder },
    replay: c.replay,
    deliveries: byStatus,
    open,
    pollerReports,
    withoutContact: { onCrm, inConsole },
    malformedRepair: c.malformedRepair,
    reconciliation,
  };
}

/** What is off: each line a failure of the run (empty: everything is right). */
export function caseProblems(f: CaseJourneyFigures): string[] {
  const out: string[] = [];
  for (const system of ['planning', 'housing'] as const) {
    const k = f[system];
    if (k.lost.length) out.push(`${system}: ${k.lost.length} events lost (not in the journal)`);
    if (k.missing.length) out.push(`${system}: ${k.missing.length} events not on their case`);
    if (k.onceOnCase !== k.raised) out.push(`${system}: ${k.raised - k.onceOnCase} events not on their case exactly once`);
    if (k.unknownOnCase.length) out.push(`${system}: ${k.unknownOnCase.length} updates on a case that no event of it explains`);
    if (k.createdTwice.length) out.push(`${system}: ${k.createdTwice.length} cases created twice`);
    if (k.wrongStatus.length) out.push(`${system}: ${k.wrongStatus.length} cases whose status is not their newest event's`);
    if (k.contactMissed.length) out.push(`${system}: ${k.contactMissed.length} cases not linked to the contact the hub knew`);
  }
  if (f.open) out.push(`${f.open} CRM deliveries still pending, in flight, failed or dead`);
  if (f.replay.refused) out.push(`${f.replay.refused} replays refused`);
  if (f.malformedRepair.httpStatus !== 500 || !/InvalidRequest/.test(f.malformedRepair.faultstring) || f.malformedRepair.stored) out.push(`a malformed repair status was answered ${f.malformedRepair.httpStatus} "${f.malformedRepair.faultstring}"${f.malformedRepair.stored ? ', and stored' : ''}`);
  if (f.withoutContact.onCrm !== f.withoutContact.inConsole) out.push(`${f.withoutContact.onCrm} cases without a contact on the CRM, ${f.withoutContact.inConsole} shown in the console`);
  if (f.reconciliation?.problems.length) out.push(`the case reconciliation report disagrees on ${f.reconciliation.problems.length} cases`);
  return out;
}

export function describeCaseFigures(f: CaseJourneyFigures): string {
  const line = (system: 'planning' | 'housing') => {
    const k = f[system];
    return `  ${system}: ${k.raised} events raised, ${k.journalled} in the journal, ${k.onceOnCase} on their case exactly once, ${k.missing.length} missing, ${k.unknownOnCase.length} unexplained; ${k.cases} cases (${k.withContact} with a contact), ${k.createdTwice.length} created twice, ${k.wrongStatus.length} with a status not their newest event's`;
  };
  const out = [
    `case-updates journey ${f.runId}: ${f.seconds} s`,
    '  faults:',
    ...f.faults.map((x) => `    ${x}`),
    line('planning'),
    line('housing'),
    `  housing pushed ${f.housing.duplicatesPushed} duplicates and ${f.housing.outOfOrder} statuses out of order`,
    `  a malformed repair status: HTTP ${f.malformedRepair.httpStatus}, "${f.malformedRepair.faultstring}", stored: ${f.malformedRepair.stored}`,
    `  cases without a contact: ${f.withoutContact.onCrm} on the CRM, ${f.withoutContact.inConsole} listed in the console`,
    `  CRM deliveries: ${JSON.stringify(f.deliveries)}; open at the end: ${f.open}; poller reports (gaps, backwards): ${f.pollerReports}`,
    `  dead letters replayed by support: ${f.replay.deadBeforeReplay} dead after the run, ${f.replay.replayed} replayed, ${f.replay.refused} refused, ${f.replay.rounds} round(s)`,
    `  reconciliation report: ${f.reconciliation?.summary ? JSON.stringify(f.reconciliation.summary, (k, v) => (Array.isArray(v) && v.length > 5 ? `${v.length} items` : v)) : 'not run'}`,
  ];
  for (const system of ['planning', 'housing'] as const) {
    const k = f[system];
    for (const x of [...k.lost.slice(0, 5).map((l) => `lost ${l}`), ...k.missing.slice(0, 5).map((m) => `missing ${m}`), ...k.unknownOnCase.slice(0, 5), ...k.createdTwice.slice(0, 5), ...k.wrongStatus.slice(0, 5).map((w) => `status ${w.caseRef} ${w.ref}: ${w.status}, expected ${w.expected}`), ...k.contactMissed.slice(0, 5)]) out.push(`    ${system} ${x}`);
  }
  for (const p of f.reconciliation?.problems.slice(0, 10) ?? []) out.push(`    report: ${p}`);
  const problems = caseProblems(f);
  out.push(problems.length ? `RESULT: NOT OK\n${problems.map((p) => `  - ${p}`).join('\n')}` : 'RESULT: OK');
  return out.join('\n');
}
