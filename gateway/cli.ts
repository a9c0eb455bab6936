import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { AndonError, isAndonError } from './errors.ts';
import { cmdOutbox } from './outbox-cli.ts';
import { formatSummary, replay } from './replay.ts';

const HELP = `andon — plant signals in, tickets out

Usage:
  andon replay --config <file.yaml> --input <records.jsonl> [--out tickets.json] [--db store.sqlite] [--verbose]
      Replays records in virtual time and prints the final tickets (JSON array).
  andon start [--config <file.yaml>] [--port <n>]
      Runs the gateway live (HTTP API, rules, store). Without --config: config/example.yaml.
  andon check-config <file.yaml>
      Validates a config; prints every problem with its path and code; exit 1 when any.
  andon outbox [--config <file.yaml>] [--parked] [--limit <n>]
      What waits to be forwarded to central (counts, oldest age, per ticket), or with --parked what central refused.
  andon outbox retry <ticket id | --all> [--config <file.yaml>]
      Un-parks a ticket's versions (or all) so the forwarder sends them again.
  andon help
`;

const EXAMPLE = fileURLToPath(new URL('../config/example.yaml', import.meta.url));

type Out = { out: (s: string) => void; err: (s: string) => void };

async function cmdReplay(argv: string[], io: Out): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, db: { type: 'string' }, verbose: { type: 'boolean' } },
  });
  if (!values.config || !values.input) throw new AndonError('ANDON_CLI_USAGE', 'replay needs --config <file.yaml> and --input <records.jsonl>');
  const config = loadConfig(values.config);
  const tty = process.stderr.isTTY;
  const { tickets, summary } = await replay({
    config,
    input: values.input,
    ...(values.db ? { db: values.db } : {}),
    ...(tty ? { onProgress: (n: number) => process.stderr.write(`\rreplay: ${n} lines…`) } : {}),
  });
  if (tty) process.stderr.write('\r');
  const json = JSON.stringify(tickets, null, 2);
  if (values.out) writeFileSync(values.out, json + '\n');
  else io.out(json);
  if (values.verbose) for (const r of summary.refusals) io.err(`line ${r.line}: ${r.code}: ${r.message}`);
  io.err(formatSummary(summary));
  return 0;
}

async function cmdStart(argv: string[], io: Out): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, port: { type: 'string' } } });
  const file = values.config ?? EXAMPLE;
  const config = loadConfig(file);
  const { startGateway } = await import('./main.ts');
  const gw = await startGateway(config, values.port !== undefined ? { port: Number(values.port) } : {});
  io.err(`andon: ${config.gateway.id} running at ${gw.address} (config ${file}); Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    const stop = () => void gw.stop().then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

function cmdCheckConfig(argv: string[], io: Out): number {
  const file = argv.find((a) => !a.startsWith('-'));
  if (!file) throw new AndonError('ANDON_CLI_USAGE', 'check-config needs a file: andon check-config <file.yaml>');
  try {
    const c = loadConfig(file);
    io.out(`${file}: ok (${c.sources.length} sources, ${Object.keys(c.assets).length} assets, ${c.rules.length} rules)`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(`${file}: ${p.path || '(root)'}: ${p.code}: ${p.message}`);
    io.err(`${file}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}`);
    return 1;
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: Out = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'replay':
        return await cmdReplay(rest, io);
      case 'start':
        return await cmdStart(rest, io);
      case 'check-config':
        return cmdCheckConfig(rest, io);
      case 'outbox':
        return await cmdOutbox(rest, io, EXAMPLE);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return 0;
      default:
        throw new AndonError('ANDON_CLI_USAGE', `unknown command "${command}"\n\n${HELP}`);
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
