import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The layering of docs/architecture.md, enforced by dependency-cruiser (.dependency-cruiser.cjs, run by
 * `npm run lint:deps` in `npm test`): the tree as it is passes, and each rule fails on a violation planted in a
 * small tree of the same shape.
 */
const root = join(import.meta.dirname, '..', '..');
const CONFIG = join(root, '.dependency-cruiser.cjs');
const DEPCRUISE = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const LAYERS = ['model', 'config', 'connectors', 'rules', 'gateway', 'sim'];

/** The violations `npm run lint:deps` finds in the tree at `dir` (run as it runs, from that directory). */
function violations(dir: string): string[] {
  const run = spawnSync(process.execPath, [DEPCRUISE, ...LAYERS, '--config', CONFIG, '--output-type', 'json'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (!run.stdout.startsWith('{')) throw new Error(`depcruise did not run: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[]; totalCruised: number } };
  expect(result.summary.totalCruised).toBeGreaterThan(5); // it read the tree
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

const planted = mkdtempSync(join(tmpdir(), 'andon-layering-'));
afterAll(() => rmSync(planted, { recursive: true, force: true }));

describe('layering (dependency-cruiser)', () => {
  it('the tree as it is has no violation and no cycle', () => {
    expect(violations(root)).toEqual([]);
  }, 60_000);

  it('fails on each planted violation: a cycle, the layers, SQL outside the store', () => {
    const files: Record<string, string> = {
      'model/ticket.ts': "import { app } from '../gateway/app.ts';\nexport const t = app;\n",
      'config/schema.ts': "import { rule } from '../rules/rule.ts';\nimport { opts } from '../connectors/mqtt/config.ts';\nimport { x } from '../connectors/mqtt/client.ts';\nexport const c = [rule, opts, x];\n",
      'connectors/mqtt/config.ts': 'export const opts = 1;\n',
      'connectors/mqtt/client.ts': "import { engine } from '../../gateway/engine.ts';\nexport const x = engine;\n",
      'rules/rule.ts': "import { engine } from '../gateway/engine.ts';\nexport const rule = engine;\n",
      'gateway/app.ts': "import { engine } from './engine.ts';\nexport const app = engine;\n",
      'gateway/engine.ts': "import Database from 'better-sqlite3';\nimport { loop } from './loop.ts';\nexport const engine = [Database, loop];\n",
      'gateway/loop.ts': "import { engine } from './engine.ts';\nexport const loop = () => engine;\n",
      'gateway/store/store.ts': "import Database from 'better-sqlite3';\nexport const store = Database;\n",
      'sim/main.ts': 'export const sim = 1;\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(planted, dirname(path)), { recursive: true });
      writeFileSync(join(planted, path), text);
    }
    symlinkSync(join(root, 'node_modules'), join(planted, 'node_modules'), 'dir');
    writeFileSync(join(planted, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', allowImportingTsExtensions: true, noEmit: true } }));
    const found = violations(planted);
    expect(found).toEqual(
      expect.arrayContaining([
        'model-is-a-leaf: model/ticket.ts -> gateway/app.ts',
        'config-only-model-and-connector-schemas: config/schema.ts -> rules/rule.ts',
        'config-only-model-and-connector-schemas: config/schema.ts -> connectors/mqtt/client.ts',
        'connectors-only-model-and-config: connectors/mqtt/client.ts -> gateway/engine.ts',
        'rules-only-model-and-config: rules/rule.ts -> gateway/engine.ts',
        'no-circular: gateway/engine.ts -> gateway/loop.ts',
      ]),
    );
    // node_modules is a symlink here: the package is reported by its real path
    expect(found.filter((v) => v.startsWith('only-the-store-runs-sql: gateway/engine.ts -> ') && v.includes('node_modules/better-sqlite3/'))).toHaveLength(1);
    // what the layers allow is not reported: config/ may read a connector's own config schema; the store runs SQL
    expect(found.filter((v) => v.includes('connectors/mqtt/config.ts') || v.startsWith('only-the-store-runs-sql: gateway/store/'))).toEqual([]);
  }, 60_000);
});
