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
