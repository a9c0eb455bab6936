import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPlant } from './plant.ts';
import { play } from './player.ts';

/**
 * The demo plant alone, for a gateway of your own (the demo's `npm start` runs
 * it in-process with the gateway instead):
 *   node --import tsx sim/plant/main.ts [--delay 20] [--random-ports]
 * Prints where each server listens; the story starts after `--delay` seconds
 * (time to start the gateway). SIGINT/SIGTERM stop it.
 */
const { values } = parseArgs({ options: { delay: { type: 'string', default: '20' }, 'random-ports': { type: 'boolean', default: false } } });
const dir = mkdtempSync(join(tmpdir(), 'andon-plant-'));
const say = (who: string, text: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${who.padEnd(7)} ${text}\n`);
const plant = await startPlant({
  dir,
  ports: values['random-ports'] ? 'random' : 'default',
  onNotification: (m) => say('notify', `→ ${m.channel}: ${m.summary}`),
});
plant.plc.onAndon((on) => say('light', `andon light ${on ? 'ON' : 'off'}`));
plant.central.events.on('write', ({ version, ticket }) => say('central', `← ${String(ticket.key)} v${version}`));
process.stdout.write(
  [
    'demo plant listening:',
    `  OPC UA   ${plant.plc.endpoint}`,
    `  Modbus   127.0.0.1:${plant.meter.port} (unit 1)`,
    `  MQTT     ${plant.mes.url}`,
    `  central  ${plant.central.url}`,
    `  webhooks ${plant.webhook.url}/hook/<channel>`,
    `the story starts in ${values.delay} s`,
    '',
  ].join('\n'),
);
let player: ReturnType<typeof play> | undefined;
const timer = setTimeout(() => (player = play(plant, { say: (_o, text) => say('plant', text) })), Number(values.delay) * 1000);
const stop = () => {
  clearTimeout(timer);
  player?.stop();
  void plant.stop().then(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
