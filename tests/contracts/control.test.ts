import assert from 'assert';
import { startSimulators, RunningSimulators } from '../../simulators/index';
import { clientFor, expectFault } from './helpers';

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  return { status: response.status, body: await response.json() };
}

describe('contract: simulators together, and their control side', function () {
  let running: RunningSimulators;

  before(async function () {
    running = await startSimulators({ seed: 'contract-tests', properties: 3000, pollMs: 0 });
  });
  after(async function () {
    await running?.stop();
  });

  it('startSimulators gives the endpoints, SFTP details, gazetteer file, population and control handles', async function () {
    for (const endpoint of Object.values(running.endpoints)) {
      const response = await fetch(`${endpoint}?wsdl`);
      assert.strictEqual(response.status, 200);
      assert.match(await response.text(), new RegExp(`location="${endpoint}"`), 'the served WSDL points at where the service listens');
    }
    assert.ok(running.sftp && running.sftp.port > 0 && running.sftp.hostKeyFingerprint.startsWith('SHA256:'));
    assert.strictEqual(running.population.seed, 'contract-tests');
    assert.deepStrictEqual(Object.keys(running.controls).sort(), ['crm', 'finance', 'housing', 'payments', 'planning', 'revenues']);
    const { body } = await json(running.controlUrl);
    assert.deepStrictEqual(Object.keys(body).sort(), ['crm', 'finance', 'housing', 'payments', 'planning', 'revenues']);
  });

  it('over HTTP: failNext N makes exactly the next N calls ServiceUnavailable, then calls work again', async function () {
    const client = await clientFor(running.endpoints.crm);
    const set = await json(`${running.controlUrl}/crm/faults`, { method: 'POST', body: JSON.stringify({ failNext: 2 }) });
    assert.strictEqual(set.body.failNext, 2);
    for (let i = 0; i < 2; i++) assert.strictEqual((await expectFault(client, 'GetCase', { caseRef: 'CAS-000001' })).name, 'ServiceUnavailable');
    assert.strictEqual((await expectFault(client, 'GetCase', { caseRef: 'CAS-999999' })).name, 'CaseNotFound');
  });

  it('down "unavailable" answers HTTP 503 while the control side still works; DELETE /faults brings it back', async function () {
    const own = running.endpoints.housing.replace(/\/TenancyService$/, '/_control');
    await json(`${own}/faults`, { method: 'PUT', body: JSON.stringify({ down: 'unavailable' }) });
    assert.strictEqual((await fetch(`${running.endpoints.housing}?wsdl`)).status, 503);
    assert.strictEqual((await json(own)).body.faults.down, 'unavailable', 'its own /_control still answers');
    await json(`${own}/faults`, { method: 'DELETE' });
    assert.strictEqual((await fetch(`${running.endpoints.housing}?wsdl`)).status, 200);
  });

  it('down "refuse" closes the port (connection refused); switched off through the control port, the same port answers again', async function () {
    await json(`${running.controlUrl}/planning/faults`, { method: 'POST', body: JSON.stringify({ down: 'refuse' }) });
    await assert.rejects(fetch(`${running.endpoints.planning}?wsdl`), (err: any) => err.cause?.code === 'ECONNREFUSED');
    await json(`${running.controlUrl}/planning/faults`, { method: 'POST', body: JSON.stringify({ down: false }) });
    assert.strictEqual((await fetch(`${running.endpoints.planning}?wsdl`)).status, 200);
  });

  it('slowMs is reported and calls still succeed; a bad setting is a 400 that changes nothing', async function () {
    const set = await json(`${running.controlUrl}/crm/faults`, { method: 'POST', body: JSON.stringify({ slowMs: 20 }) });
    assert.strictEqual(set.body.slowMs, 20);
    const client = await clientFor(running.endpoints.crm);
    const [created] = await client.CreateCaseAsync({ caseType: 'Repair', title: 't', externalSystem: 'housing', externalRef: 'slow' });
    assert.match(created.caseRef, /^CAS-/);
    for (const bad of [{ failPercent: 101 }, { down: 'sometimes' }, { unknown: 1 }, { rejectField: 'postcode' }]) {
      const answer = await json(`${running.controlUrl}/crm/faults`, { method: 'POST', body: JSON.stringify(bad) });
      assert.strictEqual(answer.status, 400);
      assert.ok(answer.body.error);
    }
    assert.strictEqual((await json(`${running.controlUrl}/crm/faults`)).body.slowMs, 20);
    await running.crm.faults.reset();
  });

  it('actions and state over HTTP: raise planning events, read state; unknown action 404, bad input 400', async function () {
    const raised = await json(`${running.controlUrl}/planning/actions/raise-events`, { method: 'POST', body: JSON.stringify({ count: 3 }) });
    assert.strictEqual(raised.body.length, 3);
    const state = await json(`${running.controlUrl}/planning/state`);
    assert.strictEqual(state.body.lastSequence, raised.body[2].sequence);
    assert.strictEqual((await json(`${running.controlUrl}/planning/actions/nothing`, { method: 'POST', body: '{}' })).status, 404);
    assert.strictEqual((await json(`${running.controlUrl}/planning/actions/raise-events`, { method: 'POST', body: JSON.stringify({ count: -1 }) })).status, 400);
    assert.strictEqual((await json(`${running.controlUrl}/crm/actions/change-address`, { method: 'POST', body: JSON.stringify({ contactId: 'nobody', newAddress: { line1: 'x', postcode: 'XM1 1AA' } }) })).status, 400);
  });
});
