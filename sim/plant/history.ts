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
 * Nobody acknowledges: the sealer's ticket is still open when the live run starts.
 */
export function history(opts: HistoryOptions): HistoryRecord[] {
  const random = opts.random ?? seeded(0x64656d6f);
  const out: { at: number; r: Omit<HistoryRecord, 't'> }[] = [];
  const add = (at: number, tag: string, value: number | boolean, source: string, extra: Partial<HistoryRecord> = {}) => {
    if (at < opts.until) out.push({ at, r: { tag, value, source, ...extra } });
  };
  const round1 = (v: number) => Math.round(v * 10) / 10;
  const busy: [number, number][] = []; // voltage owned by a sag: no noise readings in there
  const freezerOn: [number, number][] = [];

  for (let k = opts.days; k >= 1; k--) {
    const stop = sameLocalTimeBefore(opts.stopAt, k, opts.timezone) + Math.round((random() - 0.5) * 8 * MINUTE);
    const sag = stop - 60_000 - Math.round(random() * 5_000);
    add(sag - 2_000, 'utilities/freezer-01/running', true, 'power-meter');
    freezerOn.push([sag - 2_000, sag + 2 * 3_600_000]);
    add(sag + 2 * 3_600_000, 'utilities/freezer-01/running', false, 'power-meter');
    SAG.forEach((v, i) => add(sag + i * 10_000, 'utilities/feeder-3/voltage', round1(v + (random() - 0.5)), 'power-meter'));
    busy.push([sag - 90_000, sag + 90_000]);
    add(stop, `packaging/sealer-01/alarm/${SEALER_ALARM.code}`, true, 'packaging-plc', { severity: SEALER_ALARM.severity, message: SEALER_ALARM.message });
    add(stop + Math.round((10 + random() * 6) * MINUTE), `packaging/sealer-01/alarm/${SEALER_ALARM.code}`, false, 'packaging-plc', {
      severity: 100,
      message: 'back to normal',
    });
    if (k % 2 === 1) {
      const low = stop - Math.round((2 + random() * 5) * 3_600_000);
      add(low, 'packaging/labeler-02/mes-alarm/LBL-LOW', true, 'mes', { severity: 300, message: 'label roll low' });
      add(low + 5 * MINUTE, 'packaging/labeler-02/mes-alarm/LBL-LOW', false, 'mes', { severity: 300, message: 'label roll low' });
    }
  }

  const from = sameLocalTimeBefore(opts.stopAt, opts.days, opts.timezone) - 30 * MINUTE;
  for (let at = from - (from % MINUTE); at < opts.until; at += MINUTE) {
    const running = freezerOn.some(([a, b]) => at >= a && at < b);
    if (!busy.some(([a, b]) => at >= a && at < b)) add(at, 'utilities/feeder-3/voltage', round1(NOMINAL_VOLTS + (random() - 0.5) * 3), 'power-meter');
    add(at, 'utilities/feeder-3/current', round1((running ? 310 : 120) + (random() - 0.5) * 6), 'power-meter');
  }
  out.sort((a, b) => a.at - b.at);
  return out.map(({ at, r }) => ({ t: new Date(at).toISOString(), ...r }));
}
