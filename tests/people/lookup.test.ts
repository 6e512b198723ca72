import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import { startSimulators, RunningSimulators, DEFAULT_PLANNING_CREDENTIALS } from '../../simulators';
import { createSoapClient, SoapClient } from '../../adapters/soap';
import { findPerson } from '../../adapters/people/lookup';
import { SqliteCrossReferences } from '../../hub/xref';

describe('finding a person in planning and housing (real SOAP simulators)', function () {
  this.timeout(60000);
  let sims: RunningSimulators;
  let planning: SoapClient;
  let housing: SoapClient;
  let xref: SqliteCrossReferences;

  before(async () => {
    sims = await startSimulators({ properties: 2000, sftp: false });
    planning = createSoapClient({ wsdl: `${sims.endpoints.planning}?wsdl`, session: DEFAULT_PLANNING_CREDENTIALS });
    housing = createSoapClient({ wsdl: `${sims.endpoints.housing}?wsdl` });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookup-'));
    xref = new SqliteCrossReferences(new Database(path.join(dir, 'hub.db')));
  });
  after(async () => {
    await planning?.close();
    await housing?.close();
    await sims?.stop();
  });

  const deps = (client: SoapClient) => ({ call: (op: string, args: object) => client.call(op, args), xref });

  it('finds a planning party by surname and previous UPRN and remembers it', async () => {
    const resident = sims.population.residents.find((r) => r.planningPartyId && r.crmContactId)!;
    const party = sims.population.planningParties.find((p) => p.partyId === resident.planningPartyId)!;
    const person = { contactId: resident.crmContactId!, surname: party.surname, previousUprn: party.address.uprn };
    const found = await findPerson('planning', person, deps(planning));
    assert.deepStrictEqual(found, { outcome: 'found', ids: { partyId: resident.planningPartyId }, via: 'lookup' });
    // A second move: the system still holds the old address, the hub remembers the party.
    const again = await findPerson('planning', { ...person, previousUprn: '999999999999' }, deps(planning));
    assert.deepStrictEqual(again, { outcome: 'found', ids: { partyId: resident.planningPartyId }, via: 'cross-reference' });
  });

  it('answers no relationship for a person planning does not know', async () => {
    const result = await findPerson('planning', { contactId: 'C-NOBODY', surname: 'Nobody-Known', previousUprn: sims.population.gazetteer[0].uprn }, deps(planning));
    assert.strictEqual(result.outcome, 'none');
    assert.match((result as any).reason, /planning has no party "Nobody-Known"/);
  });

  it('does not take a relative with the same surname at the same address for the person (forename differs)', async () => {
    const relative = sims.population.residents.find((r) => !r.planningPartyId && sims.population.planningParties.some((p) => p.address.uprn === r.uprn && p.surname === r.surname && p.forename !== r.forename))!;
    assert.ok(relative, 'the population has a household member of a planning party with the same surname');
    const result = await findPerson('planning', { contactId: 'C-RELATIVE', surname: relative.surname, forename: relative.forename, previousUprn: relative.uprn }, deps(planning));
    assert.strictEqual(result.outcome, 'none');
    assert.match((result as any).reason, new RegExp(`none named ${relative.forename}`));
    assert.strictEqual(await xref.find('C-RELATIVE', 'planning'), undefined, 'nobody remembered');
  });

  it('never guesses between two tenants with the same surname at one property', async () => {
    const tenancyRef = sims.population.examples.ambiguousTenancies[0];
    const tenancy = sims.population.tenancies.find((t) => t.tenancyRef === tenancyRef);
    assert.ok(tenancy, 'the population has an ambiguous tenancy');
    const result = await findPerson('housing', { contactId: 'C-AMBIGUOUS', surname: tenancy!.tenants[0].surname, previousUprn: tenancy!.uprn }, deps(housing));
    assert.strictEqual(result.outcome, 'several');
    assert.strictEqual((result as any).candidates.length, 2);
    assert.strictEqual(await xref.find('C-AMBIGUOUS', 'housing'), undefined, 'nothing remembered for a guess');
  });

  it('finds a tenant with the date of birth and gives tenancy and person refs', async () => {
    const tenancy = sims.population.tenancies.find((t) => t.tenants.length === 1)!;
    const tenant = tenancy.tenants[0];
    const result = await findPerson('housing', { contactId: 'C-TENANT', surname: tenant.surname, dateOfBirth: tenant.dateOfBirth, previousUprn: tenancy.uprn }, deps(housing));
    assert.deepStrictEqual(result, { outcome: 'found', ids: { tenancyRef: tenancy.tenancyRef, personRef: tenant.personRef }, via: 'lookup' });
  });

  it('refuses to look up without a surname or previous UPRN, and passes a SOAP failure on classified', async () => {
    await assert.rejects(findPerson('planning', { contactId: 'C1', surname: '', previousUprn: '1' }, deps(planning)), /without a surname/);
    await sims.controls.planning.faults.set({ failNext: 1 });
    await assert.rejects(
      findPerson('planning', { contactId: 'C2', surname: 'Smith', previousUprn: sims.population.gazetteer[1].uprn }, deps(planning)),
      (err: any) => err.transient === true && /ServiceUnavailable/.test(err.message),
    );
  });

  describe('namesakes: two people of one name at one address', () => {
    // Parties alone of their surname at their address, from the end of the list: the tests above use the first ones.
    const alone = (withBirth: boolean) =>
      sims.population.planningParties
        .filter((p) => !!p.dateOfBirth === withBirth && !sims.population.planningParties.some((q) => q !== p && q.address.uprn === p.address.uprn && q.surname === p.surname))
        .reverse();
    const partyWithBirth = () => {
      const party = alone(true)[0];
      assert.ok(party, 'the population has a planning party with a date of birth');
      return party;
    };

    it('does not take a planning party born on another day for the person', async () => {
      const party = partyWithBirth();
      const other = party.dateOfBirth!.replace(/^(\d{4})/, (y) => String(Number(y) - 30));
      const result = await findPerson('planning', { contactId: 'C-JUNIOR', surname: party.surname, forename: party.forename, dateOfBirth: other, previousUprn: party.address.uprn }, deps(planning));
      assert.strictEqual(result.outcome, 'none');
      assert.match((result as any).reason, /born on another day/);
      const withheld = await findPerson('planning', { contactId: 'C-JUNIOR-2', surname: party.surname, forename: party.forename, knownDateOfBirth: other, previousUprn: party.address.uprn }, deps(planning));
      assert.strictEqual(withheld.outcome, 'none', 'a date of birth the rules withhold from planning is still compared');
      assert.strictEqual(await xref.find('C-JUNIOR', 'planning'), undefined);
      const same = await findPerson('planning', { contactId: 'C-SENIOR', surname: party.surname, forename: party.forename, dateOfBirth: party.dateOfBirth, previousUprn: party.address.uprn }, deps(planning));
      assert.deepStrictEqual(same, { outcome: 'found', ids: { partyId: party.partyId }, via: 'lookup' });
    });

    it('does not take a record already found for another CRM contact', async () => {
      const party = alone(false)[0];
      const person = { surname: party.surname, forename: party.forename, previousUprn: party.address.uprn };
      assert.strictEqual((await findPerson('planning', { ...person, contactId: 'C-FIRST' }, deps(planning))).outcome, 'found');
      const second = await findPerson('planning', { ...person, contactId: 'C-SECOND' }, deps(planning));
      assert.strictEqual(second.outcome, 'several');
      assert.match((second as any).reason, /already known as CRM contact C-FIRST's record/);
      assert.deepStrictEqual((second as any).candidates.map((c: any) => c.contactId), ['C-FIRST']);
      assert.strictEqual(await xref.find('C-SECOND', 'planning'), undefined, 'not remembered for the second contact');
    });

    it('asks a person when the record held at the address went with another contact of the same name', async () => {
      const party = alone(false)[1];
      const person = { surname: party.surname, forename: party.forename, previousUprn: party.address.uprn };
      assert.strictEqual((await findPerson('planning', { ...person, contactId: 'C-MOVED-FIRST' }, deps(planning))).outcome, 'found');
      const elsewhere = sims.population.gazetteer.find((g) => g.uprn !== party.address.uprn && g.logicalStatus === 1)!;
      const moved = await planning.call('UpdatePartyAddress', {
        partyId: party.partyId,
        address: { uprn: elsewhere.uprn, paon: elsewhere.paon, streetDescription: elsewhere.streetDescription, townName: elsewhere.townName, postTown: elsewhere.postTown, postcode: elsewhere.postcode },
        effectiveDate: '2026-11-18',
        requestId: `namesake-${party.partyId}`,
      });
      assert.strictEqual(moved.result, 'Updated');
      const result = await findPerson('planning', { ...person, contactId: 'C-MOVED-SECOND' }, deps(planning));
      assert.strictEqual(result.outcome, 'several');
      assert.match((result as any).reason, /went with contact C-MOVED-FIRST \(same name, same address\)/);
      const stranger = await findPerson('planning', { ...person, surname: 'Nobody-Else', contactId: 'C-STRANGER' }, deps(planning));
      assert.strictEqual(stranger.outcome, 'none', 'another name at that address is simply not known');
    });
  });
});
