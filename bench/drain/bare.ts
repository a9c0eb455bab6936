import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * The ceiling for bench/drain: a bare client that only PUTs ticket snapshots
 * (one template, `--n` ids) to central with `--concurrency` requests in flight,
 * with the same headers as the http sink. No store, no outbox, no coalescing.
 * Prints one JSON line: { n, seconds, rate }.
 */
const { values } = parseArgs({ options: { url: { type: 'string' }, n: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '8' }, template: { type: 'string' } } });
if (!values.url || !values.template) throw new Error('bare.ts needs --url and --template');
const template = JSON.parse(readFileSync(values.template, 'utf8')) as Record<string, unknown>;
const n = Number(values.n);
let next = 0;
let failed = 0;

async function worker(): Promise<void> {
  while (next < n) {
    const id = `bare-${next++}`;
    const res = await fetch(`${values.url}/tickets/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${id}:1` },
      body: JSON.stringify({ ...template, id, version: 1 }),
    });
    await res.arrayBuffer();
    if (res.status !== 201) failed++;
  }
}

const t0 = performance.now();
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ n, seconds, rate: n / seconds, failed }) + '\n');
