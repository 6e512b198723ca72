#!/usr/bin/env node
// Writes examples/change-of-address.json from the hub's own flows (flows/flows.json): the
// "Change of address" tab, its nodes and the config nodes they use, so the example in the
// editor's Import > Examples is the journey as it runs. `--check` exits 1 if it is stale.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const TAB = 'coa.tab';

function example() {
  const flows = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'flows.json'), 'utf8'));
  const tab = flows.find((n) => n.id === TAB);
  if (!tab) throw new Error(`flows/flows.json has no tab ${TAB}`);
  const nodes = flows.filter((n) => n.z === TAB);
  const named = new Set(nodes.flatMap((n) => Object.values(n).filter((v) => typeof v === 'string')));
  const configs = flows.filter((n) => n.z === undefined && n.type !== 'tab' && named.has(n.id));
  return JSON.stringify([tab, ...nodes, ...configs], null, 2) + '\n';
}

const file = path.join(root, 'examples', 'change-of-address.json');
const text = example();
if (process.argv.includes('--check')) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (current !== text) {
    console.error('examples/change-of-address.json differs from the flows: run `node scripts/export-examples.js`');
    process.exit(1);
  }
} else {
  fs.writeFileSync(file, text);
}
