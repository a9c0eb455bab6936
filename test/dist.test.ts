import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * bin/andon.js runs the compiled gateway (dist/, `npm run build`) with no
 * TypeScript loader. The first part builds dist/ into a folder laid out as the
 * Docker image is (bin/, dist/, package.json, config/, gateway/board, and
 * node_modules with the production dependencies only, as `npm ci --omit=dev`
 * leaves them: no tsx, esbuild or typescript to load even by mistake) and runs
 * the demo (`npm start`) from it. The second part checks what bin/andon.js does
 * in a checkout whose dist/ is missing or older than the sources.
 */

const root = join(import.meta.dirname, '..');
const LOADERS = ['tsx', 'esbuild', 'typescript', '@esbuild'];
/** The environment of a plain `node bin/andon.js` (no loader flags from the parent, no vitest marker). */
const plainEnv = (extra: NodeJS.ProcessEnv = {}) => {
  const env: NodeJS.ProcessEnv = { ...process.env, ANDON_LOG_LEVEL: 'warn', ...extra };
  delete env.NODE_OPTIONS;
  if (extra.VITEST === undefined) delete env.VITEST;
  return env;
};

/** Top-level node_modules entries that `npm ci --omit=dev` installs (package-lock.json: not flagged dev/devOptional). */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([k, v]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(k) && !v.dev && !v.devOptional)
    .map(([k]) => k.slice('node_modules/'.length))
    .filter((name) => existsSync(join(root, 'node_modules', name)));
}

const run = (cmd: string, args: string[], cwd: string, timeoutMs: number) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => (clearTimeout(timer), resolve({ code, out })));
  });

describe('an image-like install: dist/ and production dependencies only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-dist-'));
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    const tsc = await run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')],
      root,
      170_000,
    );
    expect(tsc.code, tsc.out).toBe(0);
    for (const p of ['bin', 'package.json', 'config', 'gateway/board', 'scripts/prepare.js'])
      cpSync(join(root, p), join(dir, p), { recursive: true, filter: (src) => !src.includes('/fixtures') && !src.endsWith('.ts') });
    for (const name of productionPackages()) {
      mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
      symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
    }
  }, 180_000);

  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('has no TypeScript loader to load and no TypeScript source', () => {
    for (const p of LOADERS) expect(existsSync(join(dir, 'node_modules', p)), p).toBe(false);
    // Nor above it, where Node would look next.
    for (let d = dirname(dir); d !== dirname(d); d = dirname(d))
      for (const p of LOADERS) expect(existsSync(join(d, 'node_modules', p)), join(d, p)).toBe(false);
    expect(existsSync(join(dir, 'dist/gateway/cli.js'))).toBe(true);
    expect(existsSync(join(dir, 'gateway/cli.ts'))).toBe(false);
    expect(readdirSync(join(dir, 'dist'), { recursive: true }).filter((f) => String(f).endsWith('.ts'))).toEqual([]);
  });

  it('answers --version and --help (package.json and the help are found from dist/)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const v = spawnSync(process.execPath, ['bin/andon.js', '--version'], { cwd: dir, encoding: 'utf8', env: plainEnv(), timeout: 20_000 });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(`andon ${pkg.version}`);
    expect(v.stderr).toBe('');
    const h = spawnSync(process.execPath, ['bin/andon.js', 'help', 'start'], { cwd: dir, encoding: 'utf8', env: plainEnv(), timeout: 20_000 });
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/andon start --config <file\.yaml>/);
  });

  it('runs the demo (npm start): ready, the board served, no loader flags, and stops cleanly on SIGTERM', async () => {
    const c = spawn(process.execPath, ['bin/andon.js', 'start', '--demo', '--port', '0'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: plainEnv({ ANDON_DEMO_PORTS: 'random' }),
    });
    child = c;
    c.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const board = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no board URL in 90 s: ${output}`)), 90_000);
      const check = () => {
        const m = /^\s*board\s+(http:\/\/\S+)/m.exec(output);
        if (!m || !/Live now/.test(output)) return;
        clearTimeout(timer);
        resolve(m[1] as string);
      };
      c.stdout?.on('data', check);
      c.once('exit', (code) => (clearTimeout(timer), reject(new Error(`exited with ${code}: ${output}`))));
    });
    expect((await fetch(new URL('/readyz', board))).status).toBe(200);
    const page = await fetch(board);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    // The process's own command line: node, the entry and its arguments, no --import/--loader/--require.
    const cmdline = readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(cmdline.slice(1)).toEqual(['bin/andon.js', 'start', '--demo', '--port', '0']);
    expect(readFileSync(`/proc/${c.pid}/environ`, 'utf8').split('\0')).not.toContainEqual(expect.stringMatching(/^NODE_OPTIONS=/));
    expect(output).not.toMatch(/tsx|dist\/ is/);
    const code = await new Promise<number | null>((resolve) => (c.once('exit', resolve), c.kill('SIGTERM')));
    expect(code, output).toBe(0);
  }, 120_000);

  it('loads the Request Tracker sink, whose module path is in a variable (rewritten from .ts to .js at run time by a tsc helper)', () => {
    const rt = { type: 'rt', url: 'http://127.0.0.1:9', token: '1-2-0123456789abcdef0123456789abcdef', queue: 'General', timeout: 1000, concurrency: 1 };
    const script = `import { createSink } from './dist/gateway/forward/index.js';\nconst sink = await createSink(${JSON.stringify(rt)});\nconsole.log(typeof sink.put);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', env: plainEnv(), timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('function\n');
  });

  it('npm ci --omit=dev runs prepare, which builds nothing there (no typescript) and does not fail', () => {
    const r = spawnSync(process.execPath, ['scripts/prepare.js'], { cwd: dir, encoding: 'utf8', env: plainEnv(), timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/typescript is not installed .*dist\/ is not built/);
  });
});

describe('a checkout whose dist/ is missing or stale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-stale-'));
  const source = join(dir, 'gateway/cli.ts');
  const built = join(dir, 'dist/gateway/cli.js');
  const andon = (env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['bin/andon.js', 'x'], { cwd: dir, encoding: 'utf8', env: plainEnv(env), timeout: 30_000 });
  const age = (file: string, secondsAgo: number) => utimesSync(file, new Date(Date.now() - secondsAgo * 1000), new Date(Date.now() - secondsAgo * 1000));

  beforeAll(() => {
    cpSync(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    for (const d of ['connectors', 'rules', 'config', 'sim']) mkdirSync(join(dir, d), { recursive: true });
    mkdirSync(dirname(source), { recursive: true });
    // Type annotations: plain node 20 cannot run this file, tsx can.
    writeFileSync(source, "export async function main(argv: string[]): Promise<number> {\n  console.log(`sources ${argv.join(' ')}`);\n  return 0;\n}\n");
    writeFileSync(join(dir, 'gateway/cli.test.ts'), 'export {};\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('without tsx installed, a missing dist/ stops with exit 1 and says to run npm run build', () => {
    const r = andon();
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('andon: dist/ is missing: run `npm run build` (it compiles the sources into dist/)\n');
  });

  it('with tsx installed (a dev checkout), an older dist/ runs the sources through tsx and warns (not under vitest)', () => {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    mkdirSync(dirname(built), { recursive: true });
    writeFileSync(built, "export async function main(argv) {\n  console.log(`dist ${argv.join(' ')}`);\n  return 0;\n}\n");
    age(built, 60);
    const stale = andon();
    expect(stale.status, stale.stderr).toBe(0);
    expect(stale.stdout).toBe('sources x\n');
    expect(stale.stderr).toBe(
      'andon: dist/ is older than gateway/cli.ts: running the TypeScript sources through tsx (slower start); `npm run build` compiles them\n',
    );
    const quiet = andon({ VITEST: 'true' });
    expect(quiet.stdout).toBe('sources x\n');
    expect(quiet.stderr).toBe('');
  });

  it('a dist/ newer than every source runs, whatever the tests beside the sources', () => {
    age(source, 120);
    age(built, 60);
    const r = andon();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('dist x\n');
    expect(r.stderr).toBe('');
  });
});
