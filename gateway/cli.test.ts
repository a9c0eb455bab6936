import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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

    const unset = andon(['check-config', file], { ANDON_OPERATOR_TOKEN: '', CENTRAL_TOKEN: '' });
    expect(unset.status).toBe(1);
    expect(unset.lines).toContain(
      `${file}: forward.token: ANDON_CONFIG_ENV: environment variable CENTRAL_TOKEN is not set (write \${CENTRAL_TOKEN:-default} for a default)`,
    );
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
  it('an unknown command exits 2 with ANDON_CLI_USAGE and the help', () => {
    const r = andon(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ANDON_CLI_USAGE: unknown command "frobnicate"/);
    expect(r.stderr).toContain('andon check-config <file.yaml>');
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
