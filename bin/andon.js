#!/usr/bin/env node
// Entry point: runs the compiled gateway, dist/gateway/cli.js (plain JavaScript made by
// `npm run build`, which `npm ci` runs through `prepare`), with no TypeScript loader in the process.
//
// In a checkout with the sources (gateway/cli.ts is there; the Docker image has dist/ only):
// when dist/ is missing or older than a source file, the sources run through tsx instead (a dev
// dependency), with a warning on stderr (none under vitest: tests run the sources they test);
// without tsx it stops with exit 1 and asks for `npm run build`.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { distStale } from './dist-stale.js';

// `andon start`: the young generation keeps the size it has when `--semi-space-growth-factor=1` is set
// (gateway/heap.ts, heapFlags): set here, before any module of the gateway loads, that is V8's first
// 1 MiB; once they are loaded it is 16 MiB. Not when the operator gave a size of their own. A worker
// thread's start puts V8's flags back (tsx's loader runs in one), so it is set again after that.
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const smallYoung = process.argv[2] === 'start' && !given.some((a) => /^--(max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/.test(a));
if (smallYoung) setFlagsFromString('--semi-space-growth-factor=1');

const root = join(import.meta.dirname, '..');
const BUILT = join(root, 'dist', 'gateway', 'cli.js');

let entry = BUILT;
const reason = distStale(root);
if (reason !== undefined) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(`andon: ${reason}: run \`npm run build\` (it compiles the sources into dist/)\n`);
    process.exit(1);
  }
  if (!process.env.VITEST)
    process.stderr.write(`andon: ${reason}: running the TypeScript sources through tsx (slower start); \`npm run build\` compiles them\n`);
  register();
  if (smallYoung) setFlagsFromString('--semi-space-growth-factor=1');
  entry = join(root, 'gateway', 'cli.ts');
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
