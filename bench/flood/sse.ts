/**
 * The board's view during the flood bench: one `GET /api/v1/events` client in
 * its own process (so that the bench's busy sender never makes it slow to
 * read). It counts the `ticket` messages, their bytes and the largest one, and
 * notes whether the server ended the stream. Prints one JSON line of its
 * tallies every 500 ms and a last one on SIGTERM:
 * `{ "connected", "messages", "bytes", "largest", "cutOff", "cutAfterMs" }`.
 *
 *   node --import tsx bench/flood/sse.ts <gateway url> <bearer token>
 */
import { request } from 'node:http';

const [url, token] = process.argv.slice(2);
if (!url || !token) throw new Error('usage: sse.ts <gateway url> <bearer token>');

const stats = { connected: false, messages: 0, bytes: 0, largest: 0, cutOff: false, cutAfterMs: 0, error: '' };
let stopping = false;
const opened = performance.now();
const report = () => process.stdout.write(JSON.stringify(stats) + '\n');

const req = request(`${url}/api/v1/events`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
  if (res.statusCode !== 200) {
    stats.error = `HTTP ${res.statusCode}`;
    report();
    process.exit(1);
  }
  stats.connected = true;
  report();
  res.setEncoding('utf8');
  let buf = '';
  res.on('data', (chunk: string) => {
    buf += chunk;
    for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
      const msg = buf.slice(0, end);
      buf = buf.slice(end + 2);
      if (!msg.includes('\nevent: ticket\n') && !msg.startsWith('event: ticket\n')) continue;
      const size = Buffer.byteLength(msg) + 2;
      stats.messages++;
      stats.bytes += size;
      if (size > stats.largest) stats.largest = size;
    }
  });
  res.on('close', () => {
    if (stopping) return;
    stats.cutOff = true;
    stats.cutAfterMs = performance.now() - opened;
    report();
  });
});
req.on('error', (err) => {
  if (stopping) return;
  stats.cutOff = stats.connected;
  stats.error = err.message;
  report();
});
req.end();
setInterval(report, 500);
process.once('SIGTERM', () => {
  stopping = true;
  report();
  process.exit(0);
});
