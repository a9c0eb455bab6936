import type { Logger } from 'pino';
import type { ForwardConfig } from '../../../config/schema.ts';
import { AndonError } from '../../../model/errors.ts';
import type { HistoryEvent, Ticket } from '../../../model/ticket.ts';
import { asForwarded, ForwardError, type CentralRef, type ForwardedTicket, type Sink } from '../sink.ts';
import { createChanges } from './changes.ts';
import { createRtClient, type RtClient } from './client.ts';
import { CREATE_STATUSES, DEFAULT_CUSTOM_FIELDS, DEFAULT_PRIORITIES, describe, fromRtDate, refId, RT_STATUS, rtDate, sqlString, updateComment, type CustomFieldNames } from './mapping.ts';

export interface RtSinkDeps {
  log?: Logger;
  fetch?: typeof fetch;
  /**
   * A ticket's whole history from the store: a forwarded version carries only what central acknowledged
   * not to have, and RT may lack more (a ticket created anew, a counter behind). Without it, RT gets what came.
   */
  history?: (ticketId: string) => HistoryEvent[];
}

/** The events of `t` from index `from` on: from the version's delta, or from the store when the delta starts later. */

/** What the gateway last wrote into an RT ticket (its own custom fields). */
interface Synced {
  rtId: number;
  version: number;
  /** The Andon state last written; null when the status still has to be set. */
  state: string | null;
  /** How many history events RT already has (create body + comments). */
  events: number;
  /** A person merged our RT ticket into this one, which does not carry the Andon id yet. */
  adopt?: boolean;
}

interface RtCustomField {
  name: string;
  values: string[];
}
interface RtTicket {
  id: string | number;
  EffectiveId?: unknown;
  Status?: string;
  Priority?: string;
  Due?: string;
  CustomFields?: RtCustomField[];
}

const CACHE_LIMIT = 10_000;

/**
 * A Sink that keeps Andon tickets in Request Tracker 5 over REST 2 (see README.md).
 *
 * Idempotency lives in RT itself: the RT ticket carries the Andon id, version,
 * state and the number of history events it has seen in custom fields, and
 * every put first looks the ticket up by `CF.{AndonId}`. A retry after a lost
 * answer therefore finds the ticket the first attempt created or updated. The
 * custom fields of an update travel in its last request, so a version counts
 * as written only when everything before it was.
 */
export function createRtSink(config: ForwardConfig, deps: RtSinkDeps = {}): Sink {
  if (config.token === undefined || config.token === '') throw new AndonError('ANDON_CONFIG_MISSING', 'forward type rt needs token', { path: 'forward.token' });
  if (config.queue === undefined || config.queue === '') throw new AndonError('ANDON_CONFIG_MISSING', 'forward type rt needs queue', { path: 'forward.queue' });
  const queue = config.queue;
  const cf: CustomFieldNames = { ...DEFAULT_CUSTOM_FIELDS, ...config.customFields };
  const priorities = { ...DEFAULT_PRIORITIES, ...config.priorities };
  const base = (config.url ?? '').replace(/\/+$/, '');
  const log = deps.log?.child({ component: 'forward-rt', queue });
  const client: RtClient = createRtClient({ url: base, token: config.token, timeout: config.timeout, fetch: deps.fetch ?? fetch, log });
  // The last state written per Andon id: skips the lookup for later versions. An attempt removes
  // its entry first, so after an unknown outcome the next attempt asks RT again.
  const known = new Map<string, Synced>();
  let ready = false;
  let createChecked = false;

  const ref = (rtId: number, version: number): CentralRef => ({ id: `RT-${rtId}`, url: `${base}/Ticket/Display.html?id=${rtId}`, version });
  const remember = (id: string, s: Synced) => {
    known.set(id, s);
    if (known.size > CACHE_LIMIT) known.delete(known.keys().next().value as string);
  };
  const cfValue = (t: RtTicket, name: string): string | null => t.CustomFields?.find((c) => c.name === name)?.values[0] ?? null;

  /** The queue exists and shows the gateway every custom field it needs (else a create would silently drop them). */
  async function preflight(signal: AbortSignal): Promise<void> {
    if (ready) return;
    const q = await client.get<{ id: number | string }>(`queue/${encodeURIComponent(queue)}`, {}, signal).catch((err: unknown) => {
      if (err instanceof ForwardError && err.status === 404) throw new ForwardError('poison', `RT queue "${queue}" does not exist or the token's user cannot see it`, undefined, 404);
      throw err;
    });
    const list = await client.get<{ items: { Name?: string }[] }>(`queue/${q.id}/customfields`, { fields: 'Name', per_page: '100' }, signal);
    const names = new Set(list.items.map((i) => i.Name));
    const missing = Object.values(cf).filter((n) => !names.has(n));
    if (missing.length > 0) {
      throw new ForwardError('poison', `RT queue "${queue}" lacks the ticket custom field(s) ${missing.join(', ')} (or the token's user may not see them); apply them to the queue`);
    }
    ready = true;
  }

  /**
   * The RT ticket holding this Andon id. `EffectiveId > 0` makes RT include merged tickets: a ticket
   * merged into another (by a person, or by us below) leads to the one that now stands for it.
   */
  async function find(id: string, signal: AbortSignal): Promise<Synced | null> {
    const res = await client.get<{ items: RtTicket[] }>(
      'tickets',
      { query: `'CF.{${cf.id}}' = ${sqlString(id)} AND EffectiveId > 0`, fields: 'EffectiveId,CustomFields', orderby: 'id', order: 'ASC', per_page: '20' },
      signal,
    );
    const items = res.items.map((i) => ({
      id: Number(i.id),
      effective: Number(refId(i.EffectiveId) ?? i.id),
      version: Number(cfValue(i, cf.version) ?? 0) || 0,
      state: cfValue(i, cf.state),
      events: Number(cfValue(i, cf.events) ?? 0) || 0,
    }));
    const [home, ...others] = [...new Set(items.map((i) => i.effective))].sort((a, b) => a - b);
    if (home === undefined) return null;
    // Two tickets for one Andon id: a create that timed out here was still carried out by RT after
    // the retry had looked (a request RT held, e.g. while stopped or overloaded). Merge it into the oldest.
    for (const dup of others) {
      try {
        await client.send('PUT', `ticket/${dup}`, { MergeInto: home }, signal);
        log?.warn({ ticket: id, rt: home, duplicate: dup }, 'merged a duplicate RT ticket into the oldest');
      } catch (err) {
        log?.warn({ ticket: id, rt: home, duplicate: dup, err: (err as Error).message }, 'could not merge a duplicate RT ticket');
      }
    }
    const own = items.find((i) => i.id === home);
    const best = own ?? items.filter((i) => i.effective === home).sort((a, b) => b.version - a.version)[0];
    if (best === undefined) return null;
    return { rtId: home, version: best.version, state: best.state, events: best.events, adopt: own === undefined };
  }

  const eventsFrom = (t: ForwardedTicket, from: number): HistoryEvent[] => {
    if (from >= t.historyFrom || !deps.history) return t.history.filter((e) => e.index >= from);
    return deps.history(t.id).slice(from, t.version);
  };
  /** How many events the ticket's history has in all (one per version). */
  const total = (t: ForwardedTicket) => t.historyFrom + t.history.length;

  async function create(t: ForwardedTicket, signal: AbortSignal): Promise<Synced> {
    const status = RT_STATUS[t.state];
    // A status the lifecycle refuses at creation (stalled, rejected) is set by an update right after;
    // until then the ticket says version 0, so a retry finishes the job instead of skipping it.
    const complete = CREATE_STATUSES.has(status);
    const due = rtDate(t.resolveBy);
    const res = await client.send<{ id: string | number }>(
      'POST',
      'ticket',
      {
        Queue: queue,
        Subject: t.title,
        Content: describe({ ...t, history: eventsFrom(t, 0) }),
        ContentType: 'text/plain',
        Status: complete ? status : 'new',
        Priority: priorities[t.priority],
        ...(due === null ? {} : { Due: due }),
        CustomFields: {
          [cf.id]: t.id,
          [cf.key]: t.key,
          [cf.version]: String(complete ? t.version : 0),
          ...(complete ? { [cf.state]: t.state } : {}),
          [cf.events]: String(total(t)),
        },
      },
      signal,
    );
    const rtId = Number(res.id);
    log?.info({ ticket: t.id, version: t.version, rt: rtId }, 'created RT ticket');
    if (!createChecked) {
      // RT drops custom field values it may not set without a word; without AndonId every retry would
      // create another ticket. Rights rarely change, so the first create of this sink is read back.
      const got = await client.get<RtTicket>(`ticket/${rtId}`, {}, signal);
      if (cfValue(got, cf.id) !== t.id) throw new ForwardError('poison', `RT #${rtId} was created without ${cf.id}: the token's user may not set the queue's custom fields (ModifyCustomField)`);
      createChecked = true;
    }
    return { rtId, version: complete ? t.version : 0, state: complete ? t.state : null, events: total(t) };
  }

  async function update(t: ForwardedTicket, cur: Synced, signal: AbortSignal): Promise<Synced> {
    const path = `ticket/${cur.rtId}`;
    const due = rtDate(t.resolveBy);
    const fields: Record<string, unknown> = { Subject: t.title, Priority: priorities[t.priority], ...(due === null ? {} : { Due: due }) };
    // Central owns human states: the status follows Andon only when Andon's state changed since the last write.
    const status = t.state !== cur.state ? RT_STATUS[t.state] : null;
    if (status !== null) fields.Status = status;
    const events = Math.min(cur.events, total(t));
    const CustomFields = {
      ...(cur.adopt ? { [cf.id]: t.id, [cf.key]: t.key } : {}),
      [cf.version]: String(t.version),
      [cf.state]: t.state,
      [cf.events]: String(total(t)),
    };
    if (events === total(t)) {
      await client.send('PUT', path, { ...fields, CustomFields }, signal);
    } else {
      // Fields first (repeatable), then the comment with the custom fields: a lost answer to the
      // comment leaves RT at the new version, and the retry finds nothing left to do.
      await client.send('PUT', path, fields, signal);
      await client.send('POST', `${path}/comment`, { ...updateComment(t, eventsFrom(t, events)), ContentType: 'text/plain', CustomFields }, signal);
    }
    await verify(t, cur.rtId, status, signal);
    log?.debug({ ticket: t.id, version: t.version, rt: cur.rtId, status, events: total(t) - events }, 'updated RT ticket');
    return { rtId: cur.rtId, version: t.version, state: t.state, events: total(t) };
  }

  /**
   * The merge target takes this Andon ticket over unless it already stands for another one. Its own
   * bookkeeping wins when newer (written through the merged ticket's id before this lookup).
   */
  async function adopt(t: Ticket, cur: Synced, signal: AbortSignal): Promise<Synced> {
    const target = await client.get<RtTicket>(`ticket/${cur.rtId}`, {}, signal);
    const other = cfValue(target, cf.id);
    if (other !== null && other !== t.id) {
      throw new ForwardError('poison', `the RT ticket of ${t.id} was merged into RT #${cur.rtId}, which holds Andon ticket ${other}; one RT ticket cannot follow two`);
    }
    log?.info({ ticket: t.id, rt: cur.rtId }, 'following a merge in RT: the merge target now holds this ticket');
    const version = Number(cfValue(target, cf.version) ?? 0) || 0;
    if (version <= cur.version) return cur;
    return { ...cur, version, state: cfValue(target, cf.state), events: Number(cfValue(target, cf.events) ?? 0) || 0 };
  }

  /** RT answers 200 even when it refused a field (lifecycle, rights); read back what matters. */
  async function verify(t: Ticket, rtId: number, status: string | null, signal: AbortSignal): Promise<void> {
    const got = await client.get<RtTicket>(`ticket/${rtId}`, {}, signal);
    const wrong: string[] = [];
    if (cfValue(got, cf.version) !== String(t.version)) wrong.push(`${cf.version} is ${cfValue(got, cf.version) ?? 'empty'}, not ${t.version}`);
    if (status !== null && got.Status !== status) wrong.push(`Status is ${got.Status}, not ${status}`);
    if (Number(got.Priority) !== priorities[t.priority]) wrong.push(`Priority is ${got.Priority}, not ${priorities[t.priority]}`);
    const due = rtDate(t.resolveBy);
    if (due !== null && fromRtDate(got.Due) !== due) wrong.push(`Due is ${got.Due}, not ${due}`);
    if (wrong.length > 0) throw new ForwardError('poison', `RT #${rtId} did not take version ${t.version} of ${t.id}: ${wrong.join('; ')} (lifecycle or rights of the token's user?)`);
  }

  async function put(input: ForwardedTicket | Ticket, signal: AbortSignal): Promise<CentralRef> {
    const t = asForwarded(input);
    try {
      await preflight(signal);
      const cached = known.get(t.id);
      known.delete(t.id);
      let cur = cached ?? (await find(t.id, signal)) ?? (await create(t, signal));
      if (cur.adopt) cur = await adopt(t, cur, signal);
      if (cur.version > t.version) {
        remember(t.id, cur);
        throw new ForwardError('conflict', `RT #${cur.rtId} already holds version ${cur.version} of ${t.id}, newer than ${t.version}`, undefined, 409, ref(cur.rtId, cur.version));
      }
      if (cur.version < t.version || cur.adopt) cur = await update(t, cur, signal);
      remember(t.id, cur);
      return ref(cur.rtId, t.version);
    } catch (err) {
      if (err instanceof ForwardError) {
        if (err.kind !== 'conflict') log?.warn({ ticket: t.id, version: t.version, kind: err.kind, status: err.status, err: err.message }, 'RT put failed');
        throw err;
      }
      // A bug or an answer of an unexpected shape: park it rather than crash the forwarder.
      throw new ForwardError('poison', `RT put of ${t.id} v${t.version} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return { put, changes: createChanges({ client, queue, cf, token: config.token, log }) };
}
