import assert from 'assert';
import helper from 'node-red-node-test-helper';
import soapEndpointNode from '../../nodes/soap-endpoint/soap-endpoint';
import crmCaseNode from '../../nodes/crm-case/crm-case';
import { startSimulators, type RunningSimulators } from '../../simulators';
import type { CaseUpdated } from '../../adapters/canonical';
import { eachTestPort, type testPort } from '../support/test-port';

helper.init(require.resolve('node-red'));
const catchNode = require('@node-red/nodes/core/common/25-catch');

/** The crm-case node against the real CRM simulator, with the hub's port over real stores. */
describe('crm-case node (real CRM simulator)', function () {
  this.timeout(60000);
  let sims: RunningSimulators;
  let hub: ReturnType<typeof testPort>;

  before(async () => {
    sims = await startSimulators({ properties: 1000, sftp: false });
  });
  after(async () => sims?.stop());
  eachTestPort(helper, (port) => (hub = port));

  const repair = (jobRef: string, status: string, statusDate: string, tenancy = { ref: 'T0000001', person: 'T0000001-1' }): CaseUpdated => ({
    eventType: 'case.updated',
    sourceSystem: 'housing',
    sourceRef: jobRef,
    caseType: 'Repair',
    title: `Repair job ${jobRef}`,
    status,
    summary: `Repair ${status.toLowerCase()}`,
    eventDate: statusDate,
    occurredAt: `${statusDate}T00:00:00Z`,
    sourceEventId: `housing:${jobRef}:${status}:${statusDate}`,
    parties: { housingTenancyRef: tenancy.ref, housingPersonRef: tenancy.person },
  });

  async function load() {
    await helper.load([soapEndpointNode as any, crmCaseNode as any, catchNode], [
      { id: 'crm', type: 'soap-endpoint', wsdl: `${sims.endpoints.crm}?wsdl`, endpoint: '', auth: 'none', timeout: 5 },
      { id: 'case', type: 'crm-case', endpoint: 'crm', mapping: 'case-to-crm', wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['case'], wires: [['failed']] },
      { id: 'failed', type: 'helper' },
    ]);
  }

  /** A delivery of the update, as the delivery node starts it (timeline per case). */
  async function delivered(update: CaseUpdated) {
    const { message } = await hub.journal.record({ source: 'housing', sourceMessageId: update.sourceEventId, key: update.sourceRef, payload: update, entry: { nodeId: 'j', how: 'send', msg: {} } });
    const started = await hub.port.journal!.startDelivery({ messageId: message.id, target: 'crm', key: `housing:${update.sourceRef}`, order: Date.parse(update.occurredAt), mode: { timeline: true }, nodeId: 'd', msg: { payload: update } });
    return started;
  }

  function run(msg: object): Promise<any> {
    return new Promise((resolve, reject) => {
      helper.getNode('out').once('input', resolve);
      helper.getNode('failed').once('input', (m: any) => reject(new Error(m.error.message)));
      helper.getNode('case').receive(msg);
    });
  }

  it('creates the case for the CRM contact the hub found holding the tenancy, and finds it the next time', async () => {
    await load();
    const tenancy = sims.population.tenancies[0];
    const tenant = tenancy.tenants[0];
    await hub.xref.remember('C0000042', 'housing', { tenancyRef: tenancy.tenancyRef, personRef: tenant.personRef });
    const first = repair('J9000001', 'Raised', '2026-11-20', { ref: tenancy.tenancyRef, person: tenant.personRef });
    const started = await delivered(first);
    const out = await run({ payload: first, delivery: started.tag });
    assert.match(out.bindings.caseRef, /^CAS-/);
    assert.match(out.payload.updateId, /^U/, 'the update is added');
    assert.deepStrictEqual(sims.crm.getCase(out.bindings.caseRef)?.updates.map((u) => [u.sourceEventId, u.status]), [[first.sourceEventId, 'Raised']]);
    assert.match(out.case.note, /created for contact C0000042/);
    assert.deepStrictEqual({ created: out.case.created, contactId: out.case.contactId }, { created: true, contactId: 'C0000042' });
    assert.strictEqual(sims.crm.getCase(out.bindings.caseRef)?.contactId, 'C0000042');
    assert.strictEqual(sims.crm.getCase(out.bindings.caseRef)?.externalRef, 'J9000001');
    const again = await run({ payload: repair('J9000001', 'Scheduled', '2026-11-21'), delivery: started.tag });
    assert.strictEqual(again.bindings.caseRef, out.bindings.caseRef);
    assert.strictEqual(again.case.created, false);
    assert.strictEqual(sims.crm.getCase(out.bindings.caseRef)?.updates.length, 2);
    assert.strictEqual(sims.crm.getCase(out.bindings.caseRef)?.status, 'Scheduled');
  });

  it('creates the case without a contact when nobody is known, and says so for the console', async () => {
    await load();
    const update = repair('J9000002', 'Raised', '2026-11-20', { ref: 'T9999999', person: 'T9999999-1' });
    const started = await delivered(update);
    const out = await run({ payload: update, delivery: started.tag });
    assert.strictEqual(out.case.contactId, undefined);
    assert.match(out.case.note, /created without a contact: the hub does not know whose housing J9000002 is/);
    assert.strictEqual(sims.crm.getCase(out.bindings.caseRef)?.contactId, undefined);
  });

  it('keeps the newer status when an older update of the case arrives after it was added', async () => {
    await load();
    const newer = repair('J9000003', 'Completed', '2026-11-25');
    const newerDelivery = await delivered(newer);
    await hub.port.journal!.settle(newerDelivery.delivery.id, 'delivered');
    const late = repair('J9000003', 'Scheduled', '2026-11-22');
    const lateDelivery = await delivered(late);
    assert.strictEqual(lateDelivery.action, 'send', 'a timeline delivers the late one too');
    const out = await run({ payload: late, delivery: lateDelivery.tag });
    const onCrm = sims.crm.getCase(out.bindings.caseRef)!;
    const entry = onCrm.updates.find((u) => u.sourceEventId === late.sourceEventId);
    assert.ok(entry, 'still its own entry on the case');
    assert.strictEqual(entry.occurredAt.slice(0, 10), '2026-11-22');
    assert.match(entry.summary, /received after a later update; the case stays Completed/);
    assert.strictEqual(onCrm.status, 'Completed', 'the case keeps its newest event\'s status');
    assert.strictEqual(out.case.late, true);
  });

  it('refuses a message that is not a case update, with the reason', async () => {
    await load();
    await assert.rejects(run({ payload: { eventType: 'person.address.changed' }, delivery: { id: 'x', target: 'crm', key: 'k', order: 0, seq: 0 } }), /msg.payload must be a case.updated event/);
  });
});
