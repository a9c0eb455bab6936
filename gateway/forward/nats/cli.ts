import { loadConfig } from '../../../config/load.ts';
import { parseDuration } from '../../../config/duration.ts';
import { AndonError } from '../../../model/errors.ts';
import { errorText } from '../../redact.ts';
import { natsInit, NATS_INIT_DEFAULTS, type NatsInitOptions } from './init.ts';

type Out = { out: (s: string) => void; err: (s: string) => void };

const usage = (msg: string) => new AndonError('ANDON_CLI_USAGE', msg);

function durationOf(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw usage(`--${name} takes a duration (30d, 2h), not "${text}"`);
  return ms;
}

/**
 * `andon nats init --config <file.yaml>`: creates (or updates) the streams the config's `forward: { type: nats }`
 * publishes to, with the settings of gateway/forward/nats/README.md §Streams.
 */
export async function cmdNats(positionals: string[], values: Record<string, string | boolean | undefined>, io: Out): Promise<number> {
  const [sub, ...extra] = positionals;
  if (sub !== 'init' || extra.length > 0) throw usage('usage: andon nats init --config <file.yaml> [--replicas n] [--max-age 30d] [--max-bytes n] [--duplicate-window 2h] [--no-changes]');
  if (typeof values.config !== 'string') throw usage('nats init needs --config <file.yaml> (its forward: { type: nats } says where the cluster is)');
  const config = loadConfig(values.config);
  if (config.forward?.type !== 'nats') throw usage(`${values.config} has no forward: { type: nats }`);
  const replicas = values.replicas === undefined ? NATS_INIT_DEFAULTS.replicas : Number(values.replicas);
  if (![1, 3, 5].includes(replicas)) throw usage(`--replicas takes 1, 3 or 5, not "${String(values.replicas)}"`);
  const maxBytes = values['max-bytes'] === undefined ? NATS_INIT_DEFAULTS.maxBytes : Number(values['max-bytes']);
  if (!Number.isInteger(maxBytes) || (maxBytes < 1 && maxBytes !== -1)) throw usage(`--max-bytes takes a number of bytes or -1 (no limit), not "${String(values['max-bytes'])}"`);
  const o: NatsInitOptions = {
    replicas,
    maxAgeMs: durationOf('max-age', values['max-age'] as string | undefined, NATS_INIT_DEFAULTS.maxAgeMs),
    maxBytes,
    duplicateWindowMs: durationOf('duplicate-window', values['duplicate-window'] as string | undefined, NATS_INIT_DEFAULTS.duplicateWindowMs),
    changes: values['no-changes'] !== true,
  };
  const longest = config.forward.backoff?.max ?? 300_000;
  if (o.duplicateWindowMs <= longest) throw usage(`--duplicate-window must be longer than the longest retry (forward.backoff.max, ${longest} ms)`);
  try {
    for (const line of await natsInit(config.forward, o)) io.out(line);
  } catch (err) {
    io.err(`andon: nats init: ${errorText(err)}`);
    return 1;
  }
  return 0;
}

/**
 * `andon bridge <rt|http> --nats <fleet.yaml> --config <receiver.yaml> [--durable name] [--filter subjects]`:
 * consumes the stream of fleet.yaml's forward (type nats) into the receiver of receiver.yaml's forward
 * (type rt: Request Tracker, or http), until SIGINT/SIGTERM.
 */
export async function cmdBridge(positionals: string[], values: Record<string, string | boolean | undefined>, io: Out): Promise<number> {
  const [type, ...extra] = positionals;
  if ((type !== 'rt' && type !== 'http') || extra.length > 0) throw usage('usage: andon bridge <rt|http> --nats <fleet.yaml> --config <receiver.yaml> [--durable name] [--filter subjects]');
  if (typeof values.nats !== 'string' || typeof values.config !== 'string') throw usage('bridge needs --nats <file.yaml> (forward type nats: the stream) and --config <file.yaml> (forward type rt or http: the receiver)');
  const from = loadConfig(values.nats).forward;
  const to = loadConfig(values.config).forward;
  if (from?.type !== 'nats') throw usage(`${values.nats} has no forward: { type: nats }`);
  if (to?.type !== type) throw usage(`${values.config} has no forward: { type: ${type} }`);
  const { pino } = await import('pino');
  const log = pino({ name: 'andon-bridge', level: process.env.ANDON_LOG_LEVEL ?? 'info' });
  const { createSink } = await import('../index.ts');
  const { startBridge } = await import('./bridge.ts');
  const durable = typeof values.durable === 'string' ? values.durable : `${type}-bridge`;
  const bridge = await startBridge({ nats: from, sink: await createSink(to, { log }), durable, ...(typeof values.filter === 'string' ? { filter: values.filter } : {}), log });
  io.err(`andon: bridge ${type} running: stream ${from.stream ?? 'ANDON_TICKETS'} (durable consumer ${durable}) -> ${to.url ?? ''}; Ctrl-C stops`);
  const stopped = new Promise<void>((resolve) => {
    const stop = () => void bridge.stop().then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  try {
    await Promise.race([stopped, bridge.done]);
  } catch (err) {
    io.err(`andon: bridge: ${errorText(err)}`);
    await bridge.stop();
    return 1;
  }
  return 0;
}
