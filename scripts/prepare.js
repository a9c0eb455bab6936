// `prepare` (run by `npm ci` and `npm install`): compiles the gateway into dist/ (`npm run build`),
// which bin/andon.js runs. Plain JavaScript, since it runs before anything else is set up.
// With dev dependencies left out (`npm ci --omit=dev`, as the Docker image's deps stage does;
// the image copies dist/ from its build stage) there is no tsc: it says so and does nothing.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

try {
  createRequire(import.meta.url).resolve('typescript');
} catch {
  console.log('andon prepare: typescript is not installed (npm ci --omit=dev?): dist/ is not built here');
  process.exit(0);
}
// Built already from these sources: nothing to do. `npm exec andon` in this checkout runs prepare
// too, and a rebuild there (dist/ removed first, ~1 min of tsc) made every such call slow or, cut
// short, left no dist/ at all. `npm run build` always rebuilds.
const { distStale } = await import('../bin/dist-stale.js');
const why = distStale(join(import.meta.dirname, '..'));
if (why === undefined) {
  console.log('andon prepare: dist/ is up to date with the sources: not rebuilt (npm run build rebuilds)');
  process.exit(0);
}
const npm = process.env.npm_execpath;
const r = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: true });
process.exit(r.status ?? 1);
