import { Subject } from 'rxjs';
import { DEFAULT_RECORD_TYPES, type AndonConfig } from '../../config/schema.ts';
import { higherPriority, type DetectFields, type Evidence, type FloodMember, type TicketCommand } from '../../rules/types.ts';
import { AndonError } from '../../model/errors.ts';
import { notificationsFor } from './triggers.ts';
import { onCallOf } from '../schedules/oncall.ts';
import type { StoreTx, TicketStore } from '../store/store.ts';
import { transition } from './lifecycle.ts';
import { causeOn, earlyWarningSettings, expectedBy, newWarning, patternWarningDue, settled, warningCauseKey, WarningIndex, warningRow, withWarning } from './warnings.ts';
import { followingNext } from '../../rules/time-pattern.ts';
import { addItems, addRecord, hasPassedAcceptance, partsRequestOfWait } from '../records/records.ts';
import { copyTicket, iso, isLive, patchTicket, isShelved, withActor, type HistoryEvent, type Member, type PreviousFix, type TicketDoc, type Warning } from '../../model/ticket.ts';

/** One committed ticket change: the new version and the history event that made it. */
export interface TicketChange {
  ticket: TicketDoc;
  event: HistoryEvent;
  previous: TicketDoc | null;
  command: TicketCommand;
  /** The history event's ticket_events.seq: strictly increasing across restarts (the SSE id). */
  seq: number;
}

export interface EngineDeps {
  store: TicketStore;
  config: AndonConfig;
  /** Ticket ids (ULIDs); replay injects a seeded factory so its ids repeat. */
  newId: (at: number) => string;
}

const SYSTEM = 'andon';
const MAX_EVIDENCE = 20;
const MAX_MEMBERS = 500;
const MAX_SIMILAR = 5;

// The source's time is checked where it enters (gateway/signal-time.ts); should a bad one slip through, the
// evidence takes the command's time rather than throw a RangeError and fail the whole change.
const toEvidence = (e: Evidence, at: number) => ({ tag: e.tag, value: e.value, ts: iso(Number.isFinite(e.ts) && Math.abs(e.ts) <= 8.64e15 ? e.ts : at), ...(e.message ? { message: e.message } : {}), ...(e.severity ? { severity: e.severity } : {}), ...(e.unit ? { unit: e.unit } : {}) });
const toMember = (m: FloodMember): Member => ({ asset: m.asset, fault: m.fault, at: iso(m.at) });
/** Flags of the closed loop: the fault came back after a fix / stayed quiet long enough after it. */
const RECURRED = 'recurred-after-fix';
const FIX_VERIFIED = 'fix-verified';
const DAY = 86_400_000;

const previousFix = (t: TicketDoc): PreviousFix => ({ id: t.id, resolvedAt: t.resolvedAt, rootCause: t.rootCause, resolution: t.resolution });

/** The history fields of a reopen: the fix that did not hold. */
const reopenedFields = (live: TicketDoc) => (live.state === 'resolved' ? { resolution: live.resolution, rootCause: live.rootCause, resolvedAt: live.resolvedAt } : {});

/**
 * How long a fix must stay quiet to count as verified: correlation.verifyFix.after, else three periods of the
 * ticket's recurrence (3 days daily, 3 weeks weekly), else 7 days.
 */
export function verifyAfter(config: AndonConfig, t: Pick<TicketDoc, 'recurrence'>): number {
  const set = config.correlation.verifyFix?.after;
  if (set !== undefined) return set;
  const pattern = t.recurrence?.pattern;
  return pattern === 'daily' ? 3 * DAY : pattern === 'weekly' ? 21 * DAY : 7 * DAY;
}

/** The opened event names the on-call person routing assigned the ticket to. */
const assigned = (doc: TicketDoc) => (doc.assignee === null ? {} : { assignee: doc.assignee });

const union = (a: string[], b: string[]) => (b.every((f) => a.includes(f)) ? a : [...a, ...b.filter((f) => !a.includes(f))]);

/**
 * Turns ticket commands into committed ticket changes: one command, one store
 * transaction, one history event per changed ticket. Identity (one live ticket
 * per key), folding, flood merging, escalation and the lifecycle meet here.
 */
export class TicketEngine {
  readonly changes$ = new Subject<TicketChange>();
  private queue: TicketCommand[] = [];
  private busy = false;
  /** Changes committed by the open batch's savepoints, published when the batch commits. */
  private batched: TicketChange[] | undefined;
  /** In the open batch: flood tickets whose last change was a member's occurrence (the next one joins it). */
  private floodVersions = new Map<string, TicketChange>();

  private config: AndonConfig;
  /** Which live tickets list which probable causes, and each cause's latest outcomes (early warnings). */
  private readonly warningIndex = new WarningIndex();

  constructor(private readonly deps: EngineDeps) {
    this.config = deps.config;
  }

  /** Start: indexes the stored live tickets' causes and the logged warning outcomes (early warnings survive a restart). */
  prime(live: readonly TicketDoc[]): void {
    this.warningIndex.prime(live, this.deps.store.warnings.latest(10));
  }

  /** A config reload: SLAs, shelving limit and gateway fields of the changes from now on (tickets already open keep their deadlines). */
  setConfig(config: AndonConfig): void {
    this.config = config;
  }

  /**
   * Applies a command and returns the tickets it changed (committed, or part of the open batch). Throws
   * AndonError for refused lifecycle actions; nothing is written then.
   */
  apply(cmd: TicketCommand): TicketDoc[] {
    if (this.busy) {
      // A subscriber reacted synchronously; run it after the current command.
      this.queue.push(cmd);
      return [];
    }
    if (cmd.type === 'flood-member' && this.batched) {
      const joined = this.joinFlood(cmd);
      if (joined) return [joined];
    }
    this.busy = true;
    try {
      const changes = this.deps.store.transaction((tx) => this.run(tx, cmd));
      if (this.batched) this.batched.push(...changes);
      else for (const c of changes) this.changes$.next(c);
      return changes.map((c) => c.ticket);
    } finally {
      this.busy = false;
      if (!this.batched) this.drain();
    }
  }

  /**
   * Runs `fn` (which applies commands) in one store transaction: each command in a savepoint of its own
   * (a refused one rolls back alone), all committed together, with one fsync. The changes are published
   * after the commit, in order; if the commit fails, none is and the error is thrown. This is how an
   * alarm flood's raises arriving together cost one commit, not one each.
   */
  batch<T>(fn: () => T): T {
    if (this.batched) return fn();
    const changes: TicketChange[] = [];
    this.batched = changes;
    let result: T;
    try {
      result = this.deps.store.batch(fn);
    } finally {
      this.batched = undefined;
      if (this.floodVersions.size > 0) this.floodVersions.clear(); // clear() allocates a new table (old space, per signal)
    }
    this.busy = true;
    try {
      for (const c of changes) this.changes$.next(c);
    } finally {
      this.busy = false;
      this.drain();
    }
    return result;
  }

  private drain(): void {
    while (!this.busy && this.queue.length > 0) {
      const next = this.queue.shift() as TicketCommand;
      try {
        this.apply(next);
      } catch {
        // queued commands come from timers; a refusal there is not an error for anyone
      }
    }
  }

  private run(tx: StoreTx, cmd: TicketCommand): TicketChange[] {
    const out: TicketChange[] = [];
    const save = (previous: TicketDoc | null, ticket: TicketDoc, event: HistoryEvent) => {
      const doc = copyTicket(ticket);
      doc.version = (previous?.version ?? 0) + 1;
      doc.updatedAt = event.at;
      const seq = tx.save(doc, event, previous);
      tx.enqueueNotifications(notificationsFor(previous, doc, event));
      this.warningIndex.track(doc, previous);
      out.push({ ticket: doc, event, previous, command: cmd, seq });
      this.floodVersions.delete(doc.id);
      return doc;
    };
    const at = iso(cmd.at);
    switch (cmd.type) {
      case 'detect': {
        const live = tx.liveByKey(cmd.key);
        const evidence = toEvidence(cmd.evidence, cmd.at);
        if (!live) {
          const doc = this.newTicket(tx, cmd, cmd.at, cmd.evidence);
          doc.flags = [...cmd.flags];
          doc.recurrence = cmd.recurrence ?? null;
          doc.causes = cmd.causes ?? [];
          const after = this.afterClosed(tx, doc, cmd.at);
          save(null, doc, { at, action: 'opened', by: SYSTEM, tag: evidence.tag, value: evidence.value, ...assigned(doc), ...after.event });
          if (after.closed) save(after.closed.from, after.closed.to, after.closed.event);
        } else {
          const doc = this.occurrence(live, cmd.at, evidence, cmd.priority, cmd.flags, cmd);
          const saved = save(live, doc, { at, action: this.recur(live, doc, cmd.at), by: SYSTEM, tag: evidence.tag, value: evidence.value, ...reopenedFields(live) });
          if (saved.warnings.length > 0) this.confirmWarnings(tx, saved, cmd.at, save);
        }
        // This detection may be another ticket's probable cause: one Map lookup, nothing more when it is no one's.
        const effects = this.warningIndex.effectsOf(cmd.asset, cmd.fault);
        if (effects) this.warnFrom(tx, cmd, effects, save);
        break;
      }
      case 'clear': {
        const live = tx.liveByKey(cmd.key);
        if (live && live.condition === 'active') {
          save(live, patchTicket(live, { condition: 'cleared', evidence: [...live.evidence, toEvidence(cmd.evidence, cmd.at)].slice(-MAX_EVIDENCE) }), { at, action: 'cleared', by: SYSTEM, tag: cmd.evidence.tag, value: cmd.evidence.value });
        }
        break;
      }
      case 'flood': {
        const live = tx.liveByKey(cmd.key);
        const members = cmd.members.map(toMember);
        let flood: TicketDoc;
        if (!live) {
          const doc = this.newTicket(tx, cmd, cmd.at, cmd.evidence);
          Object.assign(doc, { flags: ['flood'], members: members.slice(0, MAX_MEMBERS), firstOut: toMember(cmd.firstOut), occurrences: members.length });
          const after = this.afterClosed(tx, doc, cmd.at);
          flood = save(null, doc, { at, action: 'opened', by: SYSTEM, members: members.length, firstOut: doc.firstOut, ...assigned(doc), ...after.event });
          if (after.closed) save(after.closed.from, after.closed.to, after.closed.event);
        } else {
          const doc = this.occurrence(live, cmd.at, toEvidence(cmd.evidence, cmd.at), cmd.priority, ['flood'], null);
          Object.assign(doc, { members: [...live.members, ...members].slice(0, MAX_MEMBERS), occurrences: live.occurrences + members.length });
          flood = save(live, doc, { at, action: this.recur(live, doc, cmd.at), by: SYSTEM, members: members.length, ...reopenedFields(live) });
        }
        for (const key of new Set(cmd.mergeKeys)) {
          const t = tx.liveByKey(key);
          if (!t || t.id === flood.id || Date.parse(t.openedAt) < cmd.since) continue;
          save(t, patchTicket(t, { state: 'merged', mergedInto: flood.id }), { at, action: 'merged', by: SYSTEM, into: flood.id });
        }
        break;
      }
      case 'flood-member': {
        const live = tx.liveByKey(cmd.key);
        if (!live) break;
        const doc = this.occurrence(live, cmd.at, toEvidence(cmd.evidence, cmd.at), cmd.priority, ['flood'], null);
        if (live.members.length < MAX_MEMBERS) doc.members = [...live.members, toMember(cmd.member)];
        save(live, doc, { at, action: this.recur(live, doc, cmd.at), by: SYSTEM, member: toMember(cmd.member), ...reopenedFields(live) });
        // the members that follow in this batch join this version (joinFlood)
        if (this.batched) this.floodVersions.set(live.id, out[out.length - 1] as TicketChange);
        break;
      }
      case 'flood-end': {
        const live = tx.liveByKey(cmd.key);
        if (live && live.condition === 'active') save(live, patchTicket(live, { condition: 'cleared' }), { at, action: 'cleared', by: SYSTEM });
        break;
      }
      case 'escalate': {
        const t = tx.byId(cmd.id);
        // nothing escalates while shelved; the timers re-arm at unshelve and fire what fell due
        if (!t || !isLive(t.state) || isShelved(t, cmd.at)) break;
        const satisfied = cmd.unless === 'acknowledged' ? t.state !== 'open' : t.state === 'resolved';
        if (satisfied) break;
        const breach = cmd.breach && !t.breaches.includes(cmd.breach) ? cmd.breach : null;
        const raise = cmd.level > t.escalationLevel;
        if (!breach && !raise) break;
        const doc: TicketDoc = copyTicket(t);
        const event: HistoryEvent = { at, action: raise ? 'escalated' : 'sla-breached', by: SYSTEM };
        if (breach) {
          doc.breaches = [...t.breaches, breach];
          doc.flags = union(t.flags, ['sla-breached']);
          event.breach = breach;
        }
        if (raise) {
          // the people on duty when the level fires (a shift may have changed since the ticket opened)
          const onDuty = (cmd.onDuty ?? []).map((ref) => {
            const group = ref.group ?? t.assignedGroup;
            const person = group === null ? null : onCallOf(this.config).person(group, ref.role, cmd.at);
            return { group, role: ref.role, person: person?.id ?? null, notify: person?.notify ?? null };
          });
          const notified = union(cmd.notify, onDuty.flatMap((p) => (p.notify === null ? [] : [p.notify])));
          doc.escalationLevel = cmd.level;
          doc.escalations = [...t.escalations, { level: cmd.level, at, notified }];
          Object.assign(event, { level: cmd.level, notified }, onDuty.length > 0 ? { onDuty: onDuty.map(({ group, role, person }) => ({ group, role, person })) } : {});
        }
        save(t, doc, event);
        break;
      }
      case 'transition': {
        const t = cmd.id !== undefined ? tx.byId(cmd.id) : cmd.key !== undefined ? tx.liveByKey(cmd.key) : undefined;
        if (!t) throw new AndonError('ANDON_TICKET_NOT_FOUND', cmd.id !== undefined ? `no ticket with id ${cmd.id}` : `no live ticket with key ${cmd.key ?? '(none)'}`);
        const { ticket, event } = transition(t, cmd.action, cmd.by, cmd.at, cmd.fields, {
          maxShelve: this.config.shelving.maxDuration,
          checklist: this.config.lifecycle?.closeChecklist.map((i) => i.id),
          labels: this.config.knowledge ?? { labels: [], freeLabels: false },
        });
        // waiting for parts opens the ticket's parts request (contracts §Records): more items can be added to it
        if (cmd.action === 'wait' && ticket.wait?.reason === 'parts') {
          const record = partsRequestOfWait(t, this.recordTypes(), cmd.fields, cmd.by, cmd.at);
          ticket.records = [...t.records, record];
          event.record = record.id;
        }
        if (cmd.action === 'close' && (this.config.lifecycle?.requireAcceptance ?? []).includes(t.priority) && !hasPassedAcceptance(t)) {
          throw new AndonError('ANDON_TICKET_ACCEPTANCE_REQUIRED', `closing a ${t.priority} ticket needs an acceptance record that passed (lifecycle.requireAcceptance)`, { path: 'records' });
        }
        // A resolve starts the fix's verification (the fault must stay quiet until verifyBy); a person's reopen ends it.
        if (cmd.action === 'resolve') ticket.verifyBy = iso(cmd.at + verifyAfter(this.config, t));
        if (cmd.action === 'reopen') ticket.verifyBy = null;
        save(t, ticket, withActor(event, cmd.actor, cmd.actorName));
        break;
      }
      case 'verify-fix': {
        const t = tx.byId(cmd.id);
        // only the verification this timer was set for: a reopen, a recurrence or a new resolve moved or ended it
        if (!t || (t.state !== 'resolved' && t.state !== 'closed') || t.verifyBy !== cmd.verifyBy) break;
        save(t, patchTicket(t, { verifyBy: null, flags: union(t.flags, [FIX_VERIFIED]) }), { at, action: FIX_VERIFIED, by: SYSTEM, quietSince: t.resolvedAt });
        break;
      }
      case 'unshelve-due': {
        const t = tx.byId(cmd.id);
        if (!t || !isLive(t.state) || t.shelvedUntil !== cmd.until) break;
        save(t, patchTicket(t, { shelvedUntil: null, shelvedReason: null }), { at, action: 'unshelved', by: SYSTEM });
        break;
      }
      case 'warning-due': {
        const t = tx.byId(cmd.id);
        if (!t) break;
        let cur = t;
        for (const w of t.warnings) {
          if (w.outcome !== 'pending' || Date.parse(w.expectedBy) > cmd.at) continue;
          const s = settled(cur, w.id, 'missed', Date.parse(w.expectedBy), SYSTEM);
          if (!s) continue;
          // A pattern's expected time passed without the fault: the next one is a period later.
          const r = s.doc.recurrence;
          if ('pattern' in w.cause && r?.next && Date.parse(r.next) <= cmd.at) s.doc.recurrence = { ...r, next: followingNext(r, this.config.gateway.timezone) };
          cur = save(cur, s.doc, { ...s.event, at });
          this.settle(tx, cur, s.warning);
        }
        break;
      }
      case 'pattern-due': {
        const t = tx.byId(cmd.id);
        const ew = earlyWarningSettings(this.config);
        const r = t?.recurrence;
        // only the warning this timer was set for, and not once the expected time itself has passed (a restart long after)
        if (!t || !r?.next || r.pattern === 'irregular' || !ew.enabled || ew.beforePattern === undefined) break;
        if (patternWarningDue(t, ew.beforePattern) !== cmd.next || cmd.at > Date.parse(r.next)) break;
        const c = { pattern: r.pattern, support: r.count };
        if (this.warningIndex.silenced(warningCauseKey(c), t.key, ew.minPrecision)) break;
        const lead = Math.round(ew.beforePattern / 1000);
        const w = newWarning(t, cmd.at, c, lead, expectedBy(cmd.at, lead, lead, ew.margin));
        const { doc, event } = withWarning(t, w, SYSTEM);
        save(t, doc, event);
        tx.recordWarning(warningRow(doc, w));
        break;
      }
      case 'record': {
        const t = cmd.id !== undefined ? tx.byId(cmd.id) : cmd.key !== undefined ? tx.liveByKey(cmd.key) : undefined;
        if (!t) throw new AndonError('ANDON_TICKET_NOT_FOUND', cmd.id !== undefined ? `no ticket with id ${cmd.id}` : `no live ticket with key ${cmd.key ?? '(none)'}`);
        if (typeof cmd.by !== 'string' || cmd.by.trim() === '') throw new AndonError('ANDON_TICKET_FIELD_REQUIRED', 'a record needs by (who adds it)', { path: 'by' });
        const { ticket, event } =
          cmd.record !== undefined ? addItems(t, this.recordTypes(), cmd.record, cmd.items, cmd.by, cmd.at) : addRecord(t, this.recordTypes(), cmd.recordType, cmd.fields, cmd.by, cmd.at);
        save(t, ticket, withActor(event, cmd.actor, cmd.actorName));
        break;
      }
      case 'comment': {
        const t = tx.byId(cmd.id);
        if (!t) throw new AndonError('ANDON_TICKET_NOT_FOUND', `no ticket with id ${cmd.id}`);
        if (typeof cmd.text !== 'string' || cmd.text.trim() === '') throw new AndonError('ANDON_TICKET_FIELD_REQUIRED', 'a comment needs text', { path: 'text' });
        save(t, copyTicket(t), withActor({ at, action: 'comment', by: cmd.by, text: cmd.text.slice(0, 4000) }, cmd.actor, cmd.actorName));
        break;
      }
    }
    return out;
  }

  /** The effect came: its pending warnings whose expectedBy is not past are confirmed, a version each. */
  private confirmWarnings(tx: StoreTx, t: TicketDoc, at: number, save: (previous: TicketDoc, ticket: TicketDoc, event: HistoryEvent) => TicketDoc): void {
    let cur = t;
    for (const w of t.warnings) {
      if (w.outcome !== 'pending' || Date.parse(w.expectedBy) < at) continue;
      const s = settled(cur, w.id, 'confirmed', at, SYSTEM);
      if (!s) continue;
      cur = save(cur, s.doc, s.event);
      this.settle(tx, cur, s.warning);
    }
  }

  /**
   * A detection that live tickets list as a probable cause: each of them (but its own ticket) gets a pending
   * warning, unless one from this cause is pending already or the cause's precision fell below minPrecision.
   */
  private warnFrom(tx: StoreTx, cmd: Extract<TicketCommand, { type: 'detect' }>, effects: ReadonlySet<string>, save: (previous: TicketDoc, ticket: TicketDoc, event: HistoryEvent) => TicketDoc): void {
    const ew = earlyWarningSettings(this.config);
    if (!ew.enabled) return;
    for (const id of [...effects]) {
      const t = tx.byId(id);
      if (!t || !isLive(t.state) || t.key === cmd.key) continue;
      const cause = causeOn(t, cmd.asset, cmd.fault);
      if (!cause) continue;
      const c = { asset: cause.asset, fault: cause.fault, support: cause.support, of: cause.of };
      const key = warningCauseKey(c);
      if (t.warnings.some((w) => w.outcome === 'pending' && warningCauseKey(w.cause) === key)) continue;
      if (this.warningIndex.silenced(key, t.key, ew.minPrecision)) continue;
      const w = newWarning(t, cmd.at, c, cause.leadSeconds, expectedBy(cmd.at, cause.leadSeconds, cause.maxLeadSeconds ?? cause.leadSeconds, ew.margin));
      const { doc, event } = withWarning(t, w, SYSTEM);
      save(t, doc, event);
      tx.recordWarning(warningRow(doc, w));
    }
  }

  /** A warning settled: logged for the report, counted for its cause's precision. */
  private settle(tx: StoreTx, t: TicketDoc, w: Warning): void {
    tx.recordWarning(warningRow(t, w));
    this.warningIndex.record(warningCauseKey(w.cause), t.key, w.outcome === 'confirmed');
  }

  /**
   * A raise on a resolved ticket means the fix did not hold: the ticket goes back to open as a new ticket of its
   * priority would be (acknowledgement cleared, SLA deadlines and escalation from now, flag recurred-after-fix,
   * the fix that failed in `previous`). Changes `doc` (the occurrence) in place; returns the event's action.
   */
  private recordTypes() {
    return this.config.records?.types ?? DEFAULT_RECORD_TYPES;
  }

  /** The knowledge labels of a new ticket's rule and of its probable cause's rule (config rules[].labels). */
  private labelsOf(rule: string, causes: readonly { fault: string }[] | undefined): string[] {
    const rules = this.config.rules;
    const mine = rules.find((r) => r.id === rule)?.labels ?? [];
    const cause = causes?.[0];
    const theirs = cause === undefined ? [] : rules.filter((r) => r.fault === cause.fault).flatMap((r) => r.labels ?? []);
    return [...new Set([...mine, ...theirs])];
  }

  private recur(live: TicketDoc, doc: TicketDoc, at: number): 'reopened' | 'occurrence' {
    if (live.state !== 'resolved') return 'occurrence';
    const sla = this.config.priorities[doc.priority];
    Object.assign(doc, {
      state: 'open',
      acknowledgedAt: null,
      reopenedAt: iso(at),
      respondBy: iso(at + sla.respondWithin),
      resolveBy: iso(at + sla.resolveWithin),
      escalationLevel: 0,
      breaches: [],
      previous: previousFix(live),
      resolution: null,
      rootCause: null,
      resolvedAt: null,
      verifyBy: null,
      knowledge: null,
      flags: union(doc.flags.filter((f) => f !== FIX_VERIFIED), [RECURRED]),
    } satisfies Partial<TicketDoc>);
    return 'reopened';
  }

  /**
   * A new ticket whose key has a closed ticket: if that fix was still being verified (or was verified and the
   * fault is back within correlation.recurrence.within of the close), its verification ends with a `recurred`
   * version naming the new ticket. Within that window the new ticket carries `previous` and recurred-after-fix.
   * Changes `doc` in place; returns what goes into the new ticket's opened event, and the closed ticket's version to save after it.
   */
  private afterClosed(tx: StoreTx, doc: TicketDoc, at: number): { event: Record<string, unknown>; closed?: { from: TicketDoc; to: TicketDoc; event: HistoryEvent } } {
    const closed = tx.lastClosedByKey(doc.key);
    if (!closed || closed.closedAt === null) return { event: {} };
    const within = at - Date.parse(closed.closedAt) <= this.config.correlation.recurrence.within;
    const verified = closed.flags.includes(FIX_VERIFIED);
    if (within) {
      doc.previous = previousFix(closed);
      doc.flags = union(doc.flags, [RECURRED]);
    }
    const event = within ? { previous: closed.id } : {};
    if (closed.verifyBy === null && !(verified && within)) return { event };
    const to: TicketDoc = { ...closed, verifyBy: null, flags: closed.flags.filter((f) => f !== FIX_VERIFIED) };
    return { event, closed: { from: closed, to, event: { at: iso(at), action: 'recurred', by: SYSTEM, ticket: doc.id, ...(verified ? { wasVerified: true } : {}) } } };
  }

  private newTicket(tx: StoreTx, f: DetectFields, at: number, evidence: Evidence): TicketDoc {
    const { config } = this;
    const sla = config.priorities[f.priority];
    // routing assigns the group; its schedule names who of it is on call now (contracts §On-call)
    const onCall = f.assignedGroup === null ? null : onCallOf(config).person(f.assignedGroup, 'onCall', at);
    const labels = this.labelsOf(f.rule, (f as { causes?: readonly { fault: string }[] }).causes);
    const similar = tx.similar(f.fault, f.asset, MAX_SIMILAR, labels).map((t) => ({
      id: t.id,
      asset: t.asset,
      fault: t.fault,
      state: t.state,
      resolution: t.resolution,
      rootCause: t.rootCause,
      resolvedAt: t.resolvedAt,
      solution: t.knowledge?.solution ?? null,
      labels: t.knowledge?.labels ?? [],
    }));
    return {
      id: this.deps.newId(at),
      version: 0,
      key: f.key,
      gateway: config.gateway.id,
      asset: f.asset,
      area: f.area,
      line: f.line,
      fault: f.fault,
      category: f.category,
      priority: f.priority,
      rule: f.rule,
      title: f.title,
      state: 'open',
      condition: 'active',
      openedAt: iso(at),
      updatedAt: iso(at),
      respondBy: iso(at + sla.respondWithin),
      resolveBy: iso(at + sla.resolveWithin),
      acknowledgedAt: null,
      resolvedAt: null,
      closedAt: null,
      firstSeen: iso(at),
      lastSeen: iso(at),
      occurrences: 1,
      flags: [],
      recurrence: null,
      causes: [],
      warnings: [],
      members: [],
      firstOut: null,
      assignedGroup: f.assignedGroup,
      assignee: onCall?.id ?? null,
      // the assignee hears of the ticket as the route's channels do (P0/P1 at opening)
      notify: onCall && !f.notify.includes(onCall.notify) ? [...f.notify, onCall.notify] : f.notify,
      escalationLevel: 0,
      escalations: [],
      breaches: [],
      evidence: [toEvidence(evidence, at)],
      similar,
      wait: null,
      resolution: null,
      rootCause: null,
      checklist: null,
      mergedInto: null,
      shelvedUntil: null,
      shelvedReason: null,
      previous: null,
      reopenedAt: null,
      verifyBy: null,
      knowledge: null,
      records: [],
      central: null,
    };
  }

  /**
   * Group commit of a flood: the members raised in one batch join one version of the flood ticket (one
   * history event counting them, one outbox row, one stream message), not a version each. The batch's
   * first member made that version (`floodVersions`); the ones after it join it here, in place: it is the
   * engine's own object until the batch commits (its change is published after the commit, its doc is the
   * store's cached one), so a member costs no savepoint, no copy of the doc and no SQL of its own (its row
   * is written with the batch's others). Undefined, with nothing done, when the general path must run:
   * anything else changed the ticket since (`last.ticket` is no longer the live doc), the priority rises
   * (that notifies), or the ticket is resolved (a member reopens it).
   */
  private joinFlood(cmd: Extract<TicketCommand, { type: 'flood-member' }>): TicketDoc | undefined {
    const live = this.deps.store.cachedLive(cmd.key);
    const last = live && this.floodVersions.get(live.id);
    if (!live || !last || last.ticket !== live || !last.previous || live.state === 'resolved' || higherPriority(live.priority, cmd.priority) !== live.priority) return undefined;
    const at = iso(cmd.at);
    const member = toMember(cmd.member);
    const joins = live.members.length < MAX_MEMBERS;
    const n = typeof last.event.members === 'number' ? last.event.members + 1 : 2;
    const event: HistoryEvent = { at, action: 'occurrence', by: SYSTEM, member, members: n };
    if (!this.deps.store.joinVersion(live, event, last.seq, joins ? member : undefined)) return undefined;
    // what occurrence() would change; the condition is active, the flags have 'flood' (the first member's occurrence)
    live.occurrences++;
    live.lastSeen = at;
    live.updatedAt = at;
    live.evidence.push(toEvidence(cmd.evidence, cmd.at));
    if (live.evidence.length > MAX_EVIDENCE) live.evidence.splice(0, live.evidence.length - MAX_EVIDENCE);
    // below MAX_MEMBERS the first member's occurrence gave the version a members list of its own
    if (joins) live.members.push(member);
    last.event = event;
    last.command = cmd;
    return live;
  }

  private occurrence(
    live: TicketDoc,
    at: number,
    evidence: TicketDoc['evidence'][number],
    priority: TicketDoc['priority'],
    flags: string[],
    annotations: { recurrence?: TicketDoc['recurrence'] | undefined; causes?: TicketDoc['causes'] | undefined } | null,
  ): TicketDoc {
    const doc = copyTicket(live);
    doc.occurrences = live.occurrences + 1;
    doc.lastSeen = iso(at);
    doc.condition = 'active';
    doc.priority = higherPriority(live.priority, priority);
    doc.flags = union(live.flags, flags);
    doc.recurrence = annotations?.recurrence ?? live.recurrence;
    doc.causes = annotations?.causes ?? live.causes;
    doc.evidence = [...live.evidence, evidence].slice(-MAX_EVIDENCE);
    return doc;
  }
}
