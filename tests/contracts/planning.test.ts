import assert from 'assert';
import { randomUUID } from 'crypto';
import * as soap from 'soap';
import { toBs7666 } from '../../simulators/addresses';
import { DEFAULT_PLANNING_CREDENTIALS, PlanningSimulator, SESSION_COOKIE } from '../../simulators/planning';
import { clientFor, expectFault, testPopulation } from './helpers';

/** Logs on and makes the client carry the session cookie, as a Uniform connector client does. */
async function logOn(client: soap.Client): Promise<void> {
  await client.LogonToConnectorAsync(DEFAULT_PLANNING_CREDENTIALS);
  const cookie = String([].concat(client.lastResponseHeaders!['set-cookie'] as any)[0]).split(';')[0];
  client.clearHttpHeaders();
  client.addHttpHeader('Cookie', cookie);
}

describe('contract: planning (PlanningService)', function () {
  let planning: PlanningSimulator;
  let client: soap.Client;
  const population = testPopulation();
  const party = population.planningParties[0];
  const home = population.gazetteer.find((r) => r.logicalStatus === 1 && r.uprn !== party.address.uprn)!;

  before(async function () {
    planning = await PlanningSimulator.start({ population, port: 0 });
    client = await clientFor(planning.endpoint);
    await logOn(client);
  });
  after(async function () {
    await planning?.stop();
  });

  it('serves its WSDL with namespace urn:council-hub:PlanningService and every operation', function () {
    assert.deepStrictEqual(Object.keys(client.describe().PlanningService.PlanningPort).sort(), ['FindParty', 'GetApplicationEvents', 'GetParty', 'LogoffFromConnector', 'LogonToConnector', 'UpdatePartyAddress']);
    assert.strictEqual(client.wsdl.definitions.$targetNamespace, 'urn:council-hub:PlanningService');
  });

  describe('session', function () {
    it('LogonToConnector sets the session cookie; a call without it gets NotLoggedOn', async function () {
      const anonymous = await clientFor(planning.endpoint);
      const fault = await expectFault(anonymous, 'FindParty', { surname: party.surname, uprn: party.address.uprn });
      assert.strictEqual(fault.name, 'NotLoggedOn');
      assert.strictEqual(fault.faultcode, 'soap:Client');
      const [answer] = await anonymous.LogonToConnectorAsync(DEFAULT_PLANNING_CREDENTIALS);
      assert.strictEqual(answer.result, 'LoggedOn');
      assert.strictEqual(answer.sessionTimeoutMinutes, 20);
      assert.match(String(anonymous.lastResponseHeaders!['set-cookie']), new RegExp(`^${SESSION_COOKIE}=`));
    });

    it('wrong credentials are refused with NotLoggedOn', async function () {
      const other = await clientFor(planning.endpoint);
      assert.strictEqual((await expectFault(other, 'LogonToConnector', { ...DEFAULT_PLANNING_CREDENTIALS, password: 'wrong' })).name, 'NotLoggedOn');
    });

    it('a session ends after the idle time; logging on again works', async function () {
      const idle = await PlanningSimulator.start({ population, port: 0, sessionIdleMs: 50 });
      try {
        const other = await clientFor(idle.endpoint);
        await logOn(other);
        await other.GetApplicationEventsAsync({ afterSequence: 0, maxEvents: 1 });
        await new Promise((resolve) => setTimeout(resolve, 120));
        const fault = await expectFault(other, 'GetApplicationEvents', { afterSequence: 0, maxEvents: 1 });
        assert.strictEqual(fault.name, 'NotLoggedOn');
        assert.match(fault.reason, /expired/);
        await logOn(other);
        await other.GetApplicationEventsAsync({ afterSequence: 0, maxEvents: 1 });
      } finally {
        await idle.stop();
      }
    });

    it('LogoffFromConnector ends the session', async function () {
      const other = await clientFor(planning.endpoint);
      await logOn(other);
      const [answer] = await other.LogoffFromConnectorAsync({});
      assert.strictEqual(answer.result, 'LoggedOff');
      assert.strictEqual((await expectFault(other, 'GetParty', { partyId: party.partyId })).name, 'NotLoggedOn');
    });
  });

  it('GetApplicationEvents pages through events with strictly increasing sequence, after the cursor', async function () {
    planning.raiseApplicationEvents(5);
    const [first] = await client.GetApplicationEventsAsync({ afterSequence: 0, maxEvents: 10 });
    const events = [].concat(first.event) as any[];
    assert.strictEqual(events.length, 10);
    events.forEach((e, i) => assert.strictEqual(Number(e.sequence), i + 1));
    const [next] = await client.GetApplicationEventsAsync({ afterSequence: 10, maxEvents: 3 });
    assert.deepStrictEqual(([].concat(next.event) as any[]).map((e) => Number(e.sequence)), [11, 12, 13]);
    for (const e of planning.events()) {
      assert.match(e.applicationRef, /^\d{2}\/\d{5}\/[A-Z]{3}$/);
      assert.match(e.eventDate, /^\d{4}-\d{2}-\d{2}$/);
      assert.strictEqual(e.decision !== undefined, e.eventType === 'Decided', 'decision only on Decided');
    }
    const last = planning.events().length;
    const [none] = await client.GetApplicationEventsAsync({ afterSequence: last, maxEvents: 10 });
    assert.ok(!none?.event, 'nothing after the last sequence');
    const added = planning.addApplicationEvent({ applicationRef: '26/09999/FUL', eventType: 'Decided', decision: 'Refused', applicantPartyId: party.partyId });
    assert.strictEqual(added.sequence, last + 1);
    const [decided] = await client.GetApplicationEventsAsync({ afterSequence: last, maxEvents: 10 });
    assert.strictEqual(decided.event[0].decision, 'Refused');
    assert.strictEqual((await expectFault(client, 'GetApplicationEvents', { afterSequence: 0, maxEvents: 0 })).name, 'InvalidRequest');
  });

  it('FindParty finds parties by surname (any case) at the uprn they hold', async function () {
    const [found] = await client.FindPartyAsync({ surname: party.surname.toLowerCase(), uprn: party.address.uprn });
    const parties = [].concat(found.party) as any[];
    assert.ok(parties.some((p) => p.partyId === party.partyId));
    assert.deepStrictEqual(Object.keys(parties[0]).sort(), ['forename', 'partyId', 'surname', 'uprn']);
    const [none] = await client.FindPartyAsync({ surname: party.surname, uprn: home.uprn });
    assert.ok(!([].concat(none?.party ?? []) as any[]).some((p) => p.partyId === party.partyId));
  });

  it('UpdatePartyAddress: Updated, then Unchanged, idempotent on requestId, and FindParty then knows only the new address', async function () {
    const target = population.planningParties[1];
    const address = toBs7666(home);
    const requestId = randomUUID();
    const [updated] = await client.UpdatePartyAddressAsync({ partyId: target.partyId, address, effectiveDate: '2026-11-18', requestId });
    assert.strictEqual(updated.result, 'Updated');
    const [repeat] = await client.UpdatePartyAddressAsync({ partyId: target.partyId, address, effectiveDate: '2026-11-18', requestId });
    assert.strictEqual(repeat.result, 'Updated', 'a repeated requestId answers as the first time');
    const [unchanged] = await client.UpdatePartyAddressAsync({ partyId: target.partyId, address, effectiveDate: '2026-11-18', requestId: randomUUID() });
    assert.strictEqual(unchanged.result, 'Unchanged');
    const [got] = await client.GetPartyAsync({ partyId: target.partyId });
    assert.strictEqual(got.party.address.uprn, home.uprn);
    assert.strictEqual(got.party.addressEffectiveDate, '2026-11-18');
    const [old] = await client.FindPartyAsync({ surname: target.surname, uprn: target.address.uprn });
    assert.ok(!([].concat(old?.party ?? []) as any[]).some((p) => p.partyId === target.partyId));
  });

  it('UpdatePartyAddress faults: PartyNotFound, InvalidAddress (bad postcode, unknown or historic uprn), GetParty PartyNotFound', async function () {
    const address = toBs7666(home);
    assert.strictEqual((await expectFault(client, 'UpdatePartyAddress', { partyId: 'P9999999', address, effectiveDate: '2026-11-18', requestId: randomUUID() })).name, 'PartyNotFound');
    const badPostcode = await expectFault(client, 'UpdatePartyAddress', { partyId: party.partyId, address: { ...address, postcode: 'NOT A CODE' }, effectiveDate: '2026-11-18', requestId: randomUUID() });
    assert.strictEqual(badPostcode.name, 'InvalidAddress');
    assert.match(badPostcode.reason, /postcode/);
    assert.strictEqual((await expectFault(client, 'UpdatePartyAddress', { partyId: party.partyId, address: { ...address, uprn: '999999999999' }, effectiveDate: '2026-11-18', requestId: randomUUID() })).name, 'InvalidAddress');
    const historic = population.gazetteer.find((r) => r.logicalStatus === 8)!;
    assert.strictEqual((await expectFault(client, 'UpdatePartyAddress', { partyId: party.partyId, address: toBs7666(historic), effectiveDate: '2026-11-18', requestId: randomUUID() })).name, 'InvalidAddress');
    const { paon: _paon, ...noPaon } = address;
    assert.strictEqual((await expectFault(client, 'UpdatePartyAddress', { partyId: party.partyId, address: noPaon, effectiveDate: '2026-11-18', requestId: randomUUID() })).name, 'InvalidAddress');
    assert.strictEqual((await expectFault(client, 'GetParty', { partyId: 'P9999999' })).name, 'PartyNotFound');
  });

  it('UpdatePartyAddress answers ServiceUnavailable (soap:Server) while switched on, and a field rejection as InvalidAddress', async function () {
    const address = toBs7666(home);
    await planning.faults.set({ failNext: 1 });
    const unavailable = await expectFault(client, 'UpdatePartyAddress', { partyId: party.partyId, address, effectiveDate: '2026-11-18', requestId: randomUUID() });
    assert.strictEqual(unavailable.name, 'ServiceUnavailable');
    assert.strictEqual(unavailable.faultcode, 'soap:Server');
    await planning.faults.set({ rejectField: { field: 'postcode', value: address.postcode } });
    try {
      const rejected = await expectFault(client, 'UpdatePartyAddress', { partyId: party.partyId, address, effectiveDate: '2026-11-18', requestId: randomUUID() });
      assert.strictEqual(rejected.name, 'InvalidAddress');
    } finally {
      await planning.faults.reset();
    }
  });
});
