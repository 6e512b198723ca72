import assert from 'assert';
import path from 'path';
import helper from 'node-red-node-test-helper';
import Redis from 'ioredis';
import planningPollNode from '../../nodes/planning-poll/planning-poll';
import soapEndpointNode from '../../nodes/soap-endpoint/soap-endpoint';
import journalNode from '../../nodes/journal/journal';
import { repoRoot } from '../../hub/paths';
import { PORT_SETTING, type HubPort } from '../../hub/port';
import { roleScopes } from '../../hub/security';
import { DEFAULT_PLANNING_CREDENTIALS, startSimulators, type RunningSimulators } from '../../simulators';
import { useNock } from '../protocols/support-soap-nock';
import { eachTestPort, testPort } from '../support/test-port';
import { range, sleep, until } from './support';

helper.init(require.resolve('node-red'));
const functionNode = require('@node-red/nodes/core/function/10-function');
const { hasPermission } = require('@node-red/editor-api/lib/auth/permissions') as { hasPermission(scope: unknown, permission: string): boolean };

/**
 * The node's admin route asks RED.auth.needsPermission; the test helper's RED lets every
 * request in. This gives it Node-RED's own scope check, the hub's roles (hub/security.ts)
 * named by a header, and an answer of 401 as Node-RED's adminAuth gives.
 */
const permissionsAsked: string[] = [];
function planningPollWithAdminAuth(RED: any) {
  RED.auth = {
    needsPermission(permission: string) {
      permissionsAsked.push(permission);
      return (req: any, res: any, next: () => void) => {
        const role = req.get('x-test-role');
        const scope = role === 'read-only' ? ['read'] : roleScopes[role as keyof typeof roleScopes];
        if (scope && hasPermission(scope, permission)) return next();
        res.status(401).end();
      };
    },
  };
  return planningPollNode(RED);
}

const nodes = [planningPollWithAdminAuth, soapEndpointNode as any, journalNode as any, functionNode];

type Status = { fill?: string; shape?: string; text?: string };
function statuses(id: string): Status[] {
  const node = helper.getNode(id);
  const seen: Status[] = [];
  const original = node.status.bind(node);
  node.status = (status: Status) => {
    seen.push(status);
    return original(status);
  };
  return seen;
}

function collect(id: string): any[] {
  const got: any[] = [];
  helper.getNode(id).on('input', (msg: any) => got.push(msg));
  return got;
}

const poll = (id: string, role = 'support') => helper.request().post(`/council-hub/planning-poll/${id}/poll`).set('x-test-role', role);

describe('planning-poll node (real planning simulator, real journal and cursors)', function () {
  this.timeout(30000);
  let sims: RunningSimulators;
  let hub: ReturnType<typeof testPort>;

  before(async () => {
    sims = await startSimulators({ properties: 2000, sftp: false });
  });
  after(async () => sims?.stop());
  eachTestPort(helper, (port) => (hub = port));

  const last = () => sims.planning.state().lastSequence;
  const endpoint = () => ({ id: 'planning-ep', type: 'soap-endpoint', name: 'planning', wsdl: `${sims.endpoints.planning}?wsdl`, endpoint: '', auth: 'session', databaseId: DEFAULT_PLANNING_CREDENTIALS.databaseId, timeout: 5 });
  const credentials = { 'planning-ep': { username: DEFAULT_PLANNING_CREDENTIALS.userName, password: DEFAULT_PLANNING_CREDENTIALS.password } };
  const pollNode = (extra: Record<string, unknown> = {}) => ({
    id: 'poll',
    type: 'planning-poll',
    endpoint: 'planning-ep',
    interval: 3600,
    start: '00:00',
    end: '24:00',
    days: 'Mon,Tue,Wed,Thu,Fri,Sat,Sun',
    maxEvents: 20,
    cursor: '',
    startAfter: 0,
    wires: [['j1'], ['reports']],
    ...extra,
  });
  const journal = { id: 'j1', type: 'journal', source: 'planning', sourceMessageId: 'payload.sequence', sourceMessageIdType: 'msg', key: 'payload.applicationRef', keyType: 'msg', wires: [['stored'], ['duplicates']] };
  const helpers = [{ id: 'stored', type: 'helper' }, { id: 'duplicates', type: 'helper' }, { id: 'reports', type: 'helper' }];

  it('sends one message per event into the journal, in order, and keeps the cursor in the hub\'s store; the status shows it', async () => {
    await helper.load(nodes, [endpoint(), pollNode(), journal, ...helpers], credentials);
    const seen = statuses('poll');
    const stored = collect('stored');
    await until(() => stored.length === last(), 'every event journalled');
    assert.deepStrictEqual(stored.map((m) => m.payload.sequence), range(1, last()));
    assert.deepStrictEqual(JSON.parse(JSON.stringify(stored.map((m) => m.payload))), sims.planning.events(), 'msg.payload is the event as GetApplicationEvents gives it');
    assert.ok(stored.every((m) => m.topic === 'planning.application-event'));
    assert.deepStrictEqual(stored[0].planning, { cursor: 'planning:planning-ep', sequence: 1 }, 'the default cursor name comes from the endpoint');
    assert.ok(stored.every((m) => m.journal?.messageId), 'each one stored by the journal');
    await until(async () => (await hub.port.cursors!.get('planning:planning-ep')) === String(last()), 'the cursor advanced');
    await until(() => seen.at(-1)?.fill === 'green', 'the idle status');
    assert.match(seen.at(-1)!.text!, new RegExp(`^cursor ${last()} · polled \\d\\d:\\d\\d:\\d\\d$`));
  });

  it('stops at an event the flow fails; "poll now" takes it again and answers with what it took', async () => {
    const failOnce = {
      id: 'fail5',
      type: 'function',
      func: "if (msg.payload.sequence === 5 && !context.get('failed')) { context.set('failed', true); throw new Error('the journal is not reachable'); } return msg;",
      wires: [['j1']],
    };
    await helper.load(nodes, [endpoint(), pollNode({ cursor: 'planning-events', wires: [['fail5'], ['reports']] }), failOnce, journal, ...helpers], credentials);
    const seen = statuses('poll');
    const stored = collect('stored');
    const duplicates = collect('duplicates');
    await until(() => seen.some((s) => s.fill === 'yellow'), 'the poll stopped at event 5');
    assert.match(seen.find((s) => s.fill === 'yellow')!.text!, /^event 5 not stored: .*the journal is not reachable.* · cursor 4$/);
    assert.strictEqual(await hub.port.cursors!.get('planning-events'), '4');
    assert.deepStrictEqual(stored.map((m) => m.payload.sequence), [1, 2, 3, 4]);

    const answer = await poll('poll');
    assert.strictEqual(answer.status, 200, JSON.stringify(answer.body));
    assert.strictEqual(answer.body.outcome, 'polled');
    assert.strictEqual(answer.body.cursorName, 'planning-events');
    assert.strictEqual(answer.body.from, 4);
    assert.strictEqual(answer.body.first, 5);
    assert.strictEqual(answer.body.last, last());
    assert.strictEqual(answer.body.taken, last() - 4);
    assert.strictEqual(answer.body.cursor, last());
    assert.deepStrictEqual(answer.body.reports, []);
    await until(() => stored.length === last(), 'the journal has sent on the last one'); // it is stored before it is sent on
    assert.deepStrictEqual(stored.map((m) => m.payload.sequence), range(1, last()), 'event 5 taken again, then the rest');
    assert.deepStrictEqual(duplicates, []);
    assert.strictEqual(await hub.port.cursors!.get('planning-events'), String(last()));
    assert.deepStrictEqual([...new Set(permissionsAsked)], ['console.write'], 'the route asks for console.write');
  });

  it('"poll now" answers 404 for an unknown node, 409 while a poll is under way, and only to console.write', async () => {
    const slow = { id: 'slow', type: 'function', func: 'setTimeout(() => { node.send(msg); node.done(); }, 20); return;', wires: [['j1']] };
    await helper.load(nodes, [endpoint(), pollNode({ wires: [['slow'], ['reports']] }), slow, journal, ...helpers], credentials);
    const stored = collect('stored');
    await until(() => stored.length > 0, 'the first poll under way');
    const busy = await poll('poll');
    assert.strictEqual(busy.status, 409);
    assert.strictEqual(busy.body.outcome, 'busy');
    assert.match(busy.body.message, /already under way/);

    assert.strictEqual((await poll('nothing-here')).status, 404);
    const notAPoller = await poll('j1');
    assert.strictEqual(notAPoller.status, 404, 'a node of another type is not polled');
    assert.match(notAPoller.body.message, /no planning-poll node j1/);
    assert.strictEqual((await poll('poll', 'read-only')).status, 401, 'reading flows is not enough');
    assert.strictEqual((await poll('poll', '')).status, 401);
    const developer = await poll('poll', 'developer');
    assert.strictEqual(developer.status, 409, 'a developer passes the permission check (and the poll is still under way)');
  });

  it('without the hub\'s cursor store shows a red status that says why, and polls nothing', async () => {
    helper.settings({}); // outside council-hub: the standalone port has no stores
    const sessionsBefore = sims.planning.state().sessions;
    await helper.load(nodes, [endpoint(), pollNode(), ...helpers], credentials);
    const node = helper.getNode('poll');
    const status = node.status.getCalls().filter((c: any) => c.thisValue === node).at(-1)?.args[0];
    assert.strictEqual(status.fill, 'red');
    assert.match(status.text, /no cursor store: planning-poll runs only inside council-hub/);
    assert.ok(node.error.getCalls().some((c: any) => c.thisValue === node && /no cursor store/.test(String(c.args[0]))), 'and says so in the log');
    const answer = await poll('poll');
    assert.strictEqual(answer.status, 503);
    assert.match(answer.body.message, /no cursor store/);
    await sleep(100);
    assert.strictEqual(sims.planning.state().sessions, sessionsBefore, 'it never logged on to planning');
  });

  it('on close stops polling and the endpoint logs off', async () => {
    await helper.load(nodes, [endpoint(), pollNode({ interval: 0.05, cursor: 'closing' }), journal, ...helpers], credentials);
    const stored = collect('stored');
    await until(() => stored.length === last(), 'every event journalled');
    assert.ok(sims.planning.state().sessions >= 1, 'a live session while deployed');
    await helper.unload();
    assert.strictEqual(sims.planning.state().sessions, 0, 'logged off');
    const cursor = await hub.port.cursors!.get('closing');
    sims.planning.actions['raise-events']({ count: 2 });
    await sleep(200);
    assert.strictEqual(await hub.port.cursors!.get('closing'), cursor, 'no poll after close');
    assert.strictEqual(stored.length, last() - 2);
  });

  describe('with the shared Redis of several instances', () => {
    let redis: Redis;
    let prefix: string;
    before(() => {
      redis = new Redis('redis://127.0.0.1:6379');
    });
    afterEach(async () => {
      await helper.unload(); // before the keys go: a running poller would write them again
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    });
    after(() => redis.disconnect());

    it('stands by while another instance holds the lock, and "poll now" answers 409', async () => {
      prefix = `test:planning-poll-node:${process.pid}:${Date.now()}:`;
      const port: HubPort = { ...hub.port, sharedRedis: redis, redisPrefix: prefix };
      helper.settings({ [PORT_SETTING]: port });
      await redis.set(`${prefix}planning-poll:planning:planning-ep`, 'another instance', 'PX', 10000);
      await helper.load(nodes, [endpoint(), pollNode(), journal, ...helpers], credentials);
      const seen = statuses('poll');
      const stored = collect('stored');
      await until(() => seen.some((s) => /^standby: another hub instance polls/.test(s.text ?? '')), 'the standby status');
      const answer = await poll('poll');
      assert.strictEqual(answer.status, 409);
      assert.strictEqual(answer.body.outcome, 'standby');
      assert.match(answer.body.message, /another hub instance holds the planning poll lock/);
      assert.deepStrictEqual(stored, []);

      await redis.del(`${prefix}planning-poll:planning:planning-ep`); // that instance stopped
      const taken = await poll('poll');
      assert.strictEqual(taken.status, 200);
      assert.strictEqual(taken.body.taken, last());
      assert.strictEqual(stored.length, last());
    });
  });
});

describe('planning-poll node: sequence reports (nock in place of planning)', function () {
  const nock = useNock();
  let hub: ReturnType<typeof testPort>;
  const HOST = 'http://planning.nock.test';
  const envelope = (body: string) => `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${body}</soap:Body></soap:Envelope>`;
  const event = (sequence: number, ref: string) =>
    `<event><sequence>${sequence}</sequence><applicationRef>${ref}</applicationRef><eventType>Received</eventType><status>Registered</status><eventDate>2026-06-01</eventDate><officer>J. Patel</officer><applicantPartyId>P0000001</applicantPartyId></event>`;

  beforeEach(() => {
    hub = testPort();
    helper.settings(hub.settings);
  });
  afterEach(async () => {
    nock(HOST).post('/PlanningService', /LogoffFromConnector/).reply(200, envelope('<LogoffFromConnectorResponse xmlns="urn:council-hub:PlanningService"><result>LoggedOff</result></LogoffFromConnectorResponse>'), { 'Content-Type': 'text/xml' });
    await helper.unload();
    helper.settings({});
    hub.close();
  });

  it('sends a gap and a backwards sequence to output 2 and logs them as warnings; output 1 gets the events after the gap only', async () => {
    nock(HOST)
      .post('/PlanningService', /LogonToConnector/)
      .reply(200, envelope('<LogonToConnectorResponse xmlns="urn:council-hub:PlanningService"><result>LoggedOn</result></LogonToConnectorResponse>'), { 'Content-Type': 'text/xml', 'Set-Cookie': 'ConnectorSession=s1; Path=/' });
    nock(HOST)
      .post('/PlanningService', /afterSequence>0</)
      .reply(200, envelope(`<GetApplicationEventsResponse xmlns="urn:council-hub:PlanningService">${event(1, '26/00001/FUL')}${event(2, '26/00002/HOU')}${event(4, '26/00004/FUL')}${event(2, '26/00002/HOU')}${event(5, '26/00005/OUT')}</GetApplicationEventsResponse>`), { 'Content-Type': 'text/xml' });
    await helper.load(
      [planningPollNode as any, soapEndpointNode as any],
      [
        { id: 'planning', type: 'soap-endpoint', wsdl: path.join(repoRoot, 'adapters', 'planning', 'PlanningService.wsdl'), endpoint: `${HOST}/PlanningService`, auth: 'session', databaseId: 'UNIFORM', timeout: 5 },
        { id: 'poll', type: 'planning-poll', endpoint: 'planning', interval: 3600, start: '00:00', end: '24:00', days: 'Mon,Tue,Wed,Thu,Fri,Sat,Sun', maxEvents: 100, cursor: 'planning:reports', wires: [['events'], ['reports']] },
        { id: 'events', type: 'helper' },
        { id: 'reports', type: 'helper' },
      ],
      { planning: { username: 'hub', password: 'planning-demo' } },
    );
    const events = collect('events');
    const reports = collect('reports');
    await until(async () => (await hub.port.cursors!.get('planning:reports')) === '5', 'the cursor at 5');
    assert.deepStrictEqual(events.map((m) => m.payload.sequence), [1, 2, 4, 5]);
    assert.deepStrictEqual(
      reports.map((m) => ({ topic: m.topic, ...m.payload, at: typeof m.payload.at })),
      [
        { topic: 'planning.sequence-report', kind: 'gap', expected: 3, got: 4, applicationRef: '26/00004/FUL', cursor: 'planning:reports', at: 'string' },
        { topic: 'planning.sequence-report', kind: 'backwards', expected: 5, got: 2, applicationRef: '26/00002/HOU', cursor: 'planning:reports', at: 'string' },
      ],
    );
    const node = helper.getNode('poll');
    const warnings = node.warn.getCalls().filter((c: any) => c.thisValue === node).map((c: any) => String(c.args[0]));
    assert.strictEqual(warnings.length, 2);
    assert.match(warnings[0], /sequence gap before 26\/00004\/FUL: expected 3, got 4/);
    assert.match(warnings[1], /sequence went backwards at 26\/00002\/HOU: expected 5, got 2/);
  });
});
