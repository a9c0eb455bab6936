import type { Entry } from '../harness.ts';
import { configEntry } from './config.ts';
import { httpEntry } from './http.ts';
import { mqttJsonEntry } from './mqtt-json.ts';
import { replayEntry } from './replay.ts';
import { sparkplugEntry } from './sparkplug.ts';
import { transitionsEntry } from './transitions.ts';

/** Every fuzzed entry point, in the order `npm run fuzz` runs them. */
export const ENTRIES: Record<string, () => Entry> = {
  http: httpEntry,
  'mqtt-json': mqttJsonEntry,
  sparkplug: sparkplugEntry,
  replay: replayEntry,
  config: configEntry,
  transitions: transitionsEntry,
};
