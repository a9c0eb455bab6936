/**
 * The long fuzz run: `npm run fuzz [-- --count 100000] [--seed N] [--only http,replay] [--from I] [--check-every 1000] [--skip-ts-poison]`.
 * Prints per entry point the payloads, payloads/s, outcomes (refusals by code),
 * invariant checks passed and the failures with seed and index; exits 1 on a failure.
 * FUZZ_SKIP_TS_POISON=1 is the same as --skip-ts-poison.
 */
import { parseArgs } from 'node:util';
import { ENTRIES } from './entries/index.ts';
import { formatResult, runEntry, type EntryResult } from './harness.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    only: { type: 'string' },
    from: { type: 'string', default: '0' },
    'check-every': { type: 'string', default: '1000' },
    'skip-ts-poison': { type: 'boolean', default: process.env.FUZZ_SKIP_TS_POISON === '1' },
    localize: { type: 'string', default: '3' },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const names = values.only ? values.only.split(',') : Object.keys(ENTRIES);
for (const n of names) if (!ENTRIES[n]) throw new Error(`unknown entry ${n}; one of ${Object.keys(ENTRIES).join(', ')}`);

// The process must never go down: whatever escapes is a failure of the run, not the end of it.
const escaped: string[] = [];
process.on('uncaughtException', (err) => escaped.push(`uncaught exception: ${err.stack ?? String(err)}`));
process.on('unhandledRejection', (err) => escaped.push(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));

async function main(): Promise<number> {
  console.log(`fuzz seed ${seed}, ${values.count} payloads per entry point${values['skip-ts-poison'] ? ', ts-poison payloads skipped' : ''}`);
  const results: EntryResult[] = [];
  for (const name of names) {
    const r = await runEntry((ENTRIES[name] as () => import('./harness.ts').Entry)(), {
      seed,
      count: Number(values.count),
      from: Number(values.from),
      checkEvery: Number(values['check-every']),
      skipTsPoison: values['skip-ts-poison'],
      localize: Number(values.localize),
      onProgress: (done) => process.stderr.write(`  ${name}: ${done}\r`),
    });
    results.push(r);
    console.log(formatResult(r));
  }
  const heap = process.memoryUsage();
  console.log(`heap used ${(heap.heapUsed / 1e6).toFixed(0)} MB, rss ${(heap.rss / 1e6).toFixed(0)} MB`);
  for (const e of escaped) console.log(e);
  const failed = results.reduce((n, r) => n + r.failures.length, 0) + escaped.length;
  console.log(`${failed === 0 ? 'ok' : `${failed} failures`} (seed ${seed})`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('fuzz run failed:', err);
    process.exit(2);
  },
);
