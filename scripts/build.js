#!/usr/bin/env node
// Compiles the TypeScript (tsc) and copies each node's editor files (.html, locales/,
// icons/) next to its compiled .js, which is where Node-RED looks for them, and the
// adapters' WSDL and schema files next to theirs.
// `--if-needed` (used by `npm start`) skips the work when dist/ is newer than every source.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const sourceDirs = ['hub', 'nodes', 'adapters', 'simulators', 'tests', 'bench'];
const stamp = path.join(dist, '.build-stamp');

function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function upToDate() {
  if (!fs.existsSync(stamp)) return false;
  const built = fs.statSync(stamp).mtimeMs;
  const inputs = [...sourceDirs.map((d) => path.join(root, d)), path.join(root, 'tsconfig.json')];
  return inputs.every((p) => (fs.existsSync(p) && fs.statSync(p).isDirectory() ? newestMtime(p) : fs.existsSync(p) ? fs.statSync(p).mtimeMs : 0) <= built);
}

function copyEditorFiles(srcDir, outDir) {
  if (!fs.existsSync(srcDir)) return;
  for (const entry of fs.readdirSync(srcDir, { withFileTypes: true })) {
    const src = path.join(srcDir, entry.name);
    const out = path.join(outDir, entry.name);
    if (entry.isDirectory()) copyEditorFiles(src, out);
    else if (!entry.name.endsWith('.ts')) {
      fs.mkdirSync(outDir, { recursive: true });
      fs.copyFileSync(src, out);
    }
  }
}

if (process.argv.includes('--if-needed') && upToDate()) process.exit(0);

const tsc = require.resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });
copyEditorFiles(path.join(root, 'nodes'), path.join(dist, 'nodes'));
// The adapters' own files (WSDLs) sit beside their compiled code, so an adapter finds them by __dirname.
copyEditorFiles(path.join(root, 'adapters'), path.join(dist, 'adapters'));
if (result.status !== 0) {
  console.error('build: TypeScript reported errors (see above)');
  process.exit(result.status || 1);
}
fs.mkdirSync(dist, { recursive: true });
fs.writeFileSync(stamp, new Date().toISOString());
