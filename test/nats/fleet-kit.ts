import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** What the NATS fault tests and bench:fleet share: gateway configs, load, reading the stream back. */
export const INGEST = 'ingest-token-for-nats-fleet';
export const ADMIN = 'admin-token-for-nats-fleet';
export const NATS_AUTH = { user: 'andon', password: 'fleet-secret-pass' };

export interface FleetGatewayOptions {
  id: string;
  dir: string;
  servers: string[];
  password?: string;
  stream?: string;
  subjectPrefix?: string;
  extraForward?: string;
}

/** The YAML of a gateway with an http source, one alarm rule, and forward type nats. */
export function fleetConfigYaml(o: FleetGatewayOptions): string {
  return `gateway:
  id: ${o.id}
  dataDir: ${o.dir}
  http: { host: 127.0.0.1, port: 0 }
  auth: { tokens: [ { name: mes, role: ingest, token: ${INGEST} }, { name: root, role: admin, token: ${ADMIN} } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
forward:
  type: nats
  servers: [ ${o.servers.map((s) => `"${s}"`).join(', ')} ]
  user: ${NATS_AUTH.user}
  password: ${o.password ?? NATS_AUTH.password}
  ${o.stream ? `stream: ${o.stream}` : ''}
  ${o.subjectPrefix ? `subjectPrefix: ${o.subjectPrefix}` : ''}
  concurrency: 8
  timeout: 2s
  checkInterval: 200ms
  backoff: { base: 50ms, max: 1s }
  ${o.extraForward ?? ''}
`;
}

export function writeFleetConfig(o: FleetGatewayOptions): string {
  const file = join(o.dir, 'config.yaml');
  writeFileSync(file, fleetConfigYaml(o));
  return file;
}

/** Posts one alarm (raise or clear); resolves false when the gateway does not answer. */
export async function postAlarm(url: string, asset: number, value: boolean): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tag: `area-${asset}/kp-${asset}/alarm/E1`, value }),
    });
    await res.arrayBuffer();
    return res.status === 202;
  } catch {
    return false;
  }
}

/** Posts alarms of `assets` assets one after the other until `running()` is false or the gateway stops answering. */
export async function load(url: string, random: () => number, running: () => boolean, stats: { answered: number }, assets = 60): Promise<void> {
  while (running()) {
    const ok = await postAlarm(url, Math.floor(random() * assets), random() < 0.6);
    if (!ok) return;
    stats.answered++;
  }
}

/** Versions waiting in the gateway's outbox (admin API). */
export async function pending(url: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/outbox`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = (await res.json()) as { pending: { versions: number } };
  return body.pending.versions;
}

/** Polls `check` until it stops throwing, or throws its last error after `ms`. */
export async function until<T>(check: () => Promise<T>, ms: number, every = 100): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (performance.now() > end) throw err;
      await new Promise((r) => setTimeout(r, every));
    }
  }
}

export interface StreamedVersion {
  seq: number;
  subject: string;
  msgId: string;
  ticketId: string;
  version: number;
  gateway: string;
}

/**
 * Every message of `stream`, in stream order (an ordered consumer). Right after a node of the
 * cluster was killed and restarted, a JetStream API request may time out while the cluster elects
 * its leaders again: the read is retried for up to `ms` (a timeout after that is a real failure).
 */
export async function readStream(nc: NatsConnection, stream: string, ms = 30_000): Promise<StreamedVersion[]> {
  return until(() => readStreamOnce(nc, stream), ms, 500);
}

async function readStreamOnce(nc: NatsConnection, stream: string): Promise<StreamedVersion[]> {
  const info = await (await jetstreamManager(nc, { timeout: 5_000 })).streams.info(stream);
  const out: StreamedVersion[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume();
  for await (const m of messages) {
    const t = m.json<{ id: string; version: number; gateway: string }>();
    out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') ?? '', ticketId: t.id, version: t.version, gateway: t.gateway });
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/** (ticket, version) pairs found more than once, and tickets whose versions go backwards in stream order. */
export function streamProblems(msgs: StreamedVersion[]): { twice: string[]; outOfOrder: string[]; newest: Map<string, number> } {
  const seen = new Set<string>();
  const twice: string[] = [];
  const outOfOrder: string[] = [];
  const newest = new Map<string, number>();
  for (const m of msgs) {
    const k = `${m.ticketId}:${m.version}`;
    if (seen.has(k)) twice.push(k);
    seen.add(k);
    const before = newest.get(m.ticketId);
    if (before !== undefined && before >= m.version) outOfOrder.push(`${m.ticketId} v${m.version} after v${before}`);
    newest.set(m.ticketId, Math.max(before ?? 0, m.version));
  }
  return { twice, outOfOrder, newest };
}
