import type { Plant } from './plant.ts';
import { CYCLE_PERIOD, CYCLE_START, cycle, liveStory, type PlantStep, type TimedStep } from './story.ts';

export interface PlayerOptions {
  /** Prints what the plant does: the offset from the start of the live run and the step's line. */
  say: (offsetMs: number, text: string) => void;
  /** A step that failed (e.g. the MES could not publish); the timeline goes on. */
  onError?: (err: unknown, what: string) => void;
}

/**
 * Plays the story on the wall clock against the plant's servers: the seed
 * case first, then the quiet cycle every 10 minutes, and the MES's work-order
 * count every minute. `stop()` cancels everything still to come.
 */
export function play(plant: Plant, opts: PlayerOptions) {
  const t0 = Date.now();
  const timers = new Set<NodeJS.Timeout>();
  const at = (offset: number, fn: () => void) => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        fn();
      },
      Math.max(0, t0 + offset - Date.now()),
    );
    timers.add(timer);
  };
  let running = true;
  let good = 0;

  const apply = async (step: PlantStep): Promise<void> => {
    switch (step.kind) {
      case 'freezer':
        plant.meter.setFreezerRunning(step.running);
        plant.meter.setCurrent(step.running ? 310 : 120);
        return;
      case 'voltage':
        plant.meter.setVoltage(step.volts);
        return;
      case 'sealer-stop':
        running = false;
        plant.plc.raiseAlarm(step.message, step.severity);
        plant.plc.setRunning(false);
        return;
      case 'sealer-restart':
        running = true;
        plant.plc.clearAlarm();
        plant.plc.setRunning(true);
        return;
      case 'mes-alarm':
        await plant.mes.publishAlarm(step.asset, { code: step.code, active: step.active, text: step.text, severity: step.severity }, Date.now());
        return;
    }
  };
  const run = (ts: TimedStep, base = 0) =>
    at(base + ts.at, () => {
      opts.say(base + ts.at, ts.say);
      apply(ts.step).catch((err: unknown) => opts.onError?.(err, ts.say));
    });

  for (const ts of liveStory()) run(ts);
  const scheduleCycle = (n: number) => {
    const base = CYCLE_START + n * CYCLE_PERIOD;
    at(base, () => scheduleCycle(n + 1));
    for (const ts of cycle()) run(ts, base);
  };
  scheduleCycle(0);
  const workOrder = (n: number) =>
    at(n * 60_000, () => {
      if (running) good += 118 + Math.round(Math.random() * 4);
      plant.mes
        .publishWorkOrder('line-1', { order: 'WO-24117', product: 'frozen dumplings 500 g', state: running ? 'running' : 'paused', good }, Date.now())
        .catch((err: unknown) => opts.onError?.(err, 'MES work-order update'));
      workOrder(n + 1);
    });
  workOrder(0);

  return {
    /** When the live run started (epoch ms). */
    startedAt: t0,
    stop: () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
