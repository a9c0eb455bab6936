import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, readConfigFile } from '../config/load.ts';
import type { AndonConfig } from '../config/schema.ts';
import { commandHelp, commandSpec, mainHelp, parse, unknownCommand, usageError, version, type CommandSpec } from './cli-help.ts';
import { AndonError, isAndonError } from '../model/errors.ts';
import { fromRoot } from './package-root.ts';
import { collectAfterStart, governHeap, tuneHeap, type Governor } from './heap.ts';
import { LARGE_INPUT_BYTES, progressLine } from './progress.ts';
import { skipOpcuaSelfTest } from '../connectors/opcua/self-test.ts';

const EXAMPLE = fromRoot('config', 'example.yaml');
/** Ticket versions waiting to be forwarded from which `andon start` counts as draining a backlog (gateway/heap.ts, YOUNG_DRAINING). */
const DRAIN_BACKLOG = 1000;

type Out = { out: (s: string) => void; err: (s: string) => void };

/** The spec of a command (cli-help.ts); every command of this file has one. */
const spec = (name: string) => commandSpec(name) as CommandSpec;
const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

async function cmdReplay(argv: string[], io: Out): Promise<number> {
  const c = spec('replay');
  const { values } = parse(c, argv);
  const [configFile, input, out, db] = [str(values.config), str(values.input), str(values.out), str(values.db)];
  if (!configFile || !input) throw usageError('replay needs --config <file.yaml> and --input <records.jsonl>', c);
  const config = loadConfig(configFile);
  let size: number;
  try {
    size = statSync(input).size;
  } catch (err) {
    throw new AndonError('ANDON_REPLAY_INPUT', `cannot read --input ${input}: ${(err as Error).message}`);
  }
  // A progress line only where a person watches (a terminal) and only when there is time to watch it.
  const progress =
    process.stderr.isTTY && size >= LARGE_INPUT_BYTES
      ? progressLine({ label: 'replay', total: size, write: (s) => process.stderr.write(s), now: () => performance.now(), columns: process.stderr.columns })
      : undefined;
  // loaded by the commands that use them, so that the others (check-config, help, --version) start without them
  const { formatSummary, replay } = await import('./replay.ts');
  let result: Awaited<ReturnType<typeof replay>>;
  try {
    result = await replay({
      config,
      input,
      ...(db ? { db } : {}),
      ...(progress ? { onProgress: (n: number, bytes: number) => progress.update(n, bytes), progressEvery: 4096 } : {}),
    });
  } finally {
    progress?.done();
  }
  const { tickets, summary } = result;
  const json = JSON.stringify(tickets, null, 2);
  if (out) writeFileSync(out, json + '\n');
  else io.out(json);
  if (values.verbose) for (const r of summary.refusals) io.err(`line ${r.line}: ${r.code}: ${r.message}`);
  io.err(formatSummary(summary));
  return 0;
}

async function cmdStart(argv: string[], io: Out): Promise<number> {
  const c = spec('start');
  const parsed = parse(c, argv).values;
  const values = { config: str(parsed.config), port: str(parsed.port), demo: parsed.demo === true };
  if (values.demo && values.config) throw usageError('start takes --demo or --config <file.yaml>, not both', c);
  if (values.port !== undefined && !(/^\d{1,5}$/.test(values.port) && Number(values.port) <= 65535))
    throw usageError(`--port takes a port number 0..65535, not "${values.port}"`, c);
  // a long-running gateway: a heap that stays near what it holds (gateway/heap.ts)
  const tuned = tuneHeap();
  const governs = tuned.some((f) => f.startsWith('--heap-growing-percent'));
  if (!values.config) return cmdDemo(values.port ?? process.env.ANDON_PORT, io);
  const file = values.config;
  // SIGHUP reloads the config (below); one that comes while the gateway starts is noted, not fatal.
  let reload: () => void = () => io.err('andon: SIGHUP while starting: ignored (send it again once running)');
  const onHup = () => reload();
  process.on('SIGHUP', onHup);
  let governor: Governor | undefined;
  try {
    const { config, sha } = readConfigFile(file);
    const { startGateway } = await import('./main.ts');
    const gw = await startGateway(config, { configFile: file, configSha: sha, ...(values.port !== undefined ? { port: Number(values.port) } : {}) });
    // the steady growth first, so that the GC after start sizes the old generation by it
    if (governs) {
      governor = governHeap(
        tuned.filter((f) => !f.startsWith('--heap-growing-percent')),
        // a backlog to forward (after an outage, a restart): the young generation grows for the drain (gateway/heap.ts)
        { draining: () => gw.forwarding !== undefined && gw.store.outboxBacklog(DRAIN_BACKLOG) },
      );
      governor.settle();
    } else collectAfterStart();
    // The outcome is logged by the reload itself (component reload); a refusal keeps the running config.
    reload = () => void gw.reload('signal').catch(() => undefined);
    io.err(`andon: ${config.gateway.id} running at ${gw.address} (config ${file}); Ctrl-C stops, SIGHUP reloads the config`);
    await new Promise<void>((resolve) => {
      const stop = () => void gw.stop().then(resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  } finally {
    governor?.stop();
    process.off('SIGHUP', onHup);
  }
  return 0;
}

/** `andon start --demo`: the demo plant and the gateway in this process, until SIGINT/SIGTERM. */
async function cmdDemo(portArg: string | undefined, io: Out): Promise<number> {
  const port = portArg === undefined || portArg === '' ? undefined : Number(portArg);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new AndonError('ANDON_CLI_USAGE', `port must be 0..65535, not "${portArg}"`);
  // A signal during start-up stops the demo as soon as it is up (nothing half-started is left behind).
  let signalled = false;
  let stop: (() => void) | undefined;
  const onSignal = () => {
    signalled = true;
    stop?.();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  // The demo's config is built in, so there is nothing to reload; SIGHUP must not kill it either.
  const onHup = () => io.err('andon: SIGHUP: the demo has no config file to reload (andon start --config <file.yaml> reloads on SIGHUP)');
  process.on('SIGHUP', onHup);
  // the demo plant's PLC is an OPC UA server, and the gateway reads it with an OPC UA client
  skipOpcuaSelfTest();
  const { startDemo } = await import('../sim/plant/demo.ts');
  const demo = await startDemo({
    ...(port !== undefined ? { port } : {}),
    ...(process.env.ANDON_DEMO_PORTS === 'random' ? { plantPorts: 'random' as const } : {}),
    out: (line) => io.out(line),
  });
  await new Promise<void>((resolve) => {
    stop = () => void demo.stop().then(resolve);
    if (signalled) stop();
  });
  process.off('SIGHUP', onHup);
  return 0;
}

async function cmdCheckConfig(argv: string[], io: Out): Promise<number> {
  const c = spec('check-config');
  const { positionals } = parse(c, argv);
  const [file, ...extra] = positionals;
  if (!file) throw usageError('check-config needs a file: andon check-config <file.yaml>', c);
  if (extra.length > 0) throw usageError(`check-config takes one file, not ${positionals.length}`, c);
  let problems: { path?: string | undefined; code: string; message: string }[];
  let config: AndonConfig | undefined;
  try {
    config = loadConfig(file);
    // What a start does before connecting: every source's connector is created (TLS and certificate files, node ids).
    // node-opcua prints a Node.js version warning on stdout when loaded; here stdout is the verdict alone.
    if (config.sources.some((s) => s.type === 'opcua')) {
      skipOpcuaSelfTest();
      (await import('node-opcua')).setWarningLogger(() => undefined);
    }
    const { checkConnectors } = await import('./sources.ts');
    const { pino } = await import('pino');
    problems = await checkConnectors(config, pino({ level: 'silent' }));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems = err.problems;
  }
  if (config && problems.length === 0) {
    io.out(`${file}: ok (${config.sources.length} sources, ${Object.keys(config.assets).length} assets, ${config.rules.length} rules)`);
    return 0;
  }
  for (const p of problems) io.err(`${file}: ${p.path || '(root)'}: ${p.code}: ${p.message}`);
  io.err(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  return 1;
}

/** `andon backup <file>`: a consistent copy of the ticket store of --config (its gateway.dataDir) or --db, also while it runs. */
async function cmdBackup(argv: string[], io: Out): Promise<number> {
  const c = spec('backup');
  const { values, positionals } = parse(c, argv);
  const [target, ...extra] = positionals;
  const [configFile, db] = [str(values.config), str(values.db)];
  if (!target) throw usageError('backup needs the file to write: andon backup <file.sqlite> --config <file.yaml>', c);
  if (extra.length > 0) throw usageError(`backup takes one file, not ${positionals.length}`, c);
  if (!configFile === !db) throw usageError('backup needs --config <file.yaml> or --db <file.sqlite> (one of them) to find the store', c);
  const source = db ?? join(loadConfig(configFile as string).gateway.dataDir, 'andon.sqlite');
  const { backupStore } = await import('./store/backup.ts');
  const r = await backupStore(source, target);
  io.err(`andon: backed up ${r.source} to ${r.target} (${r.tickets} tickets, ${r.bytes} bytes)`);
  return 0;
}

async function cmdBrowse(argv: string[], io: Out): Promise<number> {
  const c = spec('browse');
  const { values, positionals } = parse(c, argv);
  skipOpcuaSelfTest();
  const { browseServer, browseSource, listing, select, snippet } = await import('../connectors/opcua/browse.ts');
  const int = (name: string, fallback: number) => {
    const v = str(values[name]);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw usageError(`--${name} takes a whole number ≥ 1, not "${v}"`, c);
    return Number(v);
  };
  const limits = { maxNodes: int('max-nodes', 10_000), maxDepth: int('max-depth', 10) };
  const [configFile, sourceId] = [str(values.config), str(values.source)];
  let source;
  let dataDir: string;
  let rest = positionals;
  if (configFile || sourceId) {
    if (!configFile || !sourceId) throw usageError('--config and --source go together: the OPC UA source of the config to connect as', c);
    const config = loadConfig(configFile);
    const found = config.sources.find((s) => s.id === sourceId);
    if (found?.type !== 'opcua')
      throw usageError(
        `${configFile} has no OPC UA source "${sourceId}" (${
          config.sources
            .filter((s) => s.type === 'opcua')
            .map((s) => s.id)
            .join(', ') || 'none'
        })`,
        c,
      );
    source = found;
    dataDir = config.gateway.dataDir;
  } else {
    const [endpoint] = positionals;
    rest = positionals.slice(1);
    if (!endpoint?.startsWith('opc.tcp://')) throw usageError('browse needs an endpoint: andon browse opc.tcp://host:4840 [<pattern>]', c);
    const password = str(values.password) ?? process.env.ANDON_OPCUA_PASSWORD;
    source = browseSource(endpoint, {
      mode: str(values.mode) ?? 'None',
      ...(str(values.policy) ? { policy: str(values.policy) } : {}),
      ...(str(values.user) ? { user: str(values.user), ...(password !== undefined ? { password } : {}) } : {}),
      acceptUnknownServerCertificate: values['accept-unknown-server-certificate'] === true,
    });
    dataDir = str(values['data-dir']) ?? './data';
  }
  const [pattern, ...extra] = rest;
  if (extra.length > 0) throw usageError(`browse takes one pattern, not ${rest.length}`, c);
  if (pattern !== undefined) {
    const { patternProblem } = await import('../config/pattern.ts');
    const problem = patternProblem(pattern);
    if (problem) throw usageError(`pattern "${pattern}" ${problem}`, c);
  }
  const result = await browseServer({ source, dataDir, ...limits });
  if (pattern === undefined) {
    io.out(listing(result, limits));
    return 0;
  }
  const chosen = select(result, pattern);
  io.out(
    `# andon browse ${source.endpoint} ${JSON.stringify(pattern)}: ${chosen.variables.length} variables, ${chosen.notifiers.length} event notifiers; paste under a type: opcua source`,
  );
  if (chosen.variables.length + chosen.notifiers.length > 0) io.out(snippet(chosen, str(values['tag-prefix'])));
  io.err(`andon: walked ${result.walked} nodes${result.cut ? `; cut short: ${result.cut}` : ''}`);
  return 0;
}

const throwUnknown = (name: string): never => {
  throw unknownCommand(name);
};

/** Runs the CLI; returns the exit code. */
export async function main(
  argv: string[],
  io: Out = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const help = commandSpec(command ?? '');
    // `andon <command> --help` wins over anything else on the line, even a broken option.
    if (help && (rest.includes('--help') || rest.includes('-h'))) {
      io.out(commandHelp(help));
      return 0;
    }
    switch (command) {
      case 'replay':
        return await cmdReplay(rest, io);
      case 'start':
        return await cmdStart(rest, io);
      case 'check-config':
        return await cmdCheckConfig(rest, io);
      case 'backup':
        return await cmdBackup(rest, io);
      case 'browse':
        return await cmdBrowse(rest, io);
      case 'outbox':
        parse(spec('outbox'), rest); // unknown options get the usage error with a hint
        return await (await import('./outbox-cli.ts')).cmdOutbox(rest, io, EXAMPLE);
      case 'nats': {
        const { positionals, values } = parse(spec('nats'), rest);
        const { cmdNats } = await import('./forward/nats/cli.ts');
        return await cmdNats(positionals, values, io);
      }
      case 'bridge': {
        const { positionals, values } = parse(spec('bridge'), rest);
        const { cmdBridge } = await import('./forward/nats/cli.ts');
        return await cmdBridge(positionals, values, io);
      }
      case undefined:
      case '--help':
      case '-h':
        io.out(mainHelp());
        return 0;
      case 'help': {
        const [topic, ...extra] = rest;
        if (topic === undefined || topic === 'help') io.out(mainHelp());
        else if (extra.length > 0) throw usageError('help takes one command: andon help <command>');
        else io.out(commandHelp(commandSpec(topic) ?? throwUnknown(topic)));
        return 0;
      }
      case '--version':
      case '-v':
        io.out(`andon ${version()}`);
        return 0;
      default:
        throw unknownCommand(command);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) io.err(`${p.path || '(root)'}: ${p.code}: ${p.message}`);
      return 1;
    }
    if (isAndonError(err)) {
      io.err(`${err.code}: ${err.message}`);
      return err.code === 'ANDON_CLI_USAGE' ? 2 : 1;
    }
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      io.err(`ANDON_CLI_USAGE: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
