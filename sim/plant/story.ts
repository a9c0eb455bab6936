/**
 * What the demo plant does, as data: the seed case played live (the freezer
 * starts, feeder 3 sags, the sealer stops with an alarm) and then a quiet
 * cycle that repeats so the board stays alive without flooding it.
 * `player.ts` plays it on the wall clock against the plant's servers;
 * `history.ts` writes the same events for the past days as replay records.
 */

/** One thing the plant does. */
export type PlantStep =
  | { kind: 'freezer'; running: boolean }
  | { kind: 'voltage'; volts: number }
  | { kind: 'sealer-stop'; code: string; message: string; severity: number }
  | { kind: 'sealer-restart' }
  | { kind: 'mes-alarm'; asset: string; code: string; text: string; severity: number; active: boolean };

/** A step at an offset (ms) from the start of the live run, with the line the demo prints for it. */
export interface TimedStep {
  at: number;
  step: PlantStep;
  say: string;
}

const s = 1000;
const min = 60 * s;

/** The sealer's native alarm (OPC UA condition E21 on Sealer01). */
export const SEALER_ALARM = { code: 'E21', message: 'seal jaw fault', severity: 700 } as const;
/** Feeder-3 voltage during the sag (the rule's threshold is 207 V, cleared above 215 V). */
export const NOMINAL_VOLTS = 230;
export const SAG = [196.4, 203.1, 221.0, NOMINAL_VOLTS] as const;
/** Offset of the live sealer stop from the start of the live run; the board has its P1 ticket updated then. */
export const LIVE_STOP_AT = 25 * s;

/**
 * The operator resets the sealer after the first live stop; the feeder sags again, and the sealer stops again.
 * The second stop comes within the chatter window (60 s) of the first, so it is an occurrence of the same
 * episode: the ticket's daily recurrence stays daily.
 */
export const SEALER_RESET_AT = 35 * s;
export const SECOND_SAG_AT = 45 * s;
export const SECOND_STOP_AT = 65 * s;

/**
 * The seed case, live: the sag 6 s in, the stop 25 s in (a new ticket, the repaired case of the past days first);
 * the sealer reset 35 s in; the feeder sags again 45 s in — the early warning on that ticket — and the sealer
 * stops again 65 s in, which confirms it; maintenance resets it 3 min in.
 */
export function liveStory(): TimedStep[] {
  return [
    { at: 5 * s, step: { kind: 'freezer', running: true }, say: 'freezer-01 compressor starts next door (Modbus discrete input 0 = 1)' },
    { at: 6 * s, step: { kind: 'voltage', volts: SAG[0] }, say: `feeder-3 voltage sags to ${SAG[0]} V (Modbus holding 0-1, float32)` },
    { at: 9 * s, step: { kind: 'voltage', volts: SAG[1] }, say: `feeder-3 voltage ${SAG[1]} V` },
    { at: 12 * s, step: { kind: 'voltage', volts: SAG[2] }, say: `feeder-3 voltage recovers: ${SAG[2]} V` },
    { at: 15 * s, step: { kind: 'voltage', volts: SAG[3] }, say: `feeder-3 voltage back to ${SAG[3]} V` },
    {
      at: LIVE_STOP_AT,
      step: { kind: 'sealer-stop', ...SEALER_ALARM },
      say: `sealer-01 stops: OPC UA alarm ${SEALER_ALARM.code} "${SEALER_ALARM.message}" (severity ${SEALER_ALARM.severity}), state = stopped`,
    },
    { at: SEALER_RESET_AT, step: { kind: 'sealer-restart' }, say: `sealer-01 reset by the operator: ${SEALER_ALARM.code} back to normal, state = running` },
    // The same cause again while the new ticket is live: Andon warns on it before the sealer stops (issue 18).
    { at: SECOND_SAG_AT - 1 * s, step: { kind: 'freezer', running: true }, say: 'freezer-01 compressor starts again after a trip' },
    { at: SECOND_SAG_AT, step: { kind: 'voltage', volts: SAG[0] }, say: `feeder-3 voltage sags again to ${SAG[0]} V` },
    { at: SECOND_SAG_AT + 3 * s, step: { kind: 'voltage', volts: SAG[1] }, say: `feeder-3 voltage ${SAG[1]} V` },
    { at: SECOND_SAG_AT + 6 * s, step: { kind: 'voltage', volts: SAG[2] }, say: `feeder-3 voltage recovers: ${SAG[2]} V` },
    { at: SECOND_SAG_AT + 9 * s, step: { kind: 'voltage', volts: SAG[3] }, say: `feeder-3 voltage back to ${SAG[3]} V` },
    {
      at: SECOND_STOP_AT,
      step: { kind: 'sealer-stop', ...SEALER_ALARM },
      say: `sealer-01 stops again: ${SEALER_ALARM.code} "${SEALER_ALARM.message}", state = stopped`,
    },
    { at: 3 * min, step: { kind: 'sealer-restart' }, say: `sealer-01 reset by maintenance: ${SEALER_ALARM.code} back to normal, state = running` },
  ];
}

/** The cycle that follows (every 10 min from 4 min on): the freezer cycles with a harmless dip, the labeler runs low on labels. */
export const CYCLE_START = 4 * min;
export const CYCLE_PERIOD = 10 * min;

export function cycle(): TimedStep[] {
  return [
    { at: 0, step: { kind: 'freezer', running: false }, say: 'freezer-01 compressor stops (defrost)' },
    { at: 3 * min, step: { kind: 'freezer', running: true }, say: 'freezer-01 compressor starts again' },
    { at: 3 * min, step: { kind: 'voltage', volts: 212.5 }, say: 'feeder-3 dips to 212.5 V (above the 207 V limit: no ticket)' },
    { at: 3 * min + 3 * s, step: { kind: 'voltage', volts: NOMINAL_VOLTS }, say: `feeder-3 back to ${NOMINAL_VOLTS} V` },
    {
      at: 5 * min,
      step: { kind: 'mes-alarm', asset: 'labeler-02', code: 'LBL-LOW', text: 'label roll low', severity: 300, active: true },
      say: 'MES: labeler-02 LBL-LOW "label roll low" (MQTT mes/labeler-02/alarms)',
    },
    {
      at: 6 * min,
      step: { kind: 'mes-alarm', asset: 'labeler-02', code: 'LBL-LOW', text: 'label roll low', severity: 300, active: false },
      say: 'MES: labeler-02 label roll changed (LBL-LOW inactive)',
    },
  ];
}
