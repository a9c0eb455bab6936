// Whether dist/ (what `npm run build` compiles, tsconfig.build.json) is behind the sources of this checkout:
// used by bin/andon.js (run the sources through tsx instead) and scripts/prepare.js (build only then).
// Plain JavaScript: it runs before anything is compiled.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The folders tsconfig.build.json compiles (its `include`), without tests and fixtures. */
const SOURCES = ['model', 'gateway', 'connectors', 'rules', 'config', 'sim'];

/** Why dist/ cannot run the sources under `root`, or undefined when it can (or there are no sources: an image). */
export function distStale(root) {
  if (!existsSync(join(root, 'gateway', 'cli.ts'))) return undefined;
  let builtAt;
  try {
    builtAt = statSync(join(root, 'dist', 'gateway', 'cli.js')).mtimeMs;
  } catch {
    return 'dist/ is missing';
  }
  for (const dir of SOURCES) {
    if (!existsSync(join(root, dir))) continue;
    for (const f of readdirSync(join(root, dir), { recursive: true })) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts') || /(^|\/)fixtures\//.test(f)) continue;
      if (statSync(join(root, dir, f)).mtimeMs > builtAt) return `dist/ is older than ${dir}/${f}`;
    }
  }
  return undefined;
}
