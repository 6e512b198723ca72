import fs from 'fs';
import os from 'os';
import path from 'path';
import { startHubProcess, HubProcess } from '../support/hub-process';
import { freePort } from '../support/ports';
import { startSshd, SshdServer } from '../support/sshd';
import { flowsDir, mappingsDir } from '../../hub/paths';
import { startSimulators, RunningSimulators } from '../../simulators';
import type { PaymentFileFault, WrittenPaymentFile } from '../../simulators/payments';
import { PAYMENT_FILE_FAULTS } from '../../simulators/payments';
import { backOfficeEnvironment } from '../../hub/demo';
import { HubApi } from './hub-api';
import { sleep, waitFor } from './journey';

/**
 * The payments journey end to end, as the council runs it: the cash-receipting system drops
 * fixed-width payment files into payments/out on a real OpenSSH sshd, and GOV.UK Pay calls
 * the hub's webhook with signed events (with its retries, duplicates, refunds before their
 * payment, refunds larger than the payment, unknown types and forged signatures). A real hub
 * process posts every payment to Finance in GL files and notes it on the CRM contact, while
 * faults hit every part: Finance refuses a file, the CRM is down for a while, the SFTP
 * server restarts, the hub is killed with kill -9 while it takes a 10,000-record file. A
 * support officer replays the dead letters; then the ledger is reconciled to the penny.
 *
 * The run's copy of the flows looks at the folders every second, writes a GL file every 2 s,
 * retries quickly (0.5-3 s, 6 attempts), so that faults make dead letters within the run, and
 * lets refunds settle for 60 s (GOV.UK Pay's retries are compressed to 31 s in all).
 */
export interface PaymentJourneyOptions {
  /** payment files in all (at least 10): broken ones (one per fault the contract names) and big ones among them */
  files: number;
  /** how many of them hold `bigRecords` payments */
  bigFiles?: number;
  bigRecords?: number;
  /** GOV.UK Pay events, about (duplicates, refunds and forged ones included) */
  events: number;
  properties?: number;
  seed?: string;
  crmDownMs?: number;
  hubDownMs?: number;
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface PaymentFigures {
  runId: string;
  seconds: number;
  faults: string[];
  files: { written: number; good: number; broken: number; corrected: number; processed: number; failed: number; leftOver: string[]; payments: number };
  brokenFiles: Array<{ name: string; fault: string; rejected: boolean; reasonNamesLines: boolean; inConsole: boolean; anyPosted: boolean }>;
  online: { sent: number; payments: number; refunds: number; overRefunds: number; duplicates: number; badSignatures: number; storedEvents: number; validEvents: number; cardDetailsStored: boolean };
  ledger: {
    /** per fund, pence: what Finance's ledger holds, and what the accepted payments less refunds come to */
    byFund: Record<string, { ledger: number; expected: number }>;
    journals: number;
    expectedJournals: number;
    missing: string[];
    unexpected: string[];
    unbalanced: string[];
    /** journal_refs the hub sent again and Finance skipped (at least once, after kill -9) */
    resentSkipped: number;
    refusedFiles: number;
  };
  notes: { expected: number; once: number; missing: string[]; twice: string[]; unexpected: string[]; noContact: number };
  overRefundsWaiting: number;
  replay: { deadBeforeReplay: number; replayed: number; refused: number; rounds: number };
  deliveries: Record<string, Record<string, number>>;
  /** pending, in flight, awaiting an answer, failed or dead at the end, not counting refused files and over-refunds */
  open: number;
}

function writeRunFlows(file: string): void {
  const flows = JSON.parse(fs.readFileSync(path.join(flowsDir, 'flows.json'), 'utf8')) as any[];
  for (const node of flows) {
    if (node.z !== 'pay.tab') continue;
    if (node.type === 'sftp-watch') Object.assign(node, { interval: 1 });
    if (node.type === 'ledger-answers') Object.assign(node, { interval: '1' });
    if (node.type === 'ledger-batch') Object.assign(node, { maxAgeSeconds: '2', maxJournals: '2000' });
    if (node.type === 'delivery') Object.assign(node, { maxAttempts: '6', initialDelay: '0.5', maxDelay: '3' });
    // GOV.UK Pay's retries are compressed to 31 s in all: a refund waits 60 s, so that one created before it that had to be sent again is judged first.
    if (node.type === 'online-payment') Object.assign(node, { refundSettleSeconds: '60' });
  }
  fs.writeFileSync(file, JSON.stringify(flows, null, 2));
}

const FUNDS = JSON.parse(fs.readFileSync(path.join(mappingsDir, 'config', 'funds.json'), 'utf8')) as Record<string, { costCentre: string; incomeAccount: string; bankAccount: string }>;

export async function runPaymentJourney(options: PaymentJourneyOptions): Promise<PaymentFigures> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 'council-hub';
  const runId = `e2e-payments-${Date.now().toString(36)}-${process.pid}`;
  log(`run ${runId}`);
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const faults: string[] = [];
  const fault = (what: string) => {
    faults.push(`${at()} ${what}`);
    log(`  [${at()}] ${what}`);
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-e2e-payments-'));
  writeRunFlows(path.join(dataDir, 'flows.json'));
  let sims: RunningSimulators | undefined;
  let sshd: SshdServer | undefined;
  let hub: HubProcess | undefined;
  const hubLogs: HubProcess[] = [];
  const signingSecret = `e2e-${runId}-signing-secret`;
  try {
    const port = await freePort();
    const hubUrl = `http://127.0.0.1:${port}`;
    // GOV.UK Pay's retries compressed: 1 s, 2 s, 4 s, 8 s, 16 s instead of 1 min ... 2 days.
    sims = await startSimulators({ seed, properties: options.properties ?? 6000, hubUrl, pollMs: 500, sftp: false, dataDir: path.join(dataDir, 'simulators'), govukPay: { signingSecret, retryScheduleMs: [1000, 2000, 4000, 8000, 16000] } });
    // The back office's SFTP host is a real OpenSSH sshd serving the simulators' folder.
    sshd = await startSshd({ root: sims.sftpRoot });
    const env = {
      ...backOfficeEnvironment(sims, { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, hostKeyFingerprint: sshd.hostKeyFingerprint }),
      GOVUK_PAY_WEBHOOK_SECRET: signingSecret,
      HUB_STORE: 'sqlite',
      HUB_INSTANCE_ID: `${runId}-hub`,
      HUB_RETRY_POLL_MS: '250',
      HUB_RETRY_MAX_ATTEMPTS: '6',
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
    log(`hub up at ${hub.url} (data ${dataDir}); SFTP ${sshd.username}@${sshd.host}:${sshd.port}`);
    const s = sims;
    const pay = s.govukPay!;
    const outFolder = path.join(s.sftpRoot, 'payments', 'out');
    const settleTimeout = options.settleTimeoutMs ?? 900000;

    // The files: broken ones (each fault the contract names), big ones, and ordinary ones.
    const total = Math.max(10, options.files);
    const bigFiles = options.bigFiles ?? 3;
    const bigRecords = options.bigRecords ?? 10000;
    const brokenFaults: PaymentFileFault[] = [...PAYMENT_FILE_FAULTS];
    const plan: Array<{ fault?: PaymentFileFault; count: number }> = [];
    for (let i = 0; i < total; i++) {
      if (i >= 2 && i % 4 === 2 && ['bad-record', 'wrong-count', 'wrong-total'].includes(brokenFaults[0])) plan.push({ fault: brokenFaults.shift()!, count: 30 + i });
      else plan.push({ count: 20 + ((i * 37) % 180) });
    }
    // The big files go at the start, one before the kill, and at the end.
    const bigAt = [1, Math.floor(total * 0.6), total - 1].slice(0, bigFiles);
    for (const i of bigAt) plan[i] = { count: bigRecords };
    // A repeated transaction ref or sequence is the previous file's: that file must be a good one.
    for (const fault of brokenFaults.splice(0)) plan.push({ count: 25 }, { fault, count: 40 });
    const written: WrittenPaymentFile[] = [];
    const corrected: WrittenPaymentFile[] = [];
    const today = new Date().toISOString().slice(0, 10);
    const writeFile = async (entry: { fault?: PaymentFileFault; count: number }) => {
      // The cash office repeats a sequence under the same name: only once the hub has taken the first, or it overwrites it.
      if (entry.fault === 'repeated-sequence') await waitFor('the previous file to be taken', 120000, async () => !fs.readdirSync(outFolder).some((n) => n.startsWith('PAY_')));
      const file = await s.payments.writeFile({ date: today, count: entry.count, ...(entry.fault ? { fault: entry.fault } : {}), lineEnding: written.length % 3 === 0 ? 'CRLF' : 'LF' });
      written.push(file);
      return file;
    };

    const eventSlices = 20;
    const perSlice = Math.max(1, Math.round(options.events / eventSlices / 1.9)); // about 1.9 events per payment with these settings
    const online = { sent: 0, payments: 0, refunds: 0, overRefunds: 0, duplicates: 0, badSignatures: 0 };
    const sendEvents = async (slice: number) => {
      const summary = await pay.sendEvents({ payments: perSlice, refundPercent: 25, recordedPercent: 30, duplicatePercent: 10, outOfOrderRefundPercent: 8, overRefundPercent: 4, badSignatures: slice % 4 === 0 ? 2 : 1, unknownTypes: slice % 5 === 0 ? 1 : 0 });
      online.sent += summary.events;
      online.payments += summary.payments;
      online.refunds += summary.refunds;
      online.overRefunds += summary.overRefunds;
      online.duplicates += summary.duplicates;
      online.badSignatures += summary.badSignatures;
    };

    const crmDownMs = options.crmDownMs ?? 10000;
    const hubDownMs = options.hubDownMs ?? 3000;
    const background: Promise<unknown>[] = [];
    const killIndex = bigAt[1] ?? Math.floor(total * 0.6);
    const steps: Array<[number, () => Promise<void>]> = [
      [0.2, async () => {
        await s.finance.actions['refuse-next-files']({ count: 1, reason: 'the ledger period is closed for posting (e2e)' });
        fault("Finance refuses the next GL file (a closed period)");
      }],
      [0.3, async () => {
        await s.crm.faults.set({ down: 'refuse' });
        fault(`CRM down (connection refused) for ${crmDownMs} ms`);
        background.push(sleep(crmDownMs).then(async () => {
          await s.crm.faults.set({ down: false });
          fault('CRM back');
        }));
      }],
      [0.45, async () => {
        await sshd!.restart();
        fault('SFTP server (OpenSSH sshd) restarted: every connection dropped');
      }],
    ];

    for (let i = 0; i < plan.length; i++) {
      while (steps.length && i / plan.length >= steps[0][0]) await steps.shift()![1]();
      const file = await writeFile(plan[i]);
      if (i === killIndex) {
        // kill -9 while the hub takes this big file: as soon as it has claimed it. A file the hub
        // takes in well under a second is in processing/ only that long: looked for every 10 ms
        // (a 500 ms look missed it), and should the hub have finished it all the same, it is killed just after.
        const claimed = path.join(outFolder, 'processing', file.name);
        const done = path.join(outFolder, 'processed', file.name);
        const deadline = Date.now() + 240000;
        while (!fs.existsSync(claimed) && !fs.existsSync(done)) {
          if (Date.now() > deadline) throw new Error(`timed out after 240000 ms waiting for the hub to claim ${file.name}`);
          await sleep(10);
        }
        const during = !fs.existsSync(done);
        if (during) await sleep(20);
        hub!.child.kill('SIGKILL');
        await hub!.exited;
        fault(`hub killed with kill -9 ${during ? 'while taking' : 'just after it took'} ${file.name} (${file.payments.length} payments); restarting in ${hubDownMs} ms`);
        await sleep(hubDownMs);
        hub = await startHub();
        api.moved(hub.url);
        fault(`hub restarted at ${hub.url}`);
      }
      const slice = Math.floor(((i + 1) * eventSlices) / plan.length);
      while (online.payments < perSlice * slice) await sendEvents(slice);
      await sleep(300);
    }
    for (const [, step] of steps) await step();
    await Promise.all(background);

    // A corrected copy of each broken file whose fault was in its own content: same sequence, good records.
    for (const broken of written.filter((f) => f.fault && f.fault !== 'repeated-sequence' && f.fault !== 'repeated-transaction')) {
      await waitFor(`${broken.name} to be refused`, 120000, async () => fs.existsSync(path.join(outFolder, 'failed', `${broken.name}.reason.txt`)));
      corrected.push(await s.payments.writeFile({ date: today, sequence: broken.sequence, payments: broken.payments.map((p) => ({ ...p })) }));
    }
    fault(`${corrected.length} corrected files dropped again`);
    await Promise.all(Object.values(s.controls).map((c) => c.faults.reset()));
    fault('every fault off');

    // Nothing moving: a refund waiting behind its payment's dead letter waits for the replay, not for the hub.
    const idle = async () => {
      const counts = await api.get('/counts');
      if (['in-flight', 'awaiting-answer', 'failed'].some((status) => counts.byStatus[status])) return false;
      if (!counts.byStatus.pending) return true;
      const dead = new Set((await api.all('/deliveries?status=dead')).map((d: any) => `${d.target}|${d.key}`));
      return (await api.all('/deliveries?status=pending')).every((d: any) => dead.has(`${d.target}|${d.key}`));
    };
    const settle = async (what: string) => {
      await waitFor(what, settleTimeout, async () => {
        if (pay.pending() > 0) return false;
        const waiting = fs.readdirSync(outFolder).filter((n) => n.startsWith('PAY_'));
        const processing = fs.existsSync(path.join(outFolder, 'processing')) ? fs.readdirSync(path.join(outFolder, 'processing')) : [];
        if (waiting.length || processing.length) return false;
        return idle();
      });
      await sleep(2500);
      await waitFor(what, settleTimeout, idle);
      log(`  [${at()}] ${what}: ${JSON.stringify((await api.get('/counts')).byStatus)}`);
    };
    await settle('the hub to post and note every payment');

    // The support officer replays the dead letters: the refused GL file (Finance reopened the
    // period), notes the CRM missed, refunds that gave up waiting for their payment. Refused
    // payment files are not replayed: the corrected files came instead.
    const replay = { deadBeforeReplay: 0, replayed: 0, refused: 0, rounds: 0 };
    for (let round = 1; round <= 3; round++) {
      const dead = (await api.all('/deliveries?status=dead')).filter((d: any) => d.lastError?.code !== 'PAYMENT_FILE_REFUSED');
      if (!dead.length) break;
      replay.rounds = round;
      if (round === 1) replay.deadBeforeReplay = dead.length;
      for (const d of dead) {
        const { status, body } = await api.call('POST', `/deliveries/${d.id}/replay`, { reason: 'e2e: the fault is cleared, replaying the dead letter' });
        if (status === 202) replay.replayed++;
        else {
          replay.refused++;
          log(`  replay of ${d.id} (${d.target} ${d.key}) refused: ${status} ${JSON.stringify(body)}`);
        }
      }
      log(`  [${at()}] replay round ${round}: ${dead.length} dead letters`);
      await settle(`the replays of round ${round} to finish`);
    }

    return await collect({ sims: s, api, runId, started, faults, replay, written, corrected, online, outFolder });
  } finally {
    await Promise.race([hub?.stop().catch(() => undefined), sleep(20000).then(() => hub?.stop('SIGKILL'))]);
    await sims?.stop().catch(() => undefined);
    await sshd?.stop().catch(() => undefined);
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
  replay: PaymentFigures['replay'];
  written: WrittenPaymentFile[];
  corrected: WrittenPaymentFile[];
  online: { sent: number; payments: number; refunds: number; overRefunds: number; duplicates: number; badSignatures: number };
  outFolder: string;
}

async function collect(c: Collected): Promise<PaymentFigures> {
  const { sims, api, outFolder } = c;
  const fundOfCostCentre = new Map(Object.entries(FUNDS).map(([fund, codes]) => [codes.costCentre, fund]));
  const incomeAccounts = new Set(Object.values(FUNDS).map((codes) => codes.incomeAccount));
  const list = (sub: string) => (fs.existsSync(path.join(outFolder, sub)) ? fs.readdirSync(path.join(outFolder, sub)) : []);
  const processed = list('processed');
  const failed = list('failed');

  // What should be in the ledger: every payment of a good or corrected file, every online payment, every refund that fits.
  const goodFiles = [...c.written.filter((f) => !f.fault), ...c.corrected];
  const expectedJournals = new Map<string, { fund: string; pence: number }>();
  const expectedByFund: Record<string, number> = {};
  const add = (fund: string, pence: number) => (expectedByFund[fund] = (expectedByFund[fund] ?? 0) + pence);
  for (const f of goodFiles) for (const p of f.payments) expectedJournals.set(`PAY-${p.transactionRef}`, { fund: p.fund, pence: p.amountPence });
  // A repeated-transaction file's other payments are refused with it; its repeated ref stays its first file's.
  const expectedOnline = sims.govukPay!.expected();
  for (const p of expectedOnline.payments) expectedJournals.set(`PAY-${p.paymentId}`, { fund: p.fund, pence: p.amountPence });
  const fundOfPayment = new Map(expectedOnline.payments.map((p) => [p.paymentId, p.fund]));
  for (const r of expectedOnline.refunds) expectedJournals.set(`REF-${r.refundId}`, { fund: fundOfPayment.get(r.paymentId)!, pence: -r.amountPence });
  for (const { fund, pence } of expectedJournals.values()) add(fund, pence);

  // What is: Finance's ledger, income credited less income debited, per fund.
  const postings = sims.finance.ledger();
  const byFund: Record<string, { ledger: number; expected: number }> = {};
  for (const fund of Object.keys(FUNDS)) byFund[fund] = { ledger: 0, expected: expectedByFund[fund] ?? 0 };
  const unbalanced: string[] = [];
  for (const posting of postings) {
    let debit = 0;
    let credit = 0;
    for (const line of posting.lines) {
      debit += line.debitPence;
      credit += line.creditPence;
      const fund = fundOfCostCentre.get(line.costCentre);
      if (fund && incomeAccounts.has(line.accountCode)) byFund[fund].ledger += line.creditPence - line.debitPence;
    }
    if (debit !== credit) unbalanced.push(posting.journalRef);
  }
  const posted = new Set(postings.map((p) => p.journalRef));
  const financeState = sims.finance.state() as { files: Array<{ outcome: string; duplicates: string[] }> };

  // Broken files: refused whole, with every problem's line, shown in the console, nothing of them posted.
  const refusedInConsole = await api.all('/deliveries?status=dead&target=hub');
  const brokenFiles = c.written
    .filter((f) => f.fault)
    .map((f) => {
      const reasonFile = failed.filter((n) => n.startsWith(f.name.replace(/\.txt$/, '')) && n.endsWith('.reason.txt')).map((n) => fs.readFileSync(path.join(outFolder, 'failed', n), 'utf8'));
      const ownRefs = f.fault === 'repeated-transaction' ? f.payments.slice(1) : f.fault === 'repeated-sequence' ? f.payments : [];
      const corrected = c.corrected.some((k) => k.sequence === f.sequence);
      return {
        name: f.name,
        fault: f.fault!,
        rejected: reasonFile.length > 0,
        reasonNamesLines: reasonFile.some((text) => /^REJECTED /.test(text) && /line \d+: /.test(text)),
        inConsole: refusedInConsole.some((d: any) => d.lastError?.code === 'PAYMENT_FILE_REFUSED' && String(d.lastError?.message ?? '').startsWith(f.name)),
        anyPosted: !corrected && ownRefs.some((p) => posted.has(`PAY-${p.transactionRef}`)),
      };
    });

  // The residents' notes: one per payment and refund whose account a CRM contact holds.
  const notes = (sims.crm.state() as { notes: Array<{ contactId: string; sourceEventId: string }> }).notes;
  const noteCount = new Map<string, number>();
  for (const n of notes) noteCount.set(`${n.contactId}|${n.sourceEventId}`, (noteCount.get(`${n.contactId}|${n.sourceEventId}`) ?? 0) + 1);
  const expectedNotes: string[] = [];
  let noContact = 0;
  const expectNote = (fund: string, accountRef: string, sourceEventId: string) => {
    const contactId = sims.crm.contactIdForAccount({ fund: fund as never, accountRef });
    if (contactId) expectedNotes.push(`${contactId}|${sourceEventId}`);
    else noContact++;
  };
  for (const f of goodFiles) for (const p of f.payments) expectNote(p.fund, p.accountRef, `payment:${p.transactionRef}`);
  const referenceOf = new Map(expectedOnline.payments.map((p) => [p.paymentId, p]));
  for (const p of expectedOnline.payments) expectNote(p.fund, p.reference, `payment:${p.paymentId}`);
  for (const r of expectedOnline.refunds) expectNote(referenceOf.get(r.paymentId)!.fund, referenceOf.get(r.paymentId)!.reference, `refund:${r.refundId}`);
  const expectedSet = new Set(expectedNotes);

  const deliveries = await api.all('/deliveries');
  const byTarget: Record<string, Record<string, number>> = {};
  for (const d of deliveries) {
    byTarget[d.target] ??= {};
    byTarget[d.target][d.status] = (byTarget[d.target][d.status] ?? 0) + 1;
  }
  const overRefundsWaiting = deliveries.filter((d: any) => d.status === 'needs-attention' && /more than what is left/.test(d.reason ?? '')).length;
  const open = deliveries.filter(
    (d: any) => ['pending', 'in-flight', 'awaiting-answer', 'failed', 'dead', 'needs-attention'].includes(d.status) && d.lastError?.code !== 'PAYMENT_FILE_REFUSED' && !/more than what is left/.test(d.reason ?? ''),
  ).length;

  const stored = await api.all('/messages?source=govuk-pay');
  const validEvents = new Set(sims.govukPay!.sentEvents().filter((e) => e.acknowledged).map((e) => e.webhookMessageId));
  const cardDetailsStored = stored.some((m: any) => /card_details|last_digits|cardholder/i.test(JSON.stringify(m)));

  return {
    runId: c.runId,
    seconds: Math.round((Date.now() - c.started) / 1000),
    faults: c.faults,
    files: {
      written: c.written.length + c.corrected.length,
      good: goodFiles.length,
      broken: c.written.length - c.written.filter((f) => !f.fault).length,
      corrected: c.corrected.length,
      processed: processed.filter((n) => n.startsWith('PAY_')).length,
      failed: failed.filter((n) => !n.endsWith('.reason.txt')).length,
      leftOver: [...list('processing'), ...fs.readdirSync(outFolder).filter((n) => n.startsWith('PAY_'))],
      payments: goodFiles.reduce((n, f) => n + f.payments.length, 0),
    },
    brokenFiles,
    online: { ...c.online, storedEvents: stored.filter((m: any) => !String(m.sourceMessageId ?? '').startsWith('invalid:')).length, validEvents: validEvents.size, cardDetailsStored },
    ledger: {
      byFund,
      journals: postings.length,
      expectedJournals: expectedJournals.size,
      missing: [...expectedJournals.keys()].filter((ref) => !posted.has(ref)),
      unexpected: [...posted].filter((ref) => !expectedJournals.has(ref)),
      unbalanced,
      resentSkipped: financeState.files.reduce((n, f) => n + f.duplicates.length, 0),
      refusedFiles: financeState.files.filter((f) => f.outcome === 'REFUSED').length,
    },
    notes: {
      expected: expectedSet.size,
      once: [...expectedSet].filter((k) => noteCount.get(k) === 1).length,
      missing: [...expectedSet].filter((k) => !noteCount.has(k)),
      twice: [...noteCount].filter(([, n]) => n > 1).map(([k]) => k),
      unexpected: [...noteCount.keys()].filter((k) => !expectedSet.has(k)),
      noContact,
    },
    overRefundsWaiting,
    replay: c.replay,
    deliveries: byTarget,
    open,
  };
}

/** What is off: each line a failure of the run (empty: everything is right). */
export function paymentProblems(f: PaymentFigures): string[] {
  const out: string[] = [];
  for (const [fund, { ledger, expected }] of Object.entries(f.ledger.byFund)) if (ledger !== expected) out.push(`${fund}: the ledger holds ${ledger} p, the accepted payments less refunds come to ${expected} p`);
  if (f.ledger.missing.length) out.push(`${f.ledger.missing.length} payments or refunds not in the ledger`);
  if (f.ledger.unexpected.length) out.push(`${f.ledger.unexpected.length} journals in the ledger that no accepted payment or refund explains`);
  if (f.ledger.unbalanced.length) out.push(`${f.ledger.unbalanced.length} unbalanced journals`);
  if (f.ledger.refusedFiles < 1) out.push('Finance refused no GL file: the fault did not happen');
  for (const b of f.brokenFiles) {
    if (!b.rejected) out.push(`${b.name} (${b.fault}) was not rejected with a reason file`);
    else if (!b.reasonNamesLines) out.push(`${b.name} (${b.fault}): the reason file names no line`);
    if (!b.inConsole) out.push(`${b.name} (${b.fault}) is not shown in the console`);
    if (b.anyPosted) out.push(`${b.name} (${b.fault}): some of its payments were posted`);
  }
  if (f.files.leftOver.length) out.push(`${f.files.leftOver.length} payment files not taken: ${f.files.leftOver.slice(0, 5).join(', ')}`);
  if (f.notes.missing.length) out.push(`${f.notes.missing.length} notes missing on CRM contacts`);
  if (f.notes.twice.length) out.push(`${f.notes.twice.length} notes added twice`);
  if (f.notes.unexpected.length) out.push(`${f.notes.unexpected.length} notes no payment explains`);
  if (f.online.cardDetailsStored) out.push('card details are in the journal');
  if (f.online.storedEvents !== f.online.validEvents) out.push(`${f.online.storedEvents} GOV.UK Pay events stored, ${f.online.validEvents} validly signed ones sent`);
  if (f.overRefundsWaiting !== f.online.overRefunds) out.push(`${f.online.overRefunds} refunds larger than their payment sent, ${f.overRefundsWaiting} waiting for a person`);
  if (f.open) out.push(`${f.open} deliveries still open or dead`);
  if (f.replay.refused) out.push(`${f.replay.refused} replays refused`);
  return out;
}

export function describePaymentFigures(f: PaymentFigures): string {
  const pounds = (p: number) => `£${(p / 100).toFixed(2)}`;
  const out = [
    `payments journey ${f.runId}: ${f.seconds} s`,
    '  faults:',
    ...f.faults.map((x) => `    ${x}`),
    `  payment files: ${f.files.written} dropped (${f.files.good} good with ${f.files.payments} payments, ${f.files.broken} broken, ${f.files.corrected} corrected copies); ${f.files.processed} in processed/, ${f.files.failed} in failed/, ${f.files.leftOver.length} left over`,
    ...f.brokenFiles.map((b) => `    ${b.name} (${b.fault}): rejected ${b.rejected}, reason names lines ${b.reasonNamesLines}, in the console ${b.inConsole}, any payment posted ${b.anyPosted}`),
    `  GOV.UK Pay: ${f.online.sent} events sent (${f.online.payments} payments, ${f.online.refunds} refunds of which ${f.online.overRefunds} too large, ${f.online.duplicates} duplicates, ${f.online.badSignatures} forged); ${f.online.storedEvents} stored of ${f.online.validEvents} validly signed; card details stored: ${f.online.cardDetailsStored}`,
    `  ledger: ${f.ledger.journals} journals posted, ${f.ledger.expectedJournals} expected, ${f.ledger.missing.length} missing, ${f.ledger.unexpected.length} unexplained, ${f.ledger.unbalanced.length} unbalanced; ${f.ledger.refusedFiles} GL file(s) refused by Finance; ${f.ledger.resentSkipped} journals sent again and skipped by Finance`,
    ...Object.entries(f.ledger.byFund).map(([fund, v]) => `    ${fund}: ledger ${pounds(v.ledger)}, accepted payments less refunds ${pounds(v.expected)}${v.ledger === v.expected ? ' (to the penny)' : ' DIFFERENT'}`),
    `  CRM notes: ${f.notes.expected} expected, ${f.notes.once} once, ${f.notes.missing.length} missing, ${f.notes.twice.length} twice, ${f.notes.unexpected.length} unexplained; ${f.notes.noContact} payments on accounts no contact holds (skipped)`,
    `  refunds larger than their payment waiting for a person: ${f.overRefundsWaiting}`,
    `  deliveries: ${JSON.stringify(f.deliveries)}; open at the end: ${f.open}`,
    `  dead letters replayed by support: ${f.replay.deadBeforeReplay} dead after the run, ${f.replay.replayed} replayed, ${f.replay.refused} refused, ${f.replay.rounds} round(s)`,
  ];
  for (const x of [...f.ledger.missing.slice(0, 5).map((r) => `missing ${r}`), ...f.ledger.unexpected.slice(0, 5).map((r) => `unexplained ${r}`), ...f.notes.missing.slice(0, 5).map((n) => `note missing ${n}`), ...f.notes.twice.slice(0, 5).map((n) => `note twice ${n}`)]) out.push(`    ${x}`);
  const problems = paymentProblems(f);
  out.push(problems.length ? `RESULT: NOT OK\n${problems.map((p) => `  - ${p}`).join('\n')}` : 'RESULT: OK');
  return out.join('\n');
}
