import assert from 'assert';
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { distDir, repoRoot } from '../../hub/paths';

/** Every .ts file under a folder of the repository, with its text. */
function sources(folder: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) out.push({ file: path.relative(repoRoot, full), text: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(path.join(repoRoot, folder));
  return out;
}

/** The modules a file imports or requires, as written. */
function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

/**
 * The layers (docs/architecture.md): adapters/ at the bottom, importing nothing of the
 * hub's; hub/ above them; nodes/ above hub, reaching it through its port; one module that
 * knows Node-RED's private fields.
 */
describe('layering', () => {
  it('no file under adapters/ imports hub/, nodes/ or simulators/', () => {
    const upward = sources('adapters').flatMap(({ file, text }) =>
      importsOf(text)
        .filter((spec) => spec.startsWith('.') && /^(hub|nodes|simulators)(\/|$)/.test(path.relative(repoRoot, path.resolve(repoRoot, path.dirname(file), spec))))
        .map((spec) => `${file} imports ${spec}`),
    );
    assert.deepStrictEqual(upward, []);
  });

  it('nodes reach the hub only through its port (hub/port.ts, via nodes/port.ts), never a global', () => {
    const reaching: string[] = [];
    for (const { file, text } of sources('nodes')) {
      for (const m of text.matchAll(/^import (type )?[^;]*?from '([^']+)'/gm)) {
        const target = path.relative(repoRoot, path.resolve(repoRoot, path.dirname(file), m[2]));
        if (!target.startsWith('hub/')) continue;
        const typeOnly = !!m[1];
        const ok = file === 'nodes/port.ts' ? ['hub/port', 'hub/standalone-port'].includes(target) : target === 'hub/port' && typeOnly;
        if (!ok) reaching.push(`${file} imports ${m[2]}`);
      }
    }
    assert.deepStrictEqual(reaching, []);
    const globals = sources('nodes').filter(({ text }) => /hubServices|globalThis|process\.env/.test(text)).map(({ file }) => file);
    assert.deepStrictEqual(globals, [], 'no node reads a global or the environment directly');
  });

  it("only hub/runtime/message-observer.ts references Node-RED's private message fields", () => {
    const privateFields = /_inputCallbacks?\b|_expectedDoneCount|@node-red\/runtime\/lib/;
    const files = ['hub', 'nodes', 'adapters'].flatMap((f) => sources(f)).filter(({ text }) => privateFields.test(text)).map(({ file }) => file);
    assert.deepStrictEqual(files, ['hub/runtime/message-observer.ts']);
  });

  it('production start-up never loads the simulators', () => {
    const script = `require(${JSON.stringify(path.join(distDir, 'hub', 'server.js'))});
      process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes(${JSON.stringify(path.join(distDir, 'simulators'))}))));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
    assert.deepStrictEqual(loaded, []);
  });

  it('only hub/config.ts reads the environment in hub/ (the demo writes the flows\' endpoints into it)', () => {
    const readers = sources('hub')
      .filter(({ file }) => file !== 'hub/config.ts')
      .filter(({ text }) => /process\.env/.test(text.replace(/if \(!process\.env\[name\]\) process\.env\[name\] = value/g, '')))
      .map(({ file }) => file);
    assert.deepStrictEqual(readers, []);
  });
});
