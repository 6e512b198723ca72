import fs from 'fs';
import os from 'os';
import path from 'path';
import { performance } from 'perf_hooks';
import { flowsDir } from '../hub/paths';
import { generatePopulation } from '../simulators/population';
import { PaymentsSimulator } from '../simulators/payments';
import { generateSshKeyPair, startEmbeddedSftp } from '../simulators/sftp-server';
import { startHubProcess } from '../tests/support/hub-process';

/**
 * A cash-receipting file of `records` payments through a real hub process, from the moment
 * the hub claims it (moved to processing/) to the last GL file written in finance/in: read
 * and checked as a stream, every payment journalled, delivered to the ledger, mapped, batched
 * and written. Only the Payments tab's ledger path runs (no CRM notes, no Finance answers),
 * so the figure is the hub's own. Peak RSS is the hub process's high-water mark (VmHWM).
 */
export interface PaymentFileBenchmark {
  records: number;
  seconds: number;
  paymentsPerSecond: number;
  peakRssMiB: number;
  glFiles: number;
  goal: string;
}

function ledgerPathFlows(file: string): void {
  const flows = JSON.parse(fs.readFileSync(path.join(flowsDir, 'flows.json'), 'utf8')) as any[];
  const keep = new Set(['pay.tab', 'pay.files', 'pay.file', 'pay.f.delivery', 'pay.f.map', 'pay.ledger', 'pay.gl-write', 'coa.sftp']);
  const chosen = flows.filter((n) => keep.has(n.id)).map((n) => (n.id === 'pay.file' ? { ...n, wires: [['pay.f.delivery'], []] } : n.id === 'pay.files' ? { ...n, interval: 0.5 } : n));
  fs.writeFileSync(file, JSON.stringify(chosen, null, 2));
}

function glJournals(folder: string): { files: number; journals: number } {
  let journals = 0;
  const names = fs.existsSync(folder) ? fs.readdirSync(folder).filter((n) => /^GL_.*\.ctl$/.test(n)) : [];
  for (const ctl of names) journals += Number(fs.readFileSync(path.join(folder, ctl), 'utf8').split(',')[0]) / 2;
  return { files: names.length, journals };
}

export async function paymentFileBenchmark(records: number): Promise<PaymentFileBenchmark> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-bench-payments-'));
  const root = path.join(dir, 'sftp');
  fs.mkdirSync(path.join(root, 'payments', 'out'), { recursive: true });
  fs.mkdirSync(path.join(root, 'finance', 'in'), { recursive: true });
  const client = generateSshKeyPair('bench-client');
  const sftp = await startEmbeddedSftp({ root, authorizedKeys: [client.publicKey] });
  const flowFile = path.join(dir, 'flows.json');
  ledgerPathFlows(flowFile);
  fs.mkdirSync(path.join(dir, 'hub'), { recursive: true });
  const hub = await startHubProcess({
    dataDir: path.join(dir, 'hub'),
    flowFile,
    env: { HUB_STORE: 'sqlite', SFTP_HOST: sftp.host, SFTP_PORT: String(sftp.port), SFTP_USER: sftp.username, SFTP_PRIVATE_KEY: client.privateKey, SFTP_HOST_FINGERPRINT: sftp.hostKeyFingerprint },
    startTimeoutMs: 60000,
  });
  try {
    // The file is written beside the folder and moved in whole: the hub sees it complete.
    const payments = new PaymentsSimulator({ root: path.join(dir, 'cash-office'), population: generatePopulation({ properties: 3000 }) });
    const written = await payments.writeFile({ count: records });
    const processing = path.join(root, 'payments', 'out', 'processing', written.name);
    fs.renameSync(written.path, path.join(root, 'payments', 'out', written.name));
    while (!fs.existsSync(processing)) await new Promise((r) => setTimeout(r, 20));
    const claimed = performance.now();
    let gl = glJournals(path.join(root, 'finance', 'in'));
    while (gl.journals < records) {
      if (performance.now() - claimed > 30 * 60 * 1000) throw new Error(`after 30 minutes only ${gl.journals} of ${records} journals are in GL files`);
      await new Promise((r) => setTimeout(r, 50));
      gl = glJournals(path.join(root, 'finance', 'in'));
    }
    const seconds = (performance.now() - claimed) / 1000;
    const status = fs.readFileSync(`/proc/${hub.child.pid}/status`, 'utf8');
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return {
      records,
      seconds: Math.round(seconds * 10) / 10,
      paymentsPerSecond: Math.round(records / seconds),
      peakRssMiB: Math.round(peakKb / 1024),
      glFiles: gl.files,
      goal: 'under 10 s and 256 MB for 100,000 payments',
    };
  } finally {
    await hub.stop();
    await sftp.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
