import fs from 'fs';
import os from 'os';
import path from 'path';
import amqp from 'amqplib';
import { startHubProcess, type HubProcess } from '../tests/support/hub-process';
import { HubApi } from '../tests/e2e/hub-api';
import type { Measurement } from './harness';

/**
 * Scenario 5: support replays a failure group of 10,000 dead letters; the time from the
 * replay request to the last of them delivered. A real hub process: amqp-in -> journal ->
 * delivery -> a target that refuses every first attempt (a permanent error: dead at once)
 * and takes every later one -> delivered. Each round makes its own 10,000 dead letters first
 * (not timed), then times the replay of the group through the console API.
 */

const RABBITMQ_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
const TARGET = 'bench-target';
const REFUSAL = 'BENCH_FIRST_ATTEMPT_REFUSED';

function benchFlows(queue: string): object[] {
  const tab = 'bench.tab';
  return [
    { id: tab, type: 'tab', label: 'Replay bench' },
    { id: 'bench.broker', type: 'amqp-broker', name: 'RabbitMQ', url: '${RABBITMQ_URL}', heartbeat: 5, prefetch: 200 },
    { id: 'bench.in', type: 'amqp-in', z: tab, name: 'bench messages', broker: 'bench.broker', queue, exchange: '', exchangeType: 'topic', routingKeys: '', format: 'json', wires: [['bench.journal']] },
    { id: 'bench.journal', type: 'journal', z: tab, name: 'journal', source: 'bench', sourceMessageId: 'payload.id', sourceMessageIdType: 'msg', key: 'payload.id', keyType: 'msg', wires: [['bench.delivery'], []] },
    { id: 'bench.delivery', type: 'delivery', z: tab, name: TARGET, target: TARGET, key: 'journal.key', keyType: 'msg', order: '', orderType: 'msg', maxAttempts: '3', initialDelay: '1', maxDelay: '5', unclassified: 'transient', mode: 'latest', answersLater: false, wires: [['bench.target']] },
    {
      id: 'bench.target',
      type: 'function',
      z: tab,
      name: 'refuses first attempts',
      // A replay is the delivery's next attempt: the target takes it.
      func: `if (msg.delivery.attempt === 1) { const e = new Error('the bench target refuses every first attempt'); e.code = '${REFUSAL}'; e.transient = false; throw e; }\nreturn msg;`,
      outputs: 1,
      wires: [['bench.delivered']],
    },
    { id: 'bench.delivered', type: 'delivery-outcome', z: tab, name: 'delivered', mode: 'delivered', reason: '', reasonType: 'str', candidates: 'candidates', candidatesType: 'msg', wires: [] },
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export interface ReplayBench {
  open(): Promise<void>;
  round(): Promise<Measurement>;
  close(): Promise<void>;
  count: number;
}

export function replayBench(quick: boolean): ReplayBench {
  const count = quick ? 1000 : 10000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-bench-replay-'));
  const queue = `bench-replay-${Date.now().toString(36)}-${process.pid}`;
  let hub: HubProcess | undefined;
  let api: HubApi | undefined;
  let connection: amqp.ChannelModel | undefined;
  let channel: amqp.ConfirmChannel | undefined;
  let made = 0;
  const deliveredSoFar = async () => ((await api!.get('/counts')).byTarget?.[TARGET]?.delivered ?? 0) as number;
  return {
    count,
    async open() {
      fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(benchFlows(queue), null, 2));
      connection = await amqp.connect(RABBITMQ_URL);
      hub = await startHubProcess({ dataDir: dir, flowFile: path.join(dir, 'flows.json'), env: { RABBITMQ_URL, HUB_STORE: 'sqlite', HUB_INSTANCE_ID: `bench-replay-${process.pid}` }, startTimeoutMs: 60000 });
      api = new HubApi(hub.url);
      // amqp-in declares its queue (with its dead-letter arguments): publish only once it has.
      await until('the hub to declare its queue', 60000, async () => {
        const probe = await connection!.createChannel();
        probe.on('error', () => undefined);
        try {
          return (await probe.checkQueue(queue)).consumerCount > 0;
        } catch {
          return false;
        } finally {
          await probe.close().catch(() => undefined);
        }
      });
      channel = await connection.createConfirmChannel();
    },
    async round() {
      const before = await deliveredSoFar();
      // The dead letters: every message refused at its first attempt (not timed).
      for (let i = 0; i < count; i++) channel!.sendToQueue(queue, Buffer.from(JSON.stringify({ id: `m${made++}`, note: 'a change the target refused' })), { persistent: true });
      await channel!.waitForConfirms();
      await until(`${count} dead letters`, 10 * 60 * 1000, async () => ((await api!.get('/counts')).byTarget?.[TARGET]?.dead ?? 0) >= count);
      const started = process.hrtime.bigint();
      const { status, body: answer } = await api!.call('POST', '/failure-groups/replay', { target: TARGET, error: REFUSAL, reason: 'bench: the target is back' }, 10 * 60 * 1000);
      if (status !== 202) throw new Error(`bench: the group replay answered ${status}: ${JSON.stringify(answer)}`);
      await until(`${count} replays delivered`, 10 * 60 * 1000, async () => (await deliveredSoFar()) >= before + count);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const { replayed, refused } = answer as { replayed: unknown[]; refused: unknown[] };
      if (refused.length) throw new Error(`bench: ${refused.length} of the group's replays were refused`);
      return { value: seconds, extra: { replayed: replayed.length, perSecond: Math.round(count / seconds) } };
    },
    async close() {
      await hub?.stop().catch(() => undefined);
      await channel?.deleteQueue(queue).catch(() => undefined);
      await channel?.deleteQueue(`${queue}.dead-letter`).catch(() => undefined);
      await connection?.close().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
