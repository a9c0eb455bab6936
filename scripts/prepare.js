// `prepare` (run by `npm ci` and `npm install`): compiles the gateway into dist/ (`npm run build`),
// which bin/andon.js runs. Plain JavaScript, since it runs before anything else is set up.
// With dev dependencies left out (`npm ci --omit=dev`, as the Docker image's deps stage does;
// the image copies dist/ from its build stage) there is no tsc: it says so and does nothing.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url).resolve('typescript');
} catch {
  console.log('andon prepare: typescript is not installed (npm ci --omit=dev?): dist/ is not built here');
  process.exit(0);
}
const npm = process.env.npm_execpath;
const r = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: true });
process.exit(r.status ?? 1);
