import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { SharingPolicy, SharingRulesError, decideSharing, parseSharingRules, type SharingRules } from '../../adapters/sharing';
import { MappingLibrary } from '../../adapters/mapping';
import type { HousingUpdateCorrespondenceAddress, PlanningUpdatePartyAddress, RevenuesAddressChangeRow } from '../../adapters/canonical';
import { MAPPINGS, fixture } from './fixtures';

const event = fixture('person.address.changed', 'canonical-to-housing/flat-with-saon.input.json');

describe('data-sharing rules', () => {
  const rules: SharingRules = {
    targets: {
      planning: { events: { 'person.address.changed': { fields: ['eventId', 'person.surname', 'previousAddress.uprn', 'newAddress'] } } },
      tags: { events: { 'thing.happened': { fields: ['items.code'] } } },
    },
  };

  it('keeps only the listed fields (a listed field brings all under it) and says what it removed', () => {
    const decision = decideSharing(rules, 'planning', event);
    assert.ok(decision.share);
    assert.deepStrictEqual(decision.event, {
      eventType: 'person.address.changed',
      eventId: event.eventId,
      person: { surname: 'Smith' },
      previousAddress: { uprn: event.previousAddress.uprn },
      newAddress: event.newAddress,
    });
    assert.ok(decision.removed.includes('person.dateOfBirth'));
    assert.ok(decision.removed.includes('person.ids.crmContactId'));
    assert.ok(decision.removed.includes('previousAddress.postcode'));
    assert.ok(!decision.removed.some((p) => p.startsWith('newAddress')));
    assert.strictEqual(event.person.dateOfBirth, '1980-03-14', 'the original event is untouched');
  });

  it('applies a path through an array to each item', () => {
    const decision = decideSharing(rules, 'tags', { eventType: 'thing.happened', items: [{ code: 'A', secret: 1 }, { code: 'B' }] });
    assert.ok(decision.share);
    assert.deepStrictEqual(decision.event, { eventType: 'thing.happened', items: [{ code: 'A' }, { code: 'B' }] });
    assert.deepStrictEqual(decision.removed, ['items.secret']);
  });

  it('skips an event the target may not receive, an unknown target and an event without a type, with the reason', () => {
    const notListed = decideSharing(rules, 'planning', { eventType: 'payment.received' });
    assert.deepStrictEqual(notListed, {
      share: false, target: 'planning', eventType: 'payment.received', reason: 'data-sharing rules do not allow payment.received events to be sent to planning',
    });
    const unknown = decideSharing(rules, 'police', event);
    assert.ok(!unknown.share && unknown.reason === 'no data-sharing rules for target "police": it receives nothing');
    const untyped = decideSharing(rules, 'planning', { eventId: 'x' });
    assert.ok(!untyped.share && /no eventType/.test(untyped.reason));
  });

  it('refuses a malformed rules file, naming what is wrong', () => {
    assert.throws(() => parseSharingRules('{', 'rules.json'), (e: Error) => e instanceof SharingRulesError && /rules.json is not valid JSON/.test(e.message));
    assert.throws(() => parseSharingRules('{"targets":{"planning":{"events":{"x":{"fields":["a..b"]}}}}}', 'rules.json'),
      /rules.json \/targets\/planning\/events\/x\/fields\/0 must match pattern/);
    assert.throws(() => parseSharingRules('{"targets":{"planning":{"events":{"x":{}}}}}'), /must have property "fields"/);
  });

  it('reads the rules file again when it changes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-sharing-'));
    try {
      const file = path.join(dir, 'sharing-rules.json');
      fs.writeFileSync(file, JSON.stringify(rules));
      const policy = new SharingPolicy(file);
      assert.ok(policy.decide('planning', event).share);
      fs.writeFileSync(file, JSON.stringify({ targets: {} }));
      fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
      assert.ok(!policy.decide('planning', event).share);
      assert.deepStrictEqual(policy.targets(), []);
      fs.rmSync(file);
      assert.throws(() => policy.decide('planning', event), /sharing rules file .* does not exist/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the council rules in mappings/config agree with the mappings', () => {
    const policy = new SharingPolicy(path.join(MAPPINGS, 'config', 'sharing-rules.json'));
    const library = new MappingLibrary({ mappingsDir: MAPPINGS });
    const bindings: Record<string, Record<string, string>> = {
      planning: { partyId: 'P1' },
      housing: { tenancyRef: 'T1', personRef: 'PR1' },
      revenues: {},
    };
    for (const target of ['planning', 'housing', 'revenues']) {
      it(`${target}: the shared part of an address change is enough for canonical-to-${target}`, async () => {
        const decision = policy.decide(target, event);
        assert.ok(decision.share);
        assert.ok(decision.removed.includes('person.ids.crmContactId'), 'the CRM contact id is not shared');
        const output = await library.run<PlanningUpdatePartyAddress | HousingUpdateCorrespondenceAddress | RevenuesAddressChangeRow>(
          `canonical-to-${target}`, decision.event, bindings[target]);
        const uprn = 'address' in output ? output.address.uprn : output.uprn;
        assert.strictEqual(uprn, event.newAddress.uprn, 'the new address reaches the target');
      });
    }
    it('planning is not given the date of birth; a payment goes to none of them', () => {
      const planning = policy.decide('planning', event);
      assert.ok(planning.share && planning.removed.includes('person.dateOfBirth'));
      for (const target of policy.targets()) assert.strictEqual(policy.decide(target, { eventType: 'payment.received' }).share, false);
    });
  });
});
