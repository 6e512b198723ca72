import assert from 'assert';
import { createHash } from 'crypto';
import { parse } from 'csv-parse/sync';
import { gazetteerCsv, generatePopulation } from '../../simulators/population';

describe('contract: the seeded population and its gazetteer', function () {
  const population = generatePopulation({ seed: 'population-test', properties: 4000 });

  it('is deterministic: the same seed gives the same population, another seed another', function () {
    const digest = (p: object) => createHash('sha256').update(JSON.stringify(p)).digest('hex');
    assert.strictEqual(digest(generatePopulation({ seed: 'population-test', properties: 4000 })), digest(population));
    assert.notStrictEqual(digest(generatePopulation({ seed: 'another', properties: 4000 })), digest(population));
  });

  it('writes the LLPG extract CSV with the contract header, CRLF, and BS7666 shapes', function () {
    const csv = gazetteerCsv(population.gazetteer);
    assert.ok(csv.startsWith('uprn,usrn,saon,paon,street_description,locality,town_name,post_town,postcode,x,y,logical_status\r\n'));
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    assert.strictEqual(rows.length, 4000);
    assert.strictEqual(new Set(rows.map((r) => r.uprn)).size, rows.length, 'UPRNs are unique');
    for (const r of rows) {
      assert.match(r.uprn, /^\d{1,12}$/);
      assert.match(r.usrn, /^\d{8}$/);
      assert.match(r.postcode, /^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$/);
      assert.ok(['1', '6', '8'].includes(r.logical_status));
      assert.ok(r.paon && r.street_description && r.town_name && r.post_town);
    }
    assert.ok(rows.some((r) => /^Flat /.test(r.saon)), 'flats with SAONs');
    assert.ok(rows.some((r) => !/\d/.test(r.paon) && !r.saon), 'named houses');
    assert.ok(rows.some((r) => r.logical_status === '6') && rows.some((r) => r.logical_status === '8'), 'provisional and historic records');
  });

  it('spreads people across the systems: known to all, to the CRM only, to none; ambiguous tenancies; CRM contacts with and without UPRN; linked accounts', function () {
    const { examples, residents, crmContacts } = population;
    assert.ok(examples.knownToAll.length && examples.crmOnly.length && examples.knownToNone.length && examples.ambiguousTenancies.length && examples.crmWithoutUprn.length);
    const byId = new Map(residents.map((r) => [r.residentId, r]));
    const all = byId.get(examples.knownToAll[0])!;
    assert.ok(all.crmContactId && all.planningPartyId && all.tenancyRef && all.councilTaxAccountRef);
    const contact = crmContacts.find((c) => c.contactId === all.crmContactId)!;
    assert.ok(contact.accounts.some((a) => a.fund === 'CTX' && a.accountRef === all.councilTaxAccountRef), 'council tax account linked to the CRM contact');
    assert.ok(contact.accounts.some((a) => a.fund === 'HRA'), 'rent account linked to the CRM contact');
    const ambiguous = population.tenancies.find((t) => t.tenancyRef === examples.ambiguousTenancies[0])!;
    assert.strictEqual(ambiguous.tenants.length, 2);
    assert.strictEqual(ambiguous.tenants[0].surname, ambiguous.tenants[1].surname);
    assert.ok(crmContacts.some((c) => c.address.uprn) && crmContacts.some((c) => !c.address.uprn));
    assert.strictEqual(new Set(residents.map((r) => r.residentId)).size, residents.length);
  });
});
