import { parseArgs } from 'node:util';
import { startCentral } from './server.ts';

/**
 * Runs the reference central standalone:
 *   node --import tsx sim/central/main.ts --port 9100 [--token T] [--file central.json]
 *     [--nats nats://127.0.0.1:4222 [--nats-user u --nats-password p] [--nats-stream ANDON_TICKETS] [--nats-durable central]]
 * With --nats it also reads ticket versions from the JetStream stream (consumer mode, sim/central/nats.ts).
 * Prints `central listening at <url>` on stdout; SIGINT/SIGTERM stop it (and save the file).
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9100' },
    host: { type: 'string', default: '127.0.0.1' },
    token: { type: 'string' },
    file: { type: 'string' },
    // JetStream consumer mode: --nats nats://host:4222[,nats://...] [--nats-user u --nats-password p] [--nats-stream S] [--nats-durable D]
    nats: { type: 'string' },
    'nats-user': { type: 'string' },
    'nats-password': { type: 'string' },
    'nats-stream': { type: 'string' },
    'nats-durable': { type: 'string' },
  },
});
const central = await startCentral({
  port: Number(values.port),
  host: values.host,
  ...(values.token ? { token: values.token } : {}),
  ...(values.file ? { file: values.file } : {}),
  ...(values.nats
    ? {
        nats: {
          servers: values.nats.split(','),
          ...(values['nats-user'] ? { user: values['nats-user'], password: values['nats-password'] ?? '' } : {}),
          ...(values['nats-stream'] ? { stream: values['nats-stream'] } : {}),
          ...(values['nats-durable'] ? { durable: values['nats-durable'] } : {}),
        },
      }
    : {}),
});
process.stdout.write(`central listening at ${central.url}\n`);
const stop = () => void central.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
