#!/usr/bin/env node
// Writes the journeys' examples from the hub's own flows (flows/flows.json): each tab, its
// nodes and the config nodes they use, so the examples in the editor's Import > Examples are
// the journeys as they run. `--check` exits 1 if one is stale.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const EXAMPLES = { 'change-of-address.json': 'coa.tab', 'case-updates.json': 'cu.tab', 'payments.json': 'pay.tab' };

function example(TAB) {
  const flows = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'flows.json'), 'utf8'));
  const tab = flows.find((n) => n.id === TAB);
  if (!tab) throw new Error(`flows/flows.json has no tab ${TAB}`);
  const nodes = flows.filter((n) => n.z === TAB);
  const named = new Set(nodes.flatMap((n) => Object.values(n).filter((v) => typeof v === 'string')));
  const configs = flows.filter((n) => n.z === undefined && n.type !== 'tab' && named.has(n.id));
  return JSON.stringify([tab, ...nodes, ...configs], null, 2) + '\n';
}

let stale = 0;
for (const [name, tab] of Object.entries(EXAMPLES)) {
  const file = path.join(root, 'examples', name);
  const text = example(tab);
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current !== text) {
      console.error(`examples/${name} differs from the flows: run \`node scripts/export-examples.js\``);
      stale += 1;
    }
  } else {
    fs.writeFileSync(file, text);
  }
}
process.exit(stale ? 1 : 0);
