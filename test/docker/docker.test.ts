import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { peer } from '../peers.ts';
import { argv, contextCopies, dockerignore, parseDockerfile, runtimeGraph, type Stage } from './dockerfile.ts';

/**
 * The image and the compose example, checked without a Docker engine: what
 * they reference exists, and what must agree (ports, hosts, tokens, paths) does.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');
const stages = parseDockerfile(read('Dockerfile'));
const final = stages.at(-1) as Stage;
const ops = (op: string) => final.instructions.filter((i) => i.op === op);
const ignored = dockerignore(read('.dockerignore'));
const pkg = JSON.parse(read('package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
/** The stage the final one copies `path` from (`COPY --from=<stage> <path> ...`). */
const stageCopying = (path: string): Stage => {
  const from = final.instructions.find((i) => i.op === 'COPY' && argv(i).words[0] === path);
  const stage = stages.find((s) => from !== undefined && s.name === argv(from).flags.from);
  expect(stage, `the final stage copies ${path} from no stage`).toBeDefined();
  return stage as Stage;
};
/** What an operator exports before `docker compose up` (compose refuses to start without them). */
const TOKENS = {
  ANDON_INGEST_TOKEN: 'ingest-4f1c9a27d0b3e8a1',
  ANDON_OPERATOR_TOKEN: 'operator-7c2e91b4a6d05f3e',
  ANDON_ALERTMANAGER_TOKEN: 'alertmanager-93d1e07a5b2c',
};
const dockerConfig = loadConfig(join(root, 'config/docker.yaml'), TOKENS);
const port = dockerConfig.gateway.http.port;

type Service = {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  secrets?: { source: string; target: string }[];
  depends_on?: string[];
  networks?: Record<string, { aliases?: string[] }>;
};
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets?: Record<string, { environment?: string; file?: string }>;
};
const services = compose.services;
/** Container path → repo file, for the bind mounts of a service. */
const mounts = (name: string) =>
  new Map(
    (services[name]?.volumes ?? [])
      .map((v) => v.split(':'))
      .filter(([host]) => host?.startsWith('.'))
      .map(([host, target]) => [target as string, posix.normalize(host as string)]),
  );
/** A value as compose interpolates it from `host` (the operator's environment); undefined where compose refuses (`${VAR:?message}`). */
const composeValue = (v: string, host: NodeJS.ProcessEnv): string | undefined => {
  let refused = false;
  const out = v.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const value = host[name];
    if (value !== undefined && value !== '') return value;
    if (op === '?') refused = true;
    return op === '-' ? arg : '';
  });
  return refused ? undefined : out;
};
/** The gateway's environment in the compose, given the operator's. */
const andonEnv = (host: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(services.andon?.environment ?? {}).map(([k, v]) => [k, composeValue(v, host)]));

describe('Dockerfile', () => {
  it('builds on Node 22 LTS (bookworm slim) in every stage, with the toolchain only where the native build runs', () => {
    const names = stages.map((s) => s.name);
    for (const s of stages)
      expect(names.includes(s.from) ? 'an earlier stage' : s.from, `FROM ${s.from}`).toMatch(/^(node:22-bookworm-slim|an earlier stage)$/);
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const deps = stageCopying('/app/node_modules');
    expect(deps.instructions.some((i) => i.op === 'RUN' && /apt-get install .*python3.* make .*g\+\+/.test(i.args))).toBe(true);
    expect(final.instructions.some((i) => i.op === 'RUN' && /apt-get install/.test(i.args))).toBe(false);
  });

  it('installs production dependencies only: no tsx, esbuild or typescript in the image', () => {
    const deps = stageCopying('/app/node_modules');
    expect(deps.instructions.some((i) => i.op === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    for (const p of ['tsx', 'esbuild', 'typescript']) expect(pkg.dependencies[p], `${p} is a production dependency`).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
    // npm ci runs prepare; without dev dependencies it must build nothing (and not fail), so its script is in that stage.
    expect(pkg.scripts.prepare).toBe('node scripts/prepare.js');
    expect(contextCopies(deps)).toContain('scripts/prepare.js');
  });

  it('compiles dist/ in a build stage (npm run build) and runs it: the final image has no TypeScript sources', () => {
    const build = stageCopying('/app/dist');
    expect(build).not.toBe(final);
    expect(build.instructions.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args) && !/--omit=dev/.test(i.args))).toBe(true);
    expect(build.instructions.some((i) => i.op === 'RUN' && /\bnpm run build\b/.test(i.args))).toBe(true);
    expect(pkg.scripts.build).toMatch(/\btsc -p tsconfig\.build\.json\b/);
    expect(contextCopies(build)).toEqual(expect.arrayContaining(['tsconfig.json', 'tsconfig.build.json']));
    // bin/andon.js runs dist/gateway/cli.js; it loads tsx only in a checkout with the sources (gateway/cli.ts), which the image has not.
    expect(read('bin/andon.js')).toMatch(/join\(root, 'dist', 'gateway', 'cli\.js'\)/);
    expect(read('bin/dist-stale.js')).toMatch(/existsSync\(join\(root, 'gateway', 'cli\.ts'\)\)/);
    const copied = contextCopies(final);
    expect(copied.filter((c) => 'gateway/cli.ts' === c || 'gateway/cli.ts'.startsWith(`${c}/`))).toEqual([]);
    expect(copied.filter((c) => /\.ts$/.test(c) || ['connectors', 'rules', 'sim', 'gateway'].includes(c))).toEqual([]);
  });

  it('copies only paths that exist and that .dockerignore lets into the build context', () => {
    const sources = stages.flatMap(contextCopies);
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) {
      expect(existsSync(join(root, s)), `COPY ${s}: no such path in the repo`).toBe(true);
      expect(ignored(s), `COPY ${s}: excluded by .dockerignore`).toBe(false);
    }
  });

  it('compiles every file the gateway imports at run time, and every package it imports is a production dependency', () => {
    const { files, packages, missing } = runtimeGraph(root, 'gateway/cli.ts');
    expect(missing).toEqual([]);
    expect(files.size).toBeGreaterThan(50);
    const copied = contextCopies(stageCopying('/app/dist'));
    const notBuilt = [...files].filter((f) => ignored(f) || !copied.some((c) => f === c || f.startsWith(`${c}/`)));
    expect(notBuilt, "add them to the build stage's COPY / .dockerignore").toEqual([]);
    const devOnly = [...packages].filter(([p]) => pkg.dependencies[p] === undefined).map(([p, by]) => `${p} (imported by ${by})`);
    expect(devOnly, 'npm ci --omit=dev would leave these out').toEqual([]);
    // bin/andon.js itself: Node built-ins, and tsx only for a checkout whose dist/ is stale (see above).
    const bin = runtimeGraph(root, 'bin/andon.js');
    expect([...bin.files]).toEqual(['bin/andon.js', 'bin/dist-stale.js']);
    expect([...bin.packages.keys()]).toEqual(['tsx']);
  });

  it('has in the build stage every file tsc compiles into dist/ (tsconfig.build.json and what it imports)', () => {
    const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--listFilesOnly'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const files = r.stdout
      .split('\n')
      .filter((f) => f.startsWith(`${root}`) && !f.includes('/node_modules/'))
      .map((f) => f.slice(root.length).replace(/^\//, ''));
    expect(files).toContain('gateway/cli.ts');
    const build = stageCopying('/app/dist');
    const copied = contextCopies(build);
    const missing = files.filter((f) => ignored(f) || !copied.some((c) => f === c || f.startsWith(`${c}/`)));
    expect(missing, 'the build stage would not have them').toEqual([]);
  });

  it('has in the image every file the gateway reads from the package root (fromRoot: the board, configs, package.json)', () => {
    const { files } = runtimeGraph(root, 'gateway/cli.ts');
    const rootFiles = [...files].flatMap((f) =>
      [...read(f).matchAll(/\bfromRoot\(([^)]*)\)/g)].map((m) => {
        const parts = (m[1] as string).split(',').map((a) => a.trim());
        expect(
          parts.every((a) => /^'[^']+'$/.test(a)),
          `${f}: fromRoot(${m[1]}) takes string literals only`,
        ).toBe(true);
        return parts.map((a) => a.slice(1, -1)).join('/');
      }),
    );
    expect(rootFiles).toEqual(expect.arrayContaining(['package.json', 'gateway/board', 'config/demo.yaml', 'config/example.yaml']));
    const copied = contextCopies(final);
    for (const f of rootFiles) {
      expect(existsSync(join(root, f)), f).toBe(true);
      expect(copied.some((c) => f === c || f.startsWith(`${c}/`)) && !ignored(f), `${f} is not in the image`).toBe(true);
    }
  });

  it('keeps tests and local data out of the build context', () => {
    for (const p of [
      'test/peers.ts',
      'gateway/cli.test.ts',
      'config/fixtures/good/design-example.yaml',
      'data/andon.sqlite',
      'node_modules/zod/package.json',
      '.git/HEAD',
      'docs/config.md',
      'dist/gateway/cli.js',
      'scripts/docs.ts',
    ]) {
      expect(ignored(p), p).toBe(true);
    }
  });

  it('runs as a user that is not root, with /data as a volume it owns', () => {
    const user = ops('USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(
      ops('VOLUME')
        .map((i) => argv(i).words)
        .flat(),
    ).toContain('/data');
    expect(ops('RUN').some((i) => /mkdir -p \/data/.test(i.args) && new RegExp(`chown ${user}(:\\w+)? /data`).test(i.args))).toBe(true);
    expect(dockerConfig.gateway.dataDir).toBe('/data');
  });

  it('exposes the port of config/docker.yaml, listening on every interface', () => {
    expect(ops('EXPOSE').map((i) => i.args)).toEqual([String(port)]);
    expect(dockerConfig.gateway.http.host).toBe('0.0.0.0');
  });

  it('checks health on /healthz with node (the slim image has no curl), at that port', () => {
    const hc = ops('HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const cmd = (hc[0] as { args: string }).args.replace(/^(--[\w-]+=\S+\s+)*CMD\s+/, '');
    const words = JSON.parse(cmd) as string[];
    expect(words.slice(0, 2)).toEqual(['node', '-e']);
    expect(words[2]).toContain(`fetch('http://127.0.0.1:${port}/healthz')`);
    expect(words[2]).toMatch(/process\.exit\(r\.ok \? 0 : 1\)/);
  });

  it('starts the gateway with config/docker.yaml through bin/andon.js (exec form, so SIGTERM reaches node)', () => {
    const entry = JSON.parse((ops('ENTRYPOINT')[0] as { args: string }).args) as string[];
    const cmd = JSON.parse((ops('CMD')[0] as { args: string }).args) as string[];
    expect(entry).toEqual(['node', 'bin/andon.js']);
    expect(cmd).toEqual(['start', '--config', 'config/docker.yaml']);
    expect(contextCopies(final)).toContain('config');
  });
});

describe('docker-compose.yml', () => {
  it('has the gateway and its neighbours', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'andon', 'grafana', 'mosquitto', 'nats-1', 'nats-2', 'nats-3', 'prometheus']);
  });

  it('has an optional 3-node NATS JetStream cluster (profile nats) whose nodes route to each other', () => {
    const nats = ['nats-1', 'nats-2', 'nats-3'].map((n) => [n, services[n] as Service & { profiles?: string[]; command?: string[] }] as const);
    for (const [name, s] of nats) {
      expect(s.profiles, name).toEqual(['nats']);
      const args = s.command ?? [];
      expect(args[args.indexOf('--name') + 1], name).toBe(name);
      expect(args).toContain('--jetstream');
      const routes = args[args.indexOf('--routes') + 1]?.split(',') ?? [];
      expect(routes.sort(), name).toEqual(nats.filter(([n]) => n !== name).map(([n]) => `nats://${n}:6222`));
    }
  });

  it('builds andon from this repo and runs it with an existing config', () => {
    const andon = services.andon as Service;
    expect(existsSync(join(root, andon.build ?? '', 'Dockerfile'))).toBe(true);
    const command = andon.command ?? [];
    const config = command[command.indexOf('--config') + 1] as string;
    expect(statSync(join(root, config)).isFile()).toBe(true);
    expect(andon.ports).toEqual([`${port}:${port}`]);
    expect(andon.volumes).toContain('andon-data:/data');
  });

  it('every bind-mounted host path exists, and every named volume is declared', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [host] = v.split(':') as [string];
        if (host.startsWith('.') || host.startsWith('/')) expect(existsSync(join(root, host)), `${name}: ${host}`).toBe(true);
        else expect(compose.volumes, `${name}: volume ${host} is not declared`).toHaveProperty(host);
      }
      for (const d of s.depends_on ?? []) expect(services, `${name} depends on ${d}`).toHaveProperty(d);
    }
  });

  it('gives the gateway config what it reads from the environment', () => {
    const config = loadConfig(join(root, 'config/docker.yaml'), andonEnv(TOKENS));
    expect(config.gateway.id).toBe('plant-a-line-1');
    expect(config.sources.find((s) => s.id === 'mes')).toMatchObject({ type: 'mqtt', url: 'mqtt://mosquitto:1883' });
    expect(services.mosquitto?.ports).toContain('1883:1883');
  });

  it('mosquitto loads deploy/mosquitto.conf, which keeps every queued message (max_queued_messages 0)', () => {
    const conf = mounts('mosquitto').get('/mosquitto/config/mosquitto.conf') as string;
    expect(read(conf)).toMatch(/^max_queued_messages 0$/m);
    expect(read(conf)).toMatch(/^persistence_location \/mosquitto\/data\/$/m);
    expect(services.mosquitto?.volumes).toContain('mosquitto-data:/mosquitto/data');
  });

  it('prometheus scrapes andon as job "andon", loads the alert rules and sends to alertmanager', () => {
    const m = mounts('prometheus');
    const configFile = (services.prometheus?.command ?? []).find((c) => c.startsWith('--config.file='))?.split('=')[1] as string;
    const prom = parse(read(m.get(configFile) as string)) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    for (const r of prom.rule_files) expect(m.get(r), `rule file ${r} is not mounted`).toBe('dashboards/prometheus/alerts.yml');
    expect(prom.scrape_configs.find((s) => s.job_name === 'andon')?.static_configs[0]?.targets).toEqual([`andon:${port}`]);
    expect(read('dashboards/prometheus/alerts.yml')).toContain('up{job="andon"}');
    const am = prom.alerting.alertmanagers[0]?.static_configs[0]?.targets[0] as string;
    expect(services.alertmanager?.ports).toContain(`${am.split(':')[1]}:${am.split(':')[1]}`);
    expect(services).toHaveProperty(am.split(':')[0] as string);
  });

  it.skipIf(!peer('promtool', ['promtool', '--version'], 'apt-get install prometheus'))('promtool accepts the prometheus config and its rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'andon-prom-'));
    try {
      const m = mounts('prometheus');
      const local = read('deploy/prometheus.yml').replace(
        /^( {2}- )(\/etc\/prometheus\/\S+)/gm,
        (_, dash: string, p: string) => `${dash}${join(root, m.get(p) as string)}`,
      );
      writeFileSync(join(dir, 'prometheus.yml'), local);
      const r = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('alertmanager loads dashboards/alertmanager/alertmanager.yml and reaches andon with a token the gateway knows', () => {
    const m = mounts('alertmanager');
    const configFile = (services.alertmanager?.command ?? []).find((c) => c.startsWith('--config.file='))?.split('=')[1] as string;
    expect(m.get(configFile)).toBe('dashboards/alertmanager/alertmanager.yml');
    const am = parse(read('dashboards/alertmanager/alertmanager.yml')) as {
      receivers: { name: string; webhook_configs?: { url: string; http_config?: { authorization?: { credentials_file?: string } } }[] }[];
    };
    for (const hook of am.receivers.flatMap((r) => r.webhook_configs ?? [])) {
      const url = new URL(hook.url);
      expect(services.andon?.networks?.default?.aliases ?? ['andon']).toContain(url.hostname);
      expect(Number(url.port)).toBe(port);
      const file = hook.http_config?.authorization?.credentials_file;
      if (file === undefined) continue;
      // The file is a compose secret made from the operator's environment, the same variable the gateway reads.
      const secret = services.alertmanager?.secrets?.find((x) => x.target === file);
      expect(secret, `${file} is not a secret of the alertmanager service`).toBeDefined();
      const variable = compose.secrets?.[secret?.source as string]?.environment as string;
      expect(variable).toBe('ANDON_ALERTMANAGER_TOKEN');
      const token = TOKENS[variable as keyof typeof TOKENS];
      expect(andonEnv(TOKENS)[variable]).toBe(token);
      expect(loadConfig(join(root, 'config/docker.yaml'), andonEnv(TOKENS)).gateway.auth.tokens.find((t) => t.token === token)?.role).toBe('ingest');
    }
  });

  it('needs real tokens: compose refuses to start without them, the gateway refuses placeholders and anonymous reads are off', () => {
    for (const [name, value] of Object.entries(services.andon?.environment ?? {}).filter(([k]) => k.endsWith('_TOKEN'))) {
      expect(value, name).toMatch(new RegExp(`^\\$\\{${name}:\\?[^}]+\\}$`));
      expect(composeValue(value, {}), name).toBeUndefined();
      expect(composeValue(value, { [name]: '' }), name).toBeUndefined();
    }
    expect(read('docker-compose.yml')).not.toMatch(/change-me/);
    expect(read('config/docker.yaml')).not.toMatch(/change-me|demo-/);
    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(join(root, 'config/docker.yaml'), env);
      } catch (err) {
        return (err as ConfigError).problems.map((p) => `${p.path} ${p.code}`);
      }
      return [];
    };
    const placeholders = {
      ANDON_INGEST_TOKEN: 'change-me-ingest-token',
      ANDON_OPERATOR_TOKEN: 'demo-operator-token',
      ANDON_ALERTMANAGER_TOKEN: 'change-me-alertmanager-token',
    };
    expect(refused(placeholders)).toEqual([0, 1, 2].map((i) => `gateway.auth.tokens[${i}].token ANDON_CONFIG_WEAK_TOKEN`));
    expect(refused({})).toEqual([0, 1, 2].map((i) => `gateway.auth.tokens[${i}].token ANDON_CONFIG_ENV`));
    expect(dockerConfig.gateway.auth.anonymousRead).toBe(false);
  });

  it('grafana is provisioned with the Prometheus of the compose and the Andon dashboard', () => {
    const m = mounts('grafana');
    const dsFile = [...m].find(([target]) => target.startsWith('/etc/grafana/provisioning/datasources/'))?.[1] as string;
    const ds = parse(read(dsFile)) as { datasources: { type: string; url: string; isDefault?: boolean }[] };
    expect(ds.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
    expect(services.prometheus?.ports).toContain('9090:9090');
    const provFile = [...m].find(([target]) => target.startsWith('/etc/grafana/provisioning/dashboards/'))?.[1] as string;
    const prov = parse(read(provFile)) as { providers: { options: { path: string } }[] };
    const dashboardDir = prov.providers[0]?.options.path as string;
    const dashboards = [...m].filter(([target]) => dirname(target) === dashboardDir).map(([, host]) => host);
    expect(dashboards).toEqual(['dashboards/grafana/andon.json']);
    const board = JSON.parse(read('dashboards/grafana/andon.json')) as { templating: { list: { type: string; query: string }[] } };
    expect(board.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus')).toBe(true);
  });
});
