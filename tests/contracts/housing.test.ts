import assert from 'assert';
import fs from 'fs';
import http from 'http';
import path from 'path';
import { randomUUID } from 'crypto';
import * as soap from 'soap';
import { repoRoot } from '../../hub/paths';
import { HousingSimulator } from '../../simulators/housing';
import { clientFor, expectFault, testPopulation, waitFor } from './helpers';

describe('contract: housing (TenancyService)', function () {
  let housing: HousingSimulator;
  let client: soap.Client;
  const population = testPopulation();
  const ambiguous = population.tenancies.find((t) => t.tenancyRef === population.examples.ambiguousTenancies[0])!;
  const single = population.tenancies.find((t) => t.tenants.length === 1)!;
  const newAddress = { addressLine1: '7 Rowan Close', addressLine2: 'Dunmere', postcode: 'xm7 1ab', uprn: '10009000777' };

  before(async function () {
    housing = await HousingSimulator.start({ population, port: 0 });
    client = await clientFor(housing.endpoint);
  });
  after(async function () {
    await housing?.stop();
  });

  it('serves its WSDL with namespace urn:council-hub:TenancyService and every operation', function () {
    assert.deepStrictEqual(Object.keys(client.describe().TenancyService.TenancyPort).sort(), ['FindTenant', 'GetTenant', 'UpdateCorrespondenceAddress']);
    assert.strictEqual(client.wsdl.definitions.$targetNamespace, 'urn:council-hub:TenancyService');
  });

  it('FindTenant: two tenants with one surname at one UPRN are both found; dateOfBirth tells them apart', async function () {
    const [both] = await client.FindTenantAsync({ surname: ambiguous.tenants[0].surname, uprn: ambiguous.uprn });
    const tenants = [].concat(both.tenant) as any[];
    assert.strictEqual(tenants.length, 2);
    assert.deepStrictEqual(Object.keys(tenants[0]).sort(), ['forename', 'personRef', 'surname', 'tenancyRef', 'uprn']);
    const [one] = await client.FindTenantAsync({ surname: ambiguous.tenants[1].surname, uprn: ambiguous.uprn, dateOfBirth: ambiguous.tenants[1].dateOfBirth });
    assert.deepStrictEqual(([].concat(one.tenant) as any[]).map((t) => t.personRef), [ambiguous.tenants[1].personRef]);
    const [none] = await client.FindTenantAsync({ surname: 'Nobody', uprn: ambiguous.uprn });
    assert.ok(!none?.tenant);
    assert.strictEqual((await expectFault(client, 'FindTenant', { surname: 'x', uprn: 'abc' })).name, 'InvalidRequest');
  });

  it('UpdateCorrespondenceAddress: Updated, idempotent on requestId, Unchanged for the same address; FindTenant then knows the new UPRN only', async function () {
    const tenant = single.tenants[0];
    const requestId = randomUUID();
    const call = { tenancyRef: single.tenancyRef, personRef: tenant.personRef, address: newAddress, effectiveDate: '2026-11-18', requestId };
    assert.strictEqual((await client.UpdateCorrespondenceAddressAsync(call))[0].result, 'Updated');
    assert.strictEqual((await client.UpdateCorrespondenceAddressAsync(call))[0].result, 'Updated', 'a repeated requestId answers as the first time');
    assert.strictEqual((await client.UpdateCorrespondenceAddressAsync({ ...call, requestId: randomUUID() }))[0].result, 'Unchanged');
    const [got] = await client.GetTenantAsync({ tenancyRef: single.tenancyRef, personRef: tenant.personRef });
    assert.strictEqual(got.tenant.correspondenceAddress.postcode, 'XM7 1AB');
    assert.strictEqual(got.tenant.correspondenceEffectiveDate, '2026-11-18');
    assert.strictEqual(got.tenant.propertyAddress.uprn, single.uprn, 'the let property stays');
    assert.strictEqual(got.tenant.rentAccountRef, single.rentAccountRef);
    const [moved] = await client.FindTenantAsync({ surname: tenant.surname, uprn: newAddress.uprn });
    assert.ok(([].concat(moved.tenant) as any[]).some((t) => t.personRef === tenant.personRef));
    const [old] = await client.FindTenantAsync({ surname: tenant.surname, uprn: single.uprn });
    assert.ok(!([].concat(old?.tenant ?? []) as any[]).some((t) => t.personRef === tenant.personRef));
  });

  it('faults: TenantNotFound, InvalidAddress (missing line 1, bad postcode, line too long, rejected field), ServiceUnavailable', async function () {
    const tenant = ambiguous.tenants[0];
    const base = { tenancyRef: ambiguous.tenancyRef, personRef: tenant.personRef, effectiveDate: '2026-11-18' };
    assert.strictEqual((await expectFault(client, 'UpdateCorrespondenceAddress', { ...base, personRef: 'nobody', address: newAddress, requestId: randomUUID() })).name, 'TenantNotFound');
    assert.strictEqual((await expectFault(client, 'GetTenant', { tenancyRef: 'T9999999', personRef: 'x' })).name, 'TenantNotFound');
    const { addressLine1: _line1, ...noLine1 } = newAddress;
    for (const address of [noLine1, { ...newAddress, postcode: '12345' }, { ...newAddress, addressLine2: 'x'.repeat(51) }]) {
      assert.strictEqual((await expectFault(client, 'UpdateCorrespondenceAddress', { ...base, address, requestId: randomUUID() })).name, 'InvalidAddress');
    }
    await housing.faults.set({ rejectField: { field: 'addressLine2' } });
    assert.strictEqual((await expectFault(client, 'UpdateCorrespondenceAddress', { ...base, address: newAddress, requestId: randomUUID() })).name, 'InvalidAddress');
    await housing.faults.set({ rejectField: null, failPercent: 100 });
    const unavailable = await expectFault(client, 'GetTenant', { tenancyRef: ambiguous.tenancyRef, personRef: tenant.personRef });
    assert.strictEqual(unavailable.name, 'ServiceUnavailable');
    assert.strictEqual(unavailable.faultcode, 'soap:Server');
    await housing.faults.reset();
    await client.GetTenantAsync({ tenancyRef: ambiguous.tenancyRef, personRef: tenant.personRef });
  });

  it('pushes repair status to the hub RepairNotificationService.NotifyRepairStatus, retried until the hub answers', async function () {
    const wsdlFile = path.join(repoRoot, 'adapters/hub-services/RepairNotificationService.wsdl');
    const received: any[] = [];
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/soap/repair-notifications`;
    const wsdl = fs.readFileSync(wsdlFile, 'utf8').replace(/location="[^"]*"/, `location="${url}"`);
    const serviceName = /<wsdl:service name="(\w+)"/.exec(wsdl)![1];
    const portName = /<wsdl:port name="(\w+)"/.exec(wsdl)![1];
    let refuse = 1;
    soap.listen(server, '/soap/repair-notifications', {
      [serviceName]: {
        [portName]: {
          NotifyRepairStatus: (args: any) => {
            if (refuse-- > 0) throw { Fault: { faultcode: 'soap:Server', faultstring: 'ServiceUnavailable: hub starting' } };
            received.push(args);
            return { messageId: `M${received.length}` };
          },
        },
      },
    }, wsdl);
    const pusher = await HousingSimulator.start({ population, port: 0, hubRepairNotificationsUrl: url, retryMs: 100 });
    try {
      const raised = await pusher.notifyRepairStatus({ tenancyRef: single.tenancyRef, status: 'Raised', notes: 'Boiler not heating water' });
      const scheduled = await pusher.notifyRepairStatus({ jobRef: raised.payload.jobRef, tenancyRef: single.tenancyRef, status: 'Scheduled', appointmentDate: '2026-11-25' });
      await waitFor(() => (received.length === 2 ? true : undefined));
      assert.deepStrictEqual(received.map((r) => [r.jobRef, r.status]), [[raised.payload.jobRef, 'Raised'], [raised.payload.jobRef, 'Scheduled']], 'in order, after the retry');
      assert.strictEqual(received[0].tenancyRef, single.tenancyRef);
      assert.strictEqual(received[0].personRef, single.tenants[0].personRef);
      assert.strictEqual(received[1].appointmentDate, '2026-11-25');
      assert.strictEqual(scheduled.payload.status, 'Scheduled');
      await waitFor(() => (pusher.notifications().every((n) => n.status === 'delivered') ? true : undefined));
    } finally {
      await pusher.stop();
      server.close();
    }
  });
});
