import assert from 'assert';
import Redis from 'ioredis';
import { startHubProcess, login, HubProcess } from '../support/hub-process';
import { TargetSystem } from './target-system';
import { writeJournalFlow } from './journal-flow';
import { REDIS_URL, deletePrefix, uniquePrefix } from './stores';

const PASSWORD = 'council-hub-demo';

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The journal in the real hub, as a child process, on each store: acknowledgement after
 * storage, duplicates, kill -9 mid-delivery and recovery, order per person, retries, dead
 * letters, replay (edited, idempotent, by group, from the start), discard, provenance,
 * metrics, and the console API behind the login.
 */
for (const store of ['sqlite', 'redis'] as const) {
  describe(`journal in a real hub process (${store})`, function () {
    this.timeout(90000);
    const target = new TargetSystem();
    const prefix = uniquePrefix('hub');
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    let flowFile: string;
    let hub: HubProcess;
    let dataDir: string | undefined;
    const env = (park: 'yes' | 'no') => ({
      HUB_STORE: store,
      REDIS_URL,
      HUB_JOURNAL_PREFIX: prefix,
      HUB_INSTANCE_ID: 'journal-test-hub',
      HUB_RETRY_POLL_MS: '100',
      HUB_RETRY_MAX_ATTEMPTS: '2',
      HUB_RETRY_INITIAL_MS: '100',
      HUB_RETRY_MAX_MS: '200',
      TEST_PARK: park,
    });
    const tokens: Record<string, string> = {};
    const api = async (method: string, path: string, as?: 'support' | 'developer', body?: unknown) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (as) headers.authorization = `Bearer ${(tokens[as] ??= await login(hub.url, as, PASSWORD))}`;
      const response = await fetch(`${hub.url}/api/console${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await response.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: response.status, body: json };
    };
    const post = async (change: Record<string, unknown>) => {
      // The hub says it is up before Node-RED has started the flows: wait for the route.
      const response = await waitFor('the test flow to start', async () => {
        const r = await fetch(`${hub.url}/test/change`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(change) });
        return r.status !== 404 && r;
      });
      assert.strictEqual(response.status, 200, await response.clone().text());
      return response.text();
    };
    const deliveryOf = async (key: string, status?: string) => {
      const { body } = await api('GET', `/deliveries?target=planning&key=${key}${status ? `&status=${status}` : ''}`, 'developer');
      return body.items[0];
    };

    before(async () => {
      await target.start();
      flowFile = writeJournalFlow(target.port);
    });
    after(async () => {
      await hub?.stop();
      await target.close();
      await redis.connect().catch(() => undefined);
      await deletePrefix(redis, prefix);
      redis.disconnect();
    });

    it('acknowledges stored messages, ignores duplicates, and after kill -9 mid-delivery finishes everything in order, each change applied once', async () => {
      target.mode = 'hang';
      hub = await startHubProcess({ env: env('yes'), flowFile });
      dataDir = hub.dataDir;
      const first = await post({ eventId: 'e1', personId: 'P1', address: '1 Old Road' });
      assert.match(first, /^[0-9a-f-]{36}$/, 'answered with the message id once stored');
      assert.strictEqual(await post({ eventId: 'e1', personId: 'P1', address: '1 Old Road' }), first, 'a duplicate gets the first message id');
      await waitFor('P1 first change at the target', () => target.received.some((c) => c.personId === 'P1'));
      await post({ eventId: 'e2', personId: 'P2', address: '2 Mill Lane' });
      await post({ eventId: 'e3', personId: 'P1', address: '3 New Road' });
      const parked = await post({ eventId: 'e4', personId: 'P4', address: '4 Parked Close', park: true });
      // Its sender sends it again (a redelivery while the first is still on its journey): the
      // duplicate's short way to the answer must not end the stored message's journey.
      assert.strictEqual(await post({ eventId: 'e4', personId: 'P4', address: '4 Parked Close', park: true }), parked);
      await waitFor('P2 at the target', () => target.received.some((c) => c.personId === 'P2'));
      // Kill once P1's second change is held behind its first (else, as designed, it would
      // supersede the first when it reaches its delivery node after the restart).
      await waitFor('P1 second change held', async () => (await api('GET', '/deliveries?key=P1&status=pending', 'developer')).body.total === 1);
      hub.child.kill('SIGKILL');
      await hub.exited;
      assert.strictEqual(target.applied.length, 0, 'nothing was answered before the kill');

      target.mode = 'answer';
      delete tokens.developer; // log in again to the restarted hub
      hub = await startHubProcess({ env: env('no'), flowFile, dataDir });
      await waitFor('4 deliveries delivered', async () => (await api('GET', '/counts', 'developer')).body.byStatus?.delivered === 4).catch(async (err) => {
        const state = (await api('GET', '/deliveries', 'developer')).body.items.map((d: any) => [d.key, d.status, d.attempts, d.lastError?.message]);
        throw new Error(`${err.message}; deliveries ${JSON.stringify(state)}; target ${JSON.stringify(target.received)}`);
      });
      assert.deepStrictEqual(target.appliedFor('P1'), ['1 Old Road', '3 New Road'], `in order per person: ${JSON.stringify(target.received)}`);
      assert.deepStrictEqual(target.appliedFor('P2'), ['2 Mill Lane']);
      assert.deepStrictEqual(target.appliedFor('P4'), ['4 Parked Close'], 'a stored message whose journey had not run to its end ran again from the start');
      const interrupted = target.received.find((c) => c.personId === 'P1');
      assert.ok(interrupted);
      assert.strictEqual(target.received.filter((c) => c.requestId === interrupted.requestId).length, 2, 'resent with the same idempotency key');
      assert.strictEqual(new Set(target.applied.map((c) => c.requestId)).size, target.applied.length, 'each change applied once');
      const journey = (await api('GET', `/messages/${first}`, 'support')).body;
      assert.strictEqual(journey.deliveries[0].status, 'delivered');
      assert.strictEqual(journey.message.sourceMessageId, 'e1');
    });

    it('refuses the console API without a token, and answers malformed requests with 400', async () => {
      assert.strictEqual((await api('GET', '/deliveries')).status, 401);
      assert.strictEqual((await api('POST', '/deliveries/x/replay', undefined, { reason: 'r' })).status, 401);
      assert.strictEqual((await api('GET', '/counts')).status, 401);
      const bad = await api('GET', '/deliveries?status=lost', 'support');
      assert.strictEqual(bad.status, 400);
      assert.match(bad.body.error, /unknown status "lost"/);
      assert.strictEqual((await api('GET', '/deliveries?from=yesterday', 'support')).status, 400);
      assert.strictEqual((await api('GET', '/deliveries/nope', 'support')).status, 404);
      const doc = await api('GET', '/openapi.json', 'support');
      assert.strictEqual(doc.status, 200);
      assert.strictEqual(doc.body.openapi, '3.0.3');
      assert.ok(doc.body.paths['/deliveries/{id}/replay'].post);
    });

    it('makes a permanent error dead at once; a support officer replays an edited copy, and a replay of it is applied once', async () => {
      await post({ eventId: 'e5', personId: 'P5', address: '5 Typo Street', invalid: true });
      const dead = await waitFor('P5 dead', () => deliveryOf('P5', 'dead'));
      assert.strictEqual(dead.attempts, 1);
      assert.strictEqual(dead.lastError.classification, 'permanent');
      assert.strictEqual(dead.lastError.nodeId, 'prep');
      assert.match(dead.lastError.message, /InvalidAddress/);
      const noReason = await api('POST', `/deliveries/${dead.id}/replay`, 'support', { from: 'failed-node' });
      assert.strictEqual(noReason.status, 400);
      const replay = await api('POST', `/deliveries/${dead.id}/replay`, 'support', {
        from: 'failed-node',
        reason: 'postcode confirmed with the resident',
        payload: { eventId: 'e5', personId: 'P5', address: '5 Fixed Street' },
      });
      assert.strictEqual(replay.status, 202, JSON.stringify(replay.body));
      await waitFor('edited copy applied', () => target.appliedFor('P5').length === 1);
      assert.deepStrictEqual(target.appliedFor('P5'), ['5 Fixed Street']);
      const original = (await api('GET', `/deliveries/${dead.id}`, 'support')).body;
      assert.strictEqual(original.delivery.status, 'superseded');
      assert.strictEqual(original.message.resolvedBy.messageId, replay.body.messageId);
      assert.strictEqual(original.audit[0].actor, 'support');
      assert.strictEqual(original.audit[0].action, 'replay-edited');
      const copy = await waitFor('copy delivered', async () => {
        const d = (await api('GET', `/deliveries/${replay.body.runs}`, 'support')).body.delivery;
        return d?.status === 'delivered' && d;
      });
      const again = await api('POST', `/deliveries/${copy.id}/replay`, 'developer', { reason: 'planning restored a backup' });
      assert.strictEqual(again.status, 202);
      await waitFor('replay received', () => target.received.filter((c) => c.requestId === copy.idempotencyKey).length === 2);
      await waitFor('replay delivered', async () => (await api('GET', `/deliveries/${copy.id}`, 'support')).body.delivery.status === 'delivered');
      assert.strictEqual(target.applied.filter((c) => c.requestId === copy.idempotencyKey).length, 1, 'the target applied it once');
    });

    it('retries failures a Catch node saw, lets a group with the same target and error be replayed together, and discards with a reason', async () => {
      target.mode = 'reset';
      await post({ eventId: 'e6', personId: 'P6', address: '6 Down Street' });
      await post({ eventId: 'e7', personId: 'P7', address: '7 Down Street' });
      const dead6 = await waitFor('P6 dead after its attempts', () => deliveryOf('P6', 'dead'));
      await waitFor('P7 dead', () => deliveryOf('P7', 'dead'));
      assert.strictEqual(dead6.attempts, 3, 'the delivery node allows 3 attempts');
      assert.strictEqual(dead6.lastError.nodeId, 'send', 'the http request node, reported through Catch');
      const groups = (await api('GET', '/failure-groups', 'support')).body.groups;
      const group = groups.find((g: any) => g.target === 'planning' && g.count === 2);
      assert.ok(group, JSON.stringify(groups));
      target.mode = 'answer';
      const replay = await api('POST', '/failure-groups/replay', 'support', { target: 'planning', error: group.error, reason: 'planning is back' });
      assert.strictEqual(replay.status, 202);
      assert.strictEqual(replay.body.replayed.length, 2);
      await waitFor('group delivered', () => target.appliedFor('P6').length === 1 && target.appliedFor('P7').length === 1);

      await post({ eventId: 'e9', personId: 'P9', address: '9 Nowhere', invalid: true });
      const dead9 = await waitFor('P9 dead', () => deliveryOf('P9', 'dead'));
      assert.strictEqual((await api('POST', `/deliveries/${dead9.id}/discard`, 'support', {})).status, 400);
      const discarded = await api('POST', `/deliveries/${dead9.id}/discard`, 'support', { reason: 'resident withdrew the change' });
      assert.strictEqual(discarded.status, 200);
      assert.strictEqual(discarded.body.delivery.status, 'discarded');
      const audit = (await api('GET', `/audit?deliveryId=${dead9.id}`, 'support')).body.items;
      assert.deepStrictEqual([audit[0].actor, audit[0].action, audit[0].reason], ['support', 'discard', 'resident withdrew the change']);
    });

    it('retries a failure before any delivery from the failing node, and replays it from the start with an edited payload', async () => {
      const messageId = await post({ eventId: 'e8', personId: 'P8', address: '8 Mapping Way', badMapping: true });
      const hubStage = await waitFor('hub stage dead', async () => {
        const { body } = await api('GET', `/deliveries?target=hub&messageId=${messageId}&status=dead`, 'support');
        return body.items[0];
      });
      assert.strictEqual(hubStage.attempts, 2, 'HUB_RETRY_MAX_ATTEMPTS');
      assert.strictEqual(hubStage.lastError.nodeId, 'map');
      const replay = await api('POST', `/deliveries/${hubStage.id}/replay`, 'support', {
        from: 'start',
        reason: 'address added',
        payload: { eventId: 'e8', personId: 'P8', address: '8 Mapping Way' },
      });
      assert.strictEqual(replay.status, 202, JSON.stringify(replay.body));
      await waitFor('P8 applied', () => target.appliedFor('P8').length === 1);
      // Hops are written in batches a moment after each node completes.
      const view = await waitFor('the journey to the outcome node', async () => {
        const body = (await api('GET', `/messages/${replay.body.messageId}`, 'support')).body;
        return body.journey.some((h: any) => h.nodeId === 'ok') && body;
      });
      assert.strictEqual(view.message.editedFrom, messageId);
      const nodes = view.journey.map((h: any) => h.nodeId);
      for (const id of ['map', 'd', 'prep', 'send', 'ok']) assert.ok(nodes.includes(id), `journey has ${id}: ${nodes.join(',')}`);
      assert.ok(view.journey.every((h: any) => typeof h.startedAt === 'number'));
      assert.ok(view.journey.some((h: any) => h.nodeId === 'send' && typeof h.durationMs === 'number'));
    });

    it('counts deliveries per status and target, and exports metrics', async () => {
      const counts = (await api('GET', '/counts', 'support')).body;
      assert.ok(counts.byTarget.planning.delivered >= 8, JSON.stringify(counts));
      assert.strictEqual(counts.byTarget.planning.discarded, 1);
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      assert.match(metrics, /councilhub_deliveries_total\{[^}]*status="delivered"[^}]*\} \d+/);
      assert.match(metrics, /councilhub_delivery_attempts_total\{[^}]*target="planning"[^}]*\} \d+/);
      assert.match(metrics, /councilhub_delivery_latency_seconds_bucket\{[^}]*target="planning"/);
    });
  });
}
