import { parseArgs } from 'node:util';
import { startCentral } from './server.ts';

/**
 * Runs the reference central standalone:
 *   node --import tsx sim/central/main.ts --port 9100 [--token T] [--file central.json]
 * Prints `central listening at <url>` on stdout; SIGINT/SIGTERM stop it (and save the file).
 */
const { values } = parseArgs({
  options: { port: { type: 'string', default: '9100' }, host: { type: 'string', default: '127.0.0.1' }, token: { type: 'string' }, file: { type: 'string' } },
});
const central = await startCentral({
  port: Number(values.port),
  host: values.host,
  ...(values.token ? { token: values.token } : {}),
  ...(values.file ? { file: values.file } : {}),
});
process.stdout.write(`central listening at ${central.url}\n`);
const stop = () => void central.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
