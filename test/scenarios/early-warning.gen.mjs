// Writes the signals of the early-warning scenario: node test/scenarios/early-warning.gen.mjs
// Other plant, assets, tags, leads and timezone than the demo; expected.json is written by hand.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const iso = (ms) => new Date(ms).toISOString();
const lines = [];
const signal = (t, tag, value, extra = {}) => lines.push({ t: iso(t), tag, value, source: 'plc', ...extra });
const action = (t, act, key, fields = {}) => lines.push({ t: iso(t), action: act, key, by: 'shift-lead', ...fields });

// Adelaide local time → UTC: ACST (+09:30) until 2026-10-04 02:00, ACDT (+10:30) after.
const local = (date, hh, mm, ss = 0) => {
  const offset = date >= '2026-10-04' ? 10.5 : 9.5;
  return Date.parse(`${date}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}Z`) - offset * H;
};
const days = ['2026-09-28', '2026-09-29', '2026-09-30', '2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05'];

// The capper: the compressor's pressure drops at 10:13:30, the capper jams `lead` s later (null: it does not).
// Days 0-2 teach the cause; day 3 on, each drop warns: confirmed, confirmed (on the resolved ticket, which
// the jam reopens), missed, confirmed (DST day), missed (the jam comes after expectedBy).
const leads = [80, 95, 90, 100, 70, null, 85, 200];
days.forEach((date, i) => {
  const drop = local(date, 10, 13, 30);
  signal(drop, 'utilities/compressor-7/pressure', 5.1, { unit: 'bar' });
  signal(drop + 40 * S, 'utilities/compressor-7/pressure', 6.4, { unit: 'bar' });
  const lead = leads[i];
  if (lead !== null) {
    signal(drop + lead * S, 'bottling/capper-2/alarm/jam', true, { message: 'cap feed jam' });
    signal(drop + lead * S + 5 * MIN, 'bottling/capper-2/alarm/jam', false);
  }
});
action(local(days[3], 16, 0), 'ack', 'capper-2/jam');
action(local(days[3], 16, 30), 'resolve', 'capper-2/jam', { resolution: 'adjusted cap feed rail', rootCause: 'rail misaligned' });

// The filler: valve-3 sticks, the filler overfills 40 s later (a configured cause); the second time the valve
// sticks it warns, and the overfill 45 s later confirms it.
for (const [date, lag] of [['2026-09-29', 40], ['2026-10-03', 45]]) {
  const stuck = local(date, 14, 2);
  signal(stuck, 'bottling/valve-3/stuck', true);
  signal(stuck + 20 * S, 'bottling/valve-3/stuck', false);
  signal(stuck + lag * S, 'bottling/filler-1/alarm/overfill', true);
  signal(stuck + lag * S + 3 * MIN, 'bottling/filler-1/alarm/overfill', false);
}

// The decoy: feeder-9 dips every 4 minutes from 06:00 to 18:00, so one always precedes the capper's jams,
// and by chance, not as a cause: the base-rate guard keeps it off the capper's causes; it never warns.
for (const date of days) {
  for (let t = local(date, 6, 0); t < local(date, 18, 0); t += 4 * MIN) {
    signal(t + 7 * S, 'utilities/feeder-9/voltage', 371, { unit: 'V' });
    signal(t + 12 * S, 'utilities/feeder-9/voltage', 400, { unit: 'V' });
  }
}
// Time goes on after the last drop (its warning's expectedBy passes).
signal(local('2026-10-05', 20, 0), 'utilities/compressor-7/pressure', 6.5, { unit: 'bar' });

lines.sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
writeFileSync(join(here, 'early-warning', 'signals.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
