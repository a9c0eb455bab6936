import { localParts } from '../../rules/time-pattern.ts';
import { NOMINAL_VOLTS, SAG, SEALER_ALARM } from './story.ts';
import { seeded } from '../../gateway/seeded.ts';

/** A replay record (contracts §Replay): what the plant's sources said, as `andon replay` reads it. */
export interface HistoryRecord {
  t: string;
  tag: string;
  value: number | boolean;
  source: string;
  severity?: number;
  message?: string;
}

/** Whether a record of history() is a reading (else a person's action). */
export const isReading = (r: HistoryRecord | ActionRecord): r is HistoryRecord => !('action' in r);

/** A person's action in the past days (contracts §Replay): the maintenance team working the sealer's ticket. */
export interface ActionRecord {
  t: string;
  action: string;
  key: string;
  by: string;
  [field: string]: unknown;
}

export interface HistoryOptions {
  /** The live stop: the past stops fall at its local time of day (± a few minutes) on each of the `days` days before it. */
  stopAt: number;
  /** Records end before this instant (when the live run takes over). */
  until: number;
  days: number;
  /** The gateway's timezone: "the same time of day" is local time there (DST-safe). */
  timezone: string;
  random?: () => number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The instant `days` local days before `t` at the same local time of day (a DST change in between moves the UTC offset, not the wall time). */
export function sameLocalTimeBefore(t: number, days: number, timezone: string): number {
  const guess = t - days * DAY;
  const diff = localParts(t, timezone).minutes - localParts(guess, timezone).minutes;
  const wrapped = ((((diff + 720) % 1440) + 1440) % 1440) - 720;
  return guess + Math.round(wrapped * MINUTE);
}

/**
 * The plant's past days as replay records, the seed case once a day: the
 * freezer starts, feeder 3 sags a minute before the sealer stops with alarm
 * E21, which returns to normal some minutes later; around it, the meter's
 * readings every minute and, on two days, the labeler running low on labels.
 * With three days or more, the maintenance team's repair too (repair(): parts
 * request, resolve with the knowledge entry, acceptance after a quiet day,
 * close): the live stop opens a new ticket that lists that case first.
 */
export function history(opts: HistoryOptions): (HistoryRecord | ActionRecord)[] {
  const random = opts.random ?? seeded(0x64656d6f);
  const out: { at: number; r: Omit<HistoryRecord, 't'> | Omit<ActionRecord, 't'> }[] = [];
  const add = (at: number, tag: string, value: number | boolean, source: string, extra: Partial<HistoryRecord> = {}) => {
    if (at < opts.until) out.push({ at, r: { tag, value, source, ...extra } });
  };
  const round1 = (v: number) => Math.round(v * 10) / 10;
  const busy: [number, number][] = []; // voltage owned by a sag: no noise readings in there
  const freezerOn: [number, number][] = [];

  // With three days or more, the seed case's repair (repair()): on the last day the stabilizer is in, the
  // feeder still sags but the sealer runs through it (the 24 h without alarms the acceptance asks for).
  const story = opts.days >= 3;
  const stops: number[] = [];
  for (let k = opts.days; k >= 1; k--) {
    const stop = sameLocalTimeBefore(opts.stopAt, k, opts.timezone) + Math.round((random() - 0.5) * 8 * MINUTE);
    const fixed = story && k === 1;
    if (!fixed) stops.push(stop);
    const sag = stop - 60_000 - Math.round(random() * 5_000);
    add(sag - 2_000, 'utilities/freezer-01/running', true, 'power-meter');
    freezerOn.push([sag - 2_000, sag + 2 * 3_600_000]);
    add(sag + 2 * 3_600_000, 'utilities/freezer-01/running', false, 'power-meter');
    SAG.forEach((v, i) => add(sag + i * 10_000, 'utilities/feeder-3/voltage', round1(v + (random() - 0.5)), 'power-meter'));
    busy.push([sag - 90_000, sag + 90_000]);
    const back = stop + Math.round((10 + random() * 6) * MINUTE);
    if (!fixed) {
      add(stop, `packaging/sealer-01/alarm/${SEALER_ALARM.code}`, true, 'packaging-plc', { severity: SEALER_ALARM.severity, message: SEALER_ALARM.message });
      add(back, `packaging/sealer-01/alarm/${SEALER_ALARM.code}`, false, 'packaging-plc', { severity: 100, message: 'back to normal' });
    }
    if (k % 2 === 1) {
      const low = stop - Math.round((2 + random() * 5) * 3_600_000);
      add(low, 'packaging/labeler-02/mes-alarm/LBL-LOW', true, 'mes', { severity: 300, message: 'label roll low' });
      add(low + 5 * MINUTE, 'packaging/labeler-02/mes-alarm/LBL-LOW', false, 'mes', { severity: 300, message: 'label roll low' });
    }
  }

  if (story) for (const a of repair(stops)) if (a.at < opts.until) out.push(a);

  const from = sameLocalTimeBefore(opts.stopAt, opts.days, opts.timezone) - 30 * MINUTE;
  for (let at = from - (from % MINUTE); at < opts.until; at += MINUTE) {
    const running = freezerOn.some(([a, b]) => at >= a && at < b);
    if (!busy.some(([a, b]) => at >= a && at < b)) add(at, 'utilities/feeder-3/voltage', round1(NOMINAL_VOLTS + (random() - 0.5) * 3), 'power-meter');
    add(at, 'utilities/feeder-3/current', round1((running ? 310 : 120) + (random() - 0.5) * 6), 'power-meter');
  }
  out.sort((a, b) => a.at - b.at);
  return out.map(({ at, r }) => ({ t: new Date(at).toISOString(), ...r }) as HistoryRecord | ActionRecord);
}

const HOUR = 3_600_000;
const SEALER = 'sealer-01/alarm-stop';

/**
 * The seed case's repair, as the maintenance team did it over the past days: the first stop's ticket is
 * acknowledged and waits for parts (the parts request: a voltage stabilizer, then a breaker added); the
 * parts come the day of the last past stop, the stabilizer goes in and the ticket is resolved with its
 * knowledge entry (加装稳压电源, labelled voltage-interference); after 24 h without alarms the customer's
 * representative signs the acceptance and the ticket is closed. The live stop the next day lists it first.
 */
function repair(stops: number[]): { at: number; r: Omit<ActionRecord, 't'> }[] {
  const first = stops[0] as number;
  const last = stops[stops.length - 1] as number;
  const act = (at: number, action: string, fields: Record<string, unknown> = {}, by = 'wang') => ({ at, r: { action, key: SEALER, by, ...fields } });
  const resolved = last + 3 * HOUR;
  return [
    act(first + 8 * MINUTE, 'ack'),
    act(first + 10 * MINUTE, 'start'),
    act(first + 40 * MINUTE, 'wait', {
      reason: 'parts',
      partNumber: 'VS-30KVA',
      eta: new Date(last + HOUR).toISOString(),
      supplier: 'Delixi Electric',
      note: 'seal jaw stops a minute after each sag on feeder 3: a voltage stabilizer for the sealer',
    }),
    act(first + 45 * MINUTE, 'record', { record: 'R1', items: [{ materialNumber: 'CB-16A-2P', quantity: 2 }] }, 'li'),
    act(last + 2 * HOUR, 'resume'),
    act(resolved, 'resolve', {
      resolution: '加装稳压电源 (installed a 30 kVA voltage stabilizer on the sealer feed)',
      rootCause: '3号馈线电压暂降：冷冻机启动时电压跌至 196 V (voltage sag on feeder 3 when the freezer compressor starts)',
      knowledge: {
        symptom: '封口机 E21 "seal jaw fault" 每天同一时间停机 (the sealer stops daily at the same time with E21)',
        diagnosis: '停机前约 1 分钟 3 号馈线电压低于 207 V，与冷冻机启动同时 (feeder 3 below 207 V a minute before each stop, as the freezer starts)',
        solution: '加装稳压电源 (voltage stabilizer on the sealer feed)',
        labels: ['voltage-interference'],
      },
    }),
    act(resolved + 24 * HOUR + 30 * MINUTE, 'record', {
      type: 'acceptance',
      fields: { acceptedBy: 'Zhang Min (customer representative)', result: 'passed', note: '24 h without alarms after the stabilizer went in', evidence: 'http://mes.plant-a.example/acceptance/2026-0117' },
    }),
    act(resolved + 24 * HOUR + 35 * MINUTE, 'close', { checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true } }),
  ];
}
