import assert from 'assert';
import helper from 'node-red-node-test-helper';
import type { NodeAPI, Node, NodeMessage } from 'node-red';
import batchNode from '../../nodes/revenues-batch/revenues-batch';
import { settleAcks } from '../../adapters/revenues/acks';
import type { AckRow } from '../../adapters/revenues/files';

helper.init(require.resolve('node-red'));

/** Stands in for sftp-write: records the file, then succeeds or fails as told. */
function fileSink(RED: NodeAPI) {
  function Sink(this: Node & { files: any[]; failWith?: string }, config: any) {
    RED.nodes.createNode(this, config);
    this.files = [];
    this.on('input', (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      this.files.push(msg);
      setTimeout(() => done(this.failWith ? new Error(this.failWith) : undefined), 20);
    });
  }
  RED.nodes.registerType('test-file-sink', Sink as any);
}

const row = (surname: string) => ({ request_id: '', forename: 'Ann', surname, date_of_birth: '1980-01-01', previous_uprn: '1', uprn: '2', address_line_1: '2 High Street', postcode: 'XM1 1AA', effective_date: '2026-11-18' });

describe('revenues-batch node', () => {
  afterEach(async () => helper.unload());

  async function load(maxRows: number) {
    await helper.load([batchNode as any, fileSink, require('@node-red/nodes/core/common/25-catch')], [
      { id: 'b', type: 'revenues-batch', maxRows: String(maxRows), maxAgeSeconds: '60', wires: [['sink']] },
      { id: 'sink', type: 'test-file-sink' },
      { id: 'c', type: 'catch', scope: ['b'], wires: [['errors']] },
      { id: 'errors', type: 'helper' },
    ]);
    return { batch: helper.getNode('b'), sink: helper.getNode('sink') as any, errors: helper.getNode('errors') };
  }

  it('writes one file per full batch, rows named by their delivery, and finishes each row after the write', async () => {
    const { batch, sink, errors } = await load(2);
    const failed: any[] = [];
    errors.on('input', (m: any) => failed.push(m));
    batch.receive({ payload: row('Smith'), delivery: { id: 'd-1' } });
    batch.receive({ payload: row('Jones'), delivery: { id: 'd-2' } });
    await new Promise((r) => setTimeout(r, 200));
    assert.strictEqual(sink.files.length, 1);
    assert.match(sink.files[0].filename, /^ADDR_\d{14}_\d{4}\.csv$/);
    const lines = sink.files[0].payload.split('\r\n');
    assert.match(lines[1], /^d-1,Ann,Smith,/);
    assert.match(lines[2], /^d-2,Ann,Jones,/);
    assert.deepStrictEqual(sink.files[0].requestIds, ['d-1', 'd-2']);
    assert.strictEqual(failed.length, 0);
  });

  it('fails every row of a file that could not be written, with the reason', async () => {
    const { batch, sink, errors } = await load(2);
    sink.failWith = 'SFTP connection refused';
    const failed: any[] = [];
    errors.on('input', (m: any) => failed.push(m));
    batch.receive({ payload: row('Smith'), delivery: { id: 'd-1' } });
    batch.receive({ payload: row('Jones'), delivery: { id: 'd-2' } });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepStrictEqual(failed.map((m) => m.delivery.id).sort(), ['d-1', 'd-2']);
    assert.match(failed[0].error.message, /was not written: SFTP connection refused/);
  });

  it('refuses a message that is not a request row', async () => {
    const { batch, errors } = await load(2);
    const caught = new Promise<any>((resolve) => errors.on('input', resolve));
    batch.receive({ payload: 'Ann Smith moved' });
    assert.match((await caught).error.message, /must be a revenues request row/);
  });
});

describe('settling deliveries from a revenues ack', () => {
  it('delivers ACCEPTED, skips NO_MATCH, kills REJECTED with the reason, and lists what it could not settle', async () => {
    const calls: string[] = [];
    const open = new Set(['a', 'b', 'c']);
    const summary = await settleAcks(
      [
        { requestId: 'a', outcome: 'ACCEPTED', reason: '' },
        { requestId: 'b', outcome: 'NO_MATCH', reason: '' },
        { requestId: 'c', outcome: 'REJECTED', reason: 'date of birth does not match' },
        { requestId: 'zz', outcome: 'ACCEPTED', reason: '' },
      ],
      {
        delivered: async (id) => (calls.push(`delivered ${id}`), open.has(id)),
        skipped: async (id, reason) => (calls.push(`skipped ${id}: ${reason}`), open.has(id)),
        rejected: async (id, reason) => (calls.push(`rejected ${id}: ${reason}`), open.has(id)),
      },
    );
    assert.deepStrictEqual(summary, { accepted: 1, rejected: 1, noMatch: 1, unmatched: ['zz'] });
    assert.match(calls[1], /skipped b: revenues: no council tax account at the previous address/);
    assert.strictEqual(calls[2], 'rejected c: revenues rejected the change: date of birth does not match');
  });

  it('settles many rows at once, so their journal writes can share commits, and keeps the file order in the summary', async () => {
    let inFlight = 0;
    let most = 0;
    const open = new Set(Array.from({ length: 100 }, (_, i) => `r${i}`));
    const settle = async (id: string) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      return open.delete(id); // a request id answered twice settles once
    };
    const rows: AckRow[] = [...open].map((requestId) => ({ requestId, outcome: 'ACCEPTED', reason: '' }));
    rows.splice(50, 0, { requestId: 'r10', outcome: 'ACCEPTED', reason: '' }, { requestId: 'unknown', outcome: 'REJECTED', reason: 'x' });
    const summary = await settleAcks(rows, { delivered: settle, skipped: settle, rejected: settle });
    assert.ok(most > 1 && most <= 32, `at most 32 at a time, more than one: ${most}`);
    assert.strictEqual(summary.accepted, 100);
    assert.deepStrictEqual(summary.unmatched.sort(), ['r10', 'unknown']);
  });
});
