import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { peer } from '../test/peers.ts';
import { COMMANDS } from './cli-help.ts';
import { main } from './cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs the real binary (`node bin/andon.js ...`) from the repo root. */
function andon(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['bin/andon.js', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.split('\n').filter((l) => l !== '') };
}

describe('andon check-config', () => {
  it('prints every problem of a broken file as "path: code: message" on stderr and exits 1', () => {
    const file = 'config/fixtures/bad/several-problems.yaml';
    const r = andon(['check-config', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.lines).toEqual([
      `${file}: gateway.id: ANDON_CONFIG_MISSING: is required`,
      `${file}: gateway.htpp: ANDON_CONFIG_UNKNOWN_KEY: unknown key "htpp"`,
      `${file}: rules[0].when.for: ANDON_CONFIG_INVALID_DURATION: "10 seconds" is not a duration; write e.g. 250ms, 30s, 10m, 4h or 1d`,
      expect.stringMatching(new RegExp(`^${file}: rules\\[0\\]\\.priority: ANDON_CONFIG_INVALID_VALUE: .+`)),
      `${file}: rules[0].notify[0]: ANDON_CONFIG_UNKNOWN_REFERENCE: notify channel "night-shift" is not defined under notify:`,
      `${file}: 5 problems`,
    ]);
  });

  it('reports a cross-reference problem with its path', () => {
    const file = 'config/fixtures/bad/escalation-notify-unknown-channel.yaml';
    const r = andon(['check-config', file]);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([
      `${file}: escalation[1].notify[0]: ANDON_CONFIG_UNKNOWN_REFERENCE: notify channel "production-vp" is not defined under notify:`,
      `${file}: 1 problem`,
    ]);
  });

  it('reads ${VAR} from its environment: the design example passes with the tokens set and fails without', () => {
    const file = 'config/fixtures/good/design-example.yaml';
    const ok = andon(['check-config', file], { ANDON_OPERATOR_TOKEN: 'operator-token-0123456789', CENTRAL_TOKEN: 'central-token' });
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toBe(`${file}: ok (4 sources, 2 assets, 5 rules)`);
    expect(ok.stderr).toBe('');

    const empty = andon(['check-config', file], { ANDON_OPERATOR_TOKEN: '', CENTRAL_TOKEN: '' });
    expect(empty.status).toBe(1);
    expect(empty.lines).toContain(`${file}: forward.token: ANDON_CONFIG_ENV: environment variable CENTRAL_TOKEN is set but empty; give it a value or unset it`);
  });

  it('exits 0 for a scenario config', () => {
    const r = andon(['check-config', 'test/scenarios/flood/config.yaml']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('test/scenarios/flood/config.yaml: ok (0 sources, 14 assets, 1 rules)');
  });

  it('exits 1 with ANDON_CONFIG_FILE for a file that does not exist', () => {
    const r = andon(['check-config', 'config/fixtures/no-such.yaml']);
    expect(r.status).toBe(1);
    expect(r.lines[0]).toMatch(/^config\/fixtures\/no-such\.yaml: \(root\): ANDON_CONFIG_FILE: cannot read config\/fixtures\/no-such\.yaml/);
  });

  it('exits 2 with ANDON_CLI_USAGE without a file', () => {
    const r = andon(['check-config']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ANDON_CLI_USAGE: check-config needs a file/);
  });
});

describe('andon usage errors', () => {
  it('an unknown command exits 2 with ANDON_CLI_USAGE, the commands and where the help is', () => {
    const r = andon(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.lines).toEqual([
      'ANDON_CLI_USAGE: unknown command "frobnicate"',
      'Commands: start, replay, check-config, backup, outbox, browse, nats, bridge, help.',
      'Run `andon --help` for usage.',
    ]);
  });

  it('replay without arguments exits 2 with ANDON_CLI_USAGE', () => {
    const r = andon(['replay']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ANDON_CLI_USAGE: replay needs --config <file\.yaml> and --input <records\.jsonl>/);
  });

  it('replay with an unknown option exits 2 with ANDON_CLI_USAGE', () => {
    const r = andon(['replay', '--config', 'x.yaml', '--input', 'y.jsonl', '--speed', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ANDON_CLI_USAGE: /);
  });

  it('help exits 0 and prints the usage on stdout', () => {
    const r = andon(['help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage:');
  });
});

/** Runs `main` in this process (no spawn) and captures what it prints. */
async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('andon help', () => {
  it('--help lists every command with its usage, the global options and the exit codes', async () => {
    const r = await run(['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) {
      expect(r.stdout).toContain(`  ${c.name}`);
      for (const u of c.usage) expect(r.stdout).toContain(u);
    }
    expect(r.stdout).toContain('-v, --version');
    expect(r.stdout).toMatch(/Exit codes: 0 done, 1 failed .*, 2 usage error/);
    expect((await run([])).stdout).toBe(r.stdout);
  });

  it.each(COMMANDS.map((c) => c.name))('"help %s" and "<command> --help" print its options with defaults, examples and exit codes', async (name) => {
    const viaHelp = await run(['help', name]);
    const viaFlag = await run([name, '--help']);
    expect(viaHelp.status).toBe(0);
    expect(viaFlag).toEqual(viaHelp);
    const text = viaHelp.stdout;
    const c = COMMANDS.find((x) => x.name === name)!;
    expect(text.split('\n')[0]).toBe(`andon ${name} — ${c.summary}`);
    for (const o of c.options) {
      expect(text).toContain(`--${o.name}${o.arg ? ` ${o.arg}` : ''}`);
      if (o.default) expect(text.replace(/\s+/g, ' ')).toContain(`Default: ${o.default}.`);
    }
    expect(text).toMatch(/\nExamples:\n {2}(andon|npm|ANDON_)/);
    expect(text).toMatch(/\nExit codes:\n {2}0 {2}.+\n {2}1 {2}.+\n {2}2 {2}usage error/);
  });

  it('--help wins over a broken option on the same line', async () => {
    const r = await run(['replay', '--speed', '2', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^andon replay — /);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await run(['--version'])).toEqual({ status: 0, stdout: `andon ${pkg.version}`, stderr: '' });
    expect((await run(['-v'])).stdout).toBe(`andon ${pkg.version}`);
  });

  it('help for an unknown command is a usage error', async () => {
    const r = await run(['help', 'replya']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ANDON_CLI_USAGE: unknown command "replya"; did you mean "replay"\?/);
  });
});

describe('andon refuses a placeholder token on a public address', () => {
  const file = 'config/fixtures/bad/token-placeholder-public.yaml';
  const problem = `gateway.auth.tokens[0].token: ANDON_CONFIG_WEAK_TOKEN: token "control-room" is a placeholder`;

  it('check-config', async () => {
    const r = await run(['check-config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}: ${problem}`);
  });

  it('start, also with --port (which changes only the port)', async () => {
    const r = await run(['start', '--config', file, '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(problem);
  });
});

describe('andon usage hints', () => {
  it('a mistyped command gets a suggestion', async () => {
    const r = await run(['chek-config', 'x.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('ANDON_CLI_USAGE: unknown command "chek-config"; did you mean "check-config"?');
  });

  it('a mistyped option gets a suggestion, the usage and where the help is', async () => {
    const r = await run(['replay', '--confg', 'c.yaml', '--input', 'x.jsonl']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')).toEqual([
      'ANDON_CLI_USAGE: unknown option --confg for replay; did you mean --config?',
      'Usage:',
      '  andon replay --config <file.yaml> --input <records.jsonl> [--out <file.json>] [--db <file.sqlite>] [--verbose]',
      'Run `andon replay --help` for its options.',
    ]);
  });

  it.each([
    [['start', '--conf', 'x.yaml'], /^ANDON_CLI_USAGE: unknown option --conf for start; did you mean --config\?/],
    [['start', '--demo', '--config', 'x.yaml'], /^ANDON_CLI_USAGE: start takes --demo or --config <file\.yaml>, not both/],
    [['start', '--config', 'config/example.yaml', '--port', 'http'], /^ANDON_CLI_USAGE: --port takes a port number 0\.\.65535, not "http"/],
    [['outbox', '--parkd'], /^ANDON_CLI_USAGE: unknown option --parkd for outbox; did you mean --parked\?/],
    [['check-config', 'a.yaml', 'b.yaml'], /^ANDON_CLI_USAGE: check-config takes one file, not 2/],
    [['replay', '--config'], /^ANDON_CLI_USAGE: --config needs a value/],
    [['replay', '--verbose=yes'], /^ANDON_CLI_USAGE: Option '--verbose' does not take an argument/],
  ])('%j exits 2 with ANDON_CLI_USAGE', async (args, message) => {
    const r = await run(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});

describe('andon replay on a terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'large.jsonl');
  const t0 = Date.parse('2026-01-20T00:00:00Z');
  // 20,000 signals, about 2.4 MiB: large enough for the progress line (LARGE_INPUT_BYTES).
  writeFileSync(
    input,
    Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify({ t: new Date(t0 + i * 1000).toISOString(), tag: 'utilities/feeder-3/voltage', value: 220 + (i % 7), source: 'power-meter' }),
    ).join('\n') + '\n',
  );
  const args = ['replay', '--config', 'config/example.yaml', '--input', input, '--out', join(dir, 'tickets.json')];

  it('a missing input exits 1 with ANDON_REPLAY_INPUT', () => {
    const r = andon(['replay', '--config', 'config/example.yaml', '--input', join(dir, 'none.jsonl')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ANDON_REPLAY_INPUT: cannot read --input .*none\.jsonl: ENOENT/);
  });

  it('without a terminal, stderr has the summary alone (no progress, no control characters)', () => {
    const r = andon(args);
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([
      expect.stringMatching(/^replay: 20000 lines, 20000 signals, 0 actions, 0 rejected, 0 refused; 0 tickets \(0 merged\) in [\d.]+s$/),
    ]);
  });

  const hasScript = peer('script (util-linux)', ['script', '--version'], 'apt-get install bsdutils');
  it.skipIf(!hasScript)('on a terminal, a progress line with percent and lines/s is drawn in place and erased before the summary', () => {
    const cmd = [process.execPath, 'bin/andon.js', ...args].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    const draws = r.stdout.split('\r\x1b[2K').slice(1);
    expect(draws.length).toBeGreaterThanOrEqual(2); // at least one line drawn, then the erase
    expect(draws[0]).toMatch(/^replay: +\d+% │ [\d,]+ lines │ [\d,]+ lines\/s │ [\d.]+ of 2\.\d MiB/);
    // After the last erase comes the summary, on a clean line.
    expect(draws.at(-1)).toMatch(/^replay: 20000 lines, 20000 signals, .* in [\d.]+s\r?\n$/);
  });
});
