import assert from 'assert';
import path from 'path';
import { PLANNING_POLL_CODES, PlanningPoller } from '../../adapters/planning/poller';
import type { HubError } from '../../adapters/errors';
import { SoapCallError, SoapClient } from '../../adapters/soap';
import { repoRoot } from '../../hub/paths';
import { useNock } from '../protocols/support-soap-nock';
import { sqliteCursors } from './support';

/**
 * What the real planning simulator cannot show: planning that does not answer in time, a
 * reply that is not a SOAP envelope, an event without a sequence. nock answers in its place,
 * over HTTP, to the hub's SoapClient reading planning's real WSDL.
 */
const HOST = 'http://planning.nock.test';
const envelope = (body: string) =>
  `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${body}</soap:Body></soap:Envelope>`;
const LOGON = envelope('<LogonToConnectorResponse xmlns="urn:council-hub:PlanningService"><result>LoggedOn</result><sessionTimeoutMinutes>20</sessionTimeoutMinutes></LogonToConnectorResponse>');
const LOGOFF = envelope('<LogoffFromConnectorResponse xmlns="urn:council-hub:PlanningService"><result>LoggedOff</result></LogoffFromConnectorResponse>');
const event = (sequence: number | string, ref = `26/0${sequence}/FUL`) =>
  `<event>${sequence === '' ? '' : `<sequence>${sequence}</sequence>`}<applicationRef>${ref}</applicationRef><eventType>Received</eventType><status>Registered</status><eventDate>2026-06-01</eventDate><officer>J. Patel</officer><applicantPartyId>P0000001</applicantPartyId></event>`;
const events = (...items: string[]) => envelope(`<GetApplicationEventsResponse xmlns="urn:council-hub:PlanningService">${items.join('')}</GetApplicationEventsResponse>`);

describe('planning poller: what planning cannot be made to do (nock)', () => {
  const nock = useNock();
  let client: SoapClient;
  let poller: PlanningPoller | undefined;

  beforeEach(() => {
    client = new SoapClient({
      wsdl: path.join(repoRoot, 'adapters', 'planning', 'PlanningService.wsdl'),
      endpoint: `${HOST}/PlanningService`,
      timeoutMs: 300,
      session: { databaseId: 'UNIFORM', userName: 'hub', password: 'planning-demo' },
    });
  });
  afterEach(async () => {
    await poller?.stop();
    nock(HOST).post('/PlanningService', /LogoffFromConnector/).reply(200, LOGOFF, { 'Content-Type': 'text/xml' });
    await client.close();
  });

  function logon() {
    return nock(HOST).post('/PlanningService', /LogonToConnector/).reply(200, LOGON, { 'Content-Type': 'text/xml', 'Set-Cookie': 'ConnectorSession=nock-session; Path=/' });
  }

  function make(cursors = sqliteCursors(), handed: number[] = [], errors: HubError[] = []) {
    poller = new PlanningPoller({
      call: (op, args) => client.call(op, args),
      cursors,
      cursorName: 'planning:nock',
      maxEvents: 10,
      onEvent: async (e) => void handed.push(e.sequence),
      onError: (e) => void errors.push(e),
    });
    return { poller, cursors, handed, errors };
  }

  it('a reply that does not come in time is a transient error: nothing taken, the cursor kept, the next poll takes the events', async () => {
    const { poller: p, cursors, handed, errors } = make();
    await cursors.set('planning:nock', '6');
    logon();
    nock(HOST).post('/PlanningService', /afterSequence>6</).delay(1000).reply(200, events(event(7)), { 'Content-Type': 'text/xml' });
    const late = await p.pollNow();
    const timedOut = late.error as SoapCallError;
    assert.ok(timedOut instanceof SoapCallError, "the SOAP client's own error passes as it is");
    assert.strictEqual(timedOut.kind, 'timeout');
    assert.strictEqual(timedOut.code, 'ECONNABORTED', 'the contract code of a timeout is the transport code');
    assert.strictEqual(timedOut.transient, true);
    assert.deepStrictEqual(errors, [timedOut], 'reported');
    assert.deepStrictEqual(handed, []);
    assert.strictEqual(await cursors.get('planning:nock'), '6');

    const page = nock(HOST).post('/PlanningService', /afterSequence>6</).reply(200, events(event(7), event(8)), { 'Content-Type': 'text/xml' });
    const next = await p.pollNow();
    assert.ok(page.isDone(), 'asked again after the cursor');
    assert.strictEqual(next.error, undefined);
    assert.deepStrictEqual(handed, [7, 8]);
    assert.strictEqual(await cursors.get('planning:nock'), '8');
  });

  it('a reply that is not a SOAP envelope is a permanent error, and nothing is taken', async () => {
    const { poller: p, cursors, handed, errors } = make();
    logon();
    nock(HOST).post('/PlanningService', /GetApplicationEvents/).reply(200, '<html><body>Gateway says hello</body></html>', { 'Content-Type': 'text/html' });
    const result = await p.pollNow();
    assert.strictEqual(result.error?.code, 'SOAP_MALFORMED_RESPONSE');
    assert.strictEqual(result.error?.transient, false);
    assert.match(result.error!.message, /without a SOAP envelope/);
    assert.strictEqual(errors.length, 1);
    assert.deepStrictEqual(handed, []);
    assert.strictEqual(await cursors.get('planning:nock'), undefined);
  });

  it('an event without a readable sequence stops the poll before any event of that page is handed on', async () => {
    const { poller: p, cursors, handed } = make();
    logon();
    nock(HOST).post('/PlanningService', /GetApplicationEvents/).reply(200, events(event(1), event(''), event(3)), { 'Content-Type': 'text/xml' });
    const result = await p.pollNow();
    assert.strictEqual(result.error?.code, PLANNING_POLL_CODES.malformedEvent);
    assert.strictEqual(result.error?.transient, false);
    assert.match(result.error!.message, /event 2 of the reply has no sequence/);
    assert.deepStrictEqual(handed, []);
    assert.strictEqual(await cursors.get('planning:nock'), undefined);
  });
});
