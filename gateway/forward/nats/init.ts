import { connect } from '@nats-io/transport-node';
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { ForwardConfig } from '../../../config/schema.ts';
import { connectionOptions, NATS_DEFAULTS } from './connection.ts';

/** The settings `andon nats init` gives the streams (gateway/forward/nats/README.md §Streams). */
export interface NatsInitOptions {
  /** Copies of each stream in the cluster (1, 3 or 5; 3 survives one node down). */
  replicas: number;
  /** Versions older than this leave the stream (central consumers must read within it). */
  maxAgeMs: number;
  /** The stream's size limit in bytes (-1: none); the oldest versions go first. */
  maxBytes: number;
  /** A resend of a version within this window is dropped by the stream (Nats-Msg-Id). */
  duplicateWindowMs: number;
  /** Also the changes stream (sync back). */
  changes: boolean;
}

export const NATS_INIT_DEFAULTS: NatsInitOptions = { replicas: 3, maxAgeMs: 30 * 86_400_000, maxBytes: -1, duplicateWindowMs: 2 * 3_600_000, changes: true };

const ns = (ms: number) => ms * 1_000_000;

/** The ticket stream's config: every version kept (limits by age and size only), de-duplicated by Nats-Msg-Id. */
export function ticketStreamConfig(config: ForwardConfig, o: NatsInitOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: config.stream ?? NATS_DEFAULTS.stream,
    subjects: [`${config.subjectPrefix ?? NATS_DEFAULTS.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: o.replicas,
    max_age: ns(o.maxAgeMs),
    max_bytes: o.maxBytes,
    max_msgs: -1,
    max_msgs_per_subject: -1,
    discard: DiscardPolicy.Old,
    duplicate_window: ns(o.duplicateWindowMs),
    description: 'Andon ticket versions: <prefix>.<gateway id>.<ticket id>, Nats-Msg-Id <ticket id>:<version> (andon nats init)',
  };
}

/** The changes stream: central's changes per gateway (`andon.changes.<gateway id>`), read by each gateway's durable consumer. */
export function changesStreamConfig(config: ForwardConfig, o: NatsInitOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: config.changesStream ?? NATS_DEFAULTS.changesStream,
    subjects: [`${NATS_DEFAULTS.changesPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: o.replicas,
    max_age: ns(Math.min(o.maxAgeMs, 7 * 86_400_000)),
    max_bytes: -1,
    discard: DiscardPolicy.Old,
    duplicate_window: ns(o.duplicateWindowMs),
    description: 'Changes made at central per gateway: andon.changes.<gateway id> (andon nats init)',
  };
}

/**
 * Creates the streams, or updates them to these settings (replicas may only change where the server
 * allows it). Idempotent: running it again changes nothing. Returns one line per stream.
 */
export async function natsInit(config: ForwardConfig, o: NatsInitOptions): Promise<string[]> {
  const nc = await connect({ ...connectionOptions(config, 'andon nats init'), reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    const lines: string[] = [];
    for (const sc of [ticketStreamConfig(config, o), ...(o.changes ? [changesStreamConfig(config, o)] : [])]) {
      let existed = true;
      try {
        await jsm.streams.info(sc.name);
      } catch {
        existed = false;
      }
      const info = existed ? await jsm.streams.update(sc.name, sc) : await jsm.streams.add(sc);
      lines.push(
        `${existed ? 'updated' : 'created'} stream ${info.config.name}: subjects ${info.config.subjects?.join(', ')}, replicas ${info.config.num_replicas}, ` +
          `max age ${Math.round(info.config.max_age / ns(3_600_000))}h, max bytes ${info.config.max_bytes}, de-duplication window ${Math.round(info.config.duplicate_window / ns(60_000))}m`,
      );
    }
    return lines;
  } finally {
    await nc.close();
  }
}
