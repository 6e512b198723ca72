import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { repoRoot } from '../../hub/paths';

/** The package installs into any Node-RED: every node is listed, compiled and has its editor file. */
describe('build of the nodes', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const listed: Record<string, string> = pkg['node-red'].nodes;

  it('lists every folder of nodes/ in package.json "node-red".nodes', () => {
    const folders = fs
      .readdirSync(path.join(repoRoot, 'nodes'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    const listedFolders = [...new Set(Object.values(listed).map((file) => path.basename(path.dirname(file))))].sort();
    assert.deepStrictEqual(listedFolders, folders);
  });

  for (const [name, file] of Object.entries(listed)) {
    it(`compiles ${name} with its editor file in the "council hub" palette (or a config node)`, () => {
      const js = path.join(repoRoot, file);
      assert.ok(fs.existsSync(js), `${file} is built`);
      assert.strictEqual(typeof require(js), 'function', `${file} exports the registration function`);
      const html = fs.readFileSync(js.replace(/\.js$/, '.html'), 'utf8');
      // Config nodes must be category 'config' for Node-RED to treat them as such.
      assert.match(html, /category: '(council hub|config)'/);
      assert.match(html, /data-help-name=/, 'has help text');
    });
  }
});

describe('examples', () => {
  it('the journeys\' examples are the journeys as flows/flows.json runs them (node scripts/export-examples.js)', () => {
    const check = require('child_process').spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'export-examples.js'), '--check'], { encoding: 'utf8' });
    assert.strictEqual(check.status, 0, check.stderr);
    const example = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', 'change-of-address.json'), 'utf8')) as Array<{ type: string; id: string }>;
    assert.ok(example.some((n) => n.type === 'tab' && n.id === 'coa.tab'));
    assert.ok(!example.some((n) => n.type === 'catch' && n.id === 'coa.catch'), 'no hand-listed Catch: the hub journals every failure');
    const cases = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', 'case-updates.json'), 'utf8')) as Array<{ type: string; id: string; mode?: string }>;
    assert.ok(cases.some((n) => n.type === 'crm-case'));
    assert.strictEqual(cases.find((n) => n.type === 'delivery')?.mode, 'timeline', 'case updates are a timeline');
    const payments = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', 'payments.json'), 'utf8')) as Array<{ type: string; id: string; mode?: string; target?: string; answersLater?: boolean; server?: string }>;
    for (const type of ['payment-file', 'govuk-pay-in', 'online-payment', 'refund-check', 'ledger-batch', 'ledger-answers', 'crm-note']) assert.ok(payments.some((n) => n.type === type), type);
    assert.ok(payments.filter((n) => n.type === 'delivery').every((n) => n.mode === 'timeline'), 'payments are never superseded');
    assert.ok(payments.filter((n) => n.type === 'delivery' && n.target === 'finance' && !/recorded/.test((n as any).name)).every((n) => n.answersLater), 'ledger deliveries wait for Finance');
    assert.ok(payments.some((n) => n.type === 'sftp-server' && n.id === payments.find((x) => x.type === 'sftp-watch')?.server), 'the SFTP config node comes with the example');
  });
});
