import assert from 'assert';
import { randomUUID } from 'crypto';
import type * as soap from 'soap';
import { crmCaseOf } from '../../hub/api/people-api';
import { CrmSimulator } from '../../simulators/crm';
import { clientFor, testPopulation } from '../contracts/helpers';

/**
 * The case page's "as the CRM has it": the case read from a real CRM (the simulator, over its
 * SOAP contract: FindCaseByExternalRef, then GetCase), and a clear reason wherever it cannot be.
 */
describe('the case page: the case as the CRM has it (real CRM simulator over SOAP)', function () {
  this.timeout(30000);
  let crm: CrmSimulator;
  let client: soap.Client;
  let env: Record<string, string>;
  const population = testPopulation();
  const contact = population.crmContacts[0];

  before(async () => {
    crm = await CrmSimulator.start({ population, port: 0 });
    client = await clientFor(crm.endpoint);
    env = { CRM_WSDL: `${crm.endpoint}?wsdl` };
  });
  after(async () => {
    await crm?.stop();
  });

  it('shows the CRM case with every update it holds, its status and contact', async () => {
    const ref = `26/${randomUUID().slice(0, 5)}/FUL`;
    const [created] = await client.CreateCaseAsync({ caseType: 'Planning', title: 'Extension', externalSystem: 'planning', externalRef: ref, contactId: contact.contactId });
    for (const [status, day] of [['Received', '18'], ['Validated', '19']]) {
      await client.AddCaseUpdateAsync({ caseRef: created.caseRef, status, summary: `${status} by planning`, occurredAt: `2026-11-${day}T10:00:00+00:00`, sourceEventId: `planning:${ref}:${day}` });
    }
    const view = await crmCaseOf(`planning:${ref}`, env);
    assert.strictEqual(view.error, undefined);
    assert.strictEqual(view.caseRef, created.caseRef);
    assert.strictEqual(view.contactId, contact.contactId);
    assert.deepStrictEqual(view.updates?.map((u) => [u.status, u.sourceEventId]), [['Received', `planning:${ref}:18`], ['Validated', `planning:${ref}:19`]]);
    assert.strictEqual(view.status, 'Validated');
  });

  it('says why when it cannot: no CRM_WSDL, no such case in the CRM, a key that names no case, the CRM not answering', async () => {
    assert.match((await crmCaseOf('planning:26/00001/FUL', {})).error ?? '', /CRM_WSDL is not set/);
    assert.match((await crmCaseOf(`housing:J-${randomUUID()}`, env)).error ?? '', /the CRM has no case for housing J-/);
    assert.match((await crmCaseOf('payment:PAY-1', env)).error ?? '', /names no planning or housing case/);
    assert.match((await crmCaseOf('planning:', env)).error ?? '', /names no planning or housing case/);
    assert.match((await crmCaseOf('planning:26/00001/FUL', { CRM_WSDL: 'http://127.0.0.1:1/crm?wsdl' })).error ?? '', /the CRM could not be read/);
  });
});
