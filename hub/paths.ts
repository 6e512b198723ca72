import path from 'path';

// Compiled code runs from dist/hub, sources sit in hub/: the repository root is the
// nearest folder above this file whose package.json is council-hub's.
function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    try {
      const pkg = require(path.join(dir, 'package.json'));
      if (pkg.name === 'council-hub') return dir;
    } catch {
      // no package.json here: keep climbing
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`council-hub: cannot find the repository root above ${start}`);
    dir = parent;
  }
}

export const repoRoot = findRepoRoot(__dirname);
export const distDir = path.join(repoRoot, 'dist');
export const mappingsDir = path.join(repoRoot, 'mappings');
export const flowsDir = path.join(repoRoot, 'flows');
