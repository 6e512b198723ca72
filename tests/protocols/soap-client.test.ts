import assert from 'assert';
import { createSoapClient, SoapCallError, type SoapClient } from '../../adapters/soap';
import { freePort } from '../support/ports';
import { useNock } from './support-soap-nock';
import { KNOWN_PARTY, PLANNING_DATABASE, PLANNING_PASSWORD, PLANNING_USER, startPlanningPeer, type PlanningPeer } from './support-soap-planning';

const session = { databaseId: PLANNING_DATABASE, userName: PLANNING_USER, password: PLANNING_PASSWORD };

async function failure(promise: Promise<unknown>): Promise<SoapCallError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SoapCallError, `expected a SoapCallError, got ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

describe('SOAP client (adapters/soap) against a real soap server', () => {
  let peer: PlanningPeer;
  const clients: SoapClient[] = [];
  const client = (options: Partial<Parameters<typeof createSoapClient>[0]> = {}) => {
    const c = createSoapClient({ wsdl: peer.wsdlUrl, endpoint: peer.url, session, ...options });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    peer = await startPlanningPeer();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await peer.stop();
  });

  it('logs on before the first call, carries the session cookie, and reads the WSDL once', async () => {
    const planning = client();
    const party = await planning.call('GetParty', { partyId: 'P1001' });
    assert.deepStrictEqual(party, KNOWN_PARTY);
    // xsd:date stays the text the service sent, not a shifted Date
    assert.strictEqual(party.dateOfBirth, '1980-03-14');
    await planning.call('GetParty', { partyId: 'P1001' });
    await planning.call('GetParty', { partyId: 'P1001' });
    assert.strictEqual(peer.logons, 1);
    assert.strictEqual(peer.wsdlDownloads, 1);
    const gets = peer.calls.filter((c) => c.operation === 'GetParty');
    assert.strictEqual(gets.length, 3);
    assert.ok(gets.every((c) => c.cookie && c.cookie === gets[0].cookie));
    assert.strictEqual(planning.state, 'logged-on');
  });

  it('logs on once for many calls made at the same time', async () => {
    const planning = client();
    await Promise.all(Array.from({ length: 5 }, () => planning.call('GetParty', { partyId: 'P1001' })));
    assert.strictEqual(peer.logons, 1);
  });

  it('logs on again by itself when the session has expired, and the call succeeds', async () => {
    const planning = client();
    await planning.call('GetParty', { partyId: 'P1001' });
    peer.expireSessions();
    const party = await planning.call('GetParty', { partyId: 'P1001' });
    assert.strictEqual(party.partyId, 'P1001');
    assert.strictEqual(peer.logons, 2);
    assert.deepStrictEqual(
      peer.calls.map((c) => c.operation),
      ['LogonToConnector', 'GetParty', 'GetParty', 'LogonToConnector', 'GetParty'],
    );
  });

  it('retries a NotLoggedOn call only once, then fails permanently with the fault', async () => {
    const planning = client();
    peer.refuseSessions = true;
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'fault');
    assert.strictEqual(err.faultName, 'NotLoggedOn');
    assert.strictEqual(err.transient, false);
    assert.strictEqual(peer.logons, 2);
    assert.strictEqual(peer.calls.filter((c) => c.operation === 'GetParty').length, 2);
  });

  it('answers a wrong logon password with a permanent fault', async () => {
    const planning = client({ session: { ...session, password: 'wrong' } });
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.faultName, 'LogonFailed');
    assert.strictEqual(err.operation, 'LogonToConnector');
    assert.strictEqual(err.transient, false);
    assert.strictEqual(planning.state, 'error');
  });

  it('makes the ServiceUnavailable fault transient (HTTP 500, as every SOAP 1.1 fault)', async () => {
    const planning = client();
    peer.failNext(1);
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'fault');
    assert.strictEqual(err.faultName, 'ServiceUnavailable');
    assert.strictEqual(err.faultcode, 'soap:Server');
    assert.strictEqual(err.httpStatus, 500);
    assert.strictEqual(err.transient, true);
    // and the next call goes through
    assert.strictEqual((await planning.call('GetParty', { partyId: 'P1001' })).partyId, 'P1001');
  });

  it('makes any other fault permanent, with faultcode, faultstring, detail and operation', async () => {
    const planning = client();
    const err = await failure(planning.call('GetParty', { partyId: 'P404' }));
    assert.strictEqual(err.kind, 'fault');
    assert.strictEqual(err.faultName, 'PartyNotFound');
    assert.strictEqual(err.faultcode, 'soap:Client');
    assert.strictEqual(err.faultstring, 'PartyNotFound: no party P404');
    assert.deepStrictEqual(err.detail, { fault: { name: 'PartyNotFound', reason: 'no party P404' } });
    assert.strictEqual(err.operation, 'GetParty');
    assert.strictEqual(err.endpoint, peer.url);
    assert.strictEqual(err.httpStatus, 500);
    assert.strictEqual(err.transient, false);
    assert.strictEqual(err.code, 'PartyNotFound', 'the contract code of a fault is its name');
    // what a Catch node shows as msg.error.cause
    assert.strictEqual((err.cause as any).transient, false);
    assert.strictEqual((err.cause as any).faultName, 'PartyNotFound');
  });

  it('logs off with the session cookie on close', async () => {
    const planning = client();
    await planning.call('GetParty', { partyId: 'P1001' });
    const cookie = peer.calls[1].cookie;
    await planning.close();
    assert.strictEqual(peer.logoffs, 1);
    assert.strictEqual(peer.calls.at(-1)?.operation, 'LogoffFromConnector');
    assert.strictEqual(peer.calls.at(-1)?.cookie, cookie);
    await assert.rejects(planning.call('GetParty', { partyId: 'P1001' }), /closed/);
  });

  it('sends a WS-Security UsernameToken when configured', async () => {
    peer.refuseSessions = false;
    const planning = client({ session: undefined, wsSecurity: { username: 'hub-wsse', password: 'secret' } });
    // no session: the peer answers NotLoggedOn, but it has seen the header by then
    await failure(planning.call('GetParty', { partyId: 'P1001' }));
    const token = peer.calls[0].soapHeader?.Security?.UsernameToken;
    assert.strictEqual(token?.Username, 'hub-wsse');
    assert.ok(JSON.stringify(token.Password).includes('secret'));
  });

  it('refuses an operation the WSDL does not offer, permanently, without calling', async () => {
    const err = await failure(client().call('DeleteEverything', {}));
    assert.strictEqual(err.kind, 'bad-request');
    assert.strictEqual(err.transient, false);
    assert.match(err.message, /not in the WSDL \(it offers LogonToConnector, LogoffFromConnector, GetParty\)/);
    assert.strictEqual(peer.calls.length, 0);
  });

  it('makes a refused connection transient (a real closed port)', async () => {
    const closedPort = await freePort();
    const err = await failure(client({ endpoint: `http://127.0.0.1:${closedPort}/PlanningService`, session: undefined }).call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'connection');
    assert.strictEqual(err.code, 'ECONNREFUSED');
    assert.strictEqual(err.transient, true);
  });

  it('makes an unreachable WSDL transient, and reads it again on the next call', async () => {
    const closedPort = await freePort();
    const planning = client({ wsdl: `http://127.0.0.1:${closedPort}/PlanningService?wsdl` });
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'wsdl');
    assert.strictEqual(err.transient, true);
    assert.strictEqual(planning.state, 'error');
    await failure(planning.call('GetParty', { partyId: 'P1001' }));
  });

  it('never keeps the request (with its password) in an error', async () => {
    const closedPort = await freePort();
    const err = await failure(client({ endpoint: `http://127.0.0.1:${closedPort}/PlanningService` }).call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.operation, 'LogonToConnector');
    assert.ok(!JSON.stringify({ ...err, cause: err.cause }).includes(PLANNING_PASSWORD));
    assert.ok(!require('util').inspect(err, { depth: 10 }).includes(PLANNING_PASSWORD));
  });
});

describe('SOAP client (adapters/soap): what a real server cannot show (nock)', () => {
  const nock = useNock();
  const fakeEndpoint = 'http://planning.nock.invalid';
  let peer: PlanningPeer;
  let planning: SoapClient;

  const envelope = (body: string) => `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${body}</soap:Body></soap:Envelope>`;

  beforeEach(async () => {
    peer = await startPlanningPeer();
    // the WSDL comes from the real peer; the calls go to the nock endpoint
    planning = createSoapClient({ wsdl: peer.wsdlUrl, endpoint: `${fakeEndpoint}/PlanningService`, timeoutMs: 5000 });
    await planning.ready();
  });
  afterEach(async () => {
    await planning.close();
    await peer.stop();
  });

  it('makes a timeout transient', async () => {
    nock(fakeEndpoint).post('/PlanningService').delay(1500).reply(200, envelope('<GetPartyResponse/>'));
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }, { timeoutMs: 200 }));
    assert.strictEqual(err.kind, 'timeout');
    assert.strictEqual(err.transient, true);
  });

  it('makes a connection reset transient', async () => {
    nock(fakeEndpoint).post('/PlanningService').replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'connection');
    assert.strictEqual(err.code, 'ECONNRESET');
    assert.strictEqual(err.transient, true);
  });

  it('makes HTTP 503 with a non-SOAP body transient', async () => {
    nock(fakeEndpoint).post('/PlanningService').reply(503, '<html><body>Service Temporarily Unavailable</body></html>', { 'Content-Type': 'text/html' });
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'http');
    assert.strictEqual(err.httpStatus, 503);
    assert.strictEqual(err.transient, true);
    assert.strictEqual(err.code, 'SOAP_HTTP_ERROR');
    assert.match(err.message, /HTTP 503 without a SOAP envelope: <html><body>Service Temporarily Unavailable/);
  });

  it('makes HTTP 404 with a non-SOAP body permanent', async () => {
    nock(fakeEndpoint).post('/PlanningService').reply(404, 'Not Found');
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.httpStatus, 404);
    assert.strictEqual(err.transient, false);
  });

  it('makes a malformed response permanent, with the parser reason', async () => {
    nock(fakeEndpoint).post('/PlanningService').reply(200, envelope('<GetPartyResponse><partyId>P1001</surname></GetPartyResponse>'));
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'malformed-response');
    assert.strictEqual(err.transient, false);
    assert.strictEqual(err.code, 'SOAP_MALFORMED_RESPONSE');
    assert.match(err.message, /not well-formed XML: Unexpected close tag/);
  });

  for (const name of ['__proto__', 'constructor', 'prototype']) {
    it(`refuses a response with the element <${name}>, permanently, leaving Object.prototype untouched`, async () => {
      const before = Object.getOwnPropertyNames(Object.prototype).sort();
      nock(fakeEndpoint)
        .post('/PlanningService')
        .reply(200, envelope(`<GetPartyResponse xmlns="urn:council-hub:PlanningService"><partyId>P1001</partyId><${name}><polluted>yes</polluted><toString>x</toString></${name}></GetPartyResponse>`));
      const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
      assert.strictEqual(err.kind, 'hostile-response');
      assert.strictEqual(err.transient, false);
      assert.match(err.message, new RegExp(`reserved name "${name}"`));
      assert.strictEqual(({} as any).polluted, undefined);
      assert.strictEqual(typeof ({} as any).toString, 'function');
      assert.deepStrictEqual(Object.getOwnPropertyNames(Object.prototype).sort(), before);
    });
  }

  it('refuses a response nested deeper than the bound, permanently, before any parser builds it', async () => {
    const deep = `${'<a>'.repeat(5000)}x${'</a>'.repeat(5000)}`;
    nock(fakeEndpoint).post('/PlanningService').reply(200, envelope(`<GetPartyResponse xmlns="urn:council-hub:PlanningService"><partyId>P1001</partyId>${deep}</GetPartyResponse>`));
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'hostile-response');
    assert.strictEqual(err.transient, false);
    assert.match(err.message, /nests elements more than 100 deep/);
    // A response of ordinary depth still goes through the same guard.
    nock(fakeEndpoint).post('/PlanningService').reply(200, envelope(`<GetPartyResponse xmlns="urn:council-hub:PlanningService"><party><partyId>P1001</partyId><forename>Ann</forename><surname>Smith</surname></party></GetPartyResponse>`));
    const ok = await planning.call('GetParty', { partyId: 'P1001' });
    assert.strictEqual(ok?.party?.partyId, 'P1001');
  });

  it('refuses a response that declares a DOCTYPE (XXE), permanently', async () => {
    nock(fakeEndpoint)
      .post('/PlanningService')
      .reply(200, `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${envelope('<GetPartyResponse><partyId>&xxe;</partyId></GetPartyResponse>')}`);
    const err = await failure(planning.call('GetParty', { partyId: 'P1001' }));
    assert.strictEqual(err.kind, 'hostile-response');
    assert.strictEqual(err.transient, false);
    assert.strictEqual(err.code, 'SOAP_HOSTILE_RESPONSE');
  });
});
