import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * `andon start --config <file>` as a child (compiled `bin/andon.js`, run `npm run build` first), resolved with
 * its URL once it logs "running at"; rejected with its stderr if it exits first. `nodeArgs` go before the
 * script (e.g. `--cpu-prof`); `BENCH_NODE_FLAGS` adds node flags for experiments (`--trace-gc`, heap flags).
 */
export function spawnAndon(configFile: string, opts: { nodeArgs?: string[]; logLevel?: string } = {}): Promise<{ child: ChildProcess; url: string }> {
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...extra, 'bin/andon.js', 'start', '--config', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ANDON_LOG_LEVEL: opts.logLevel ?? 'warn' },
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      const m = /running at (http:\/\/[\d.:]+)/.exec(err);
      if (m) resolve({ child, url: m[1] as string });
    });
    child.once('exit', (code) => reject(new Error(`andon exited with ${code}: ${err}`)));
  });
}
