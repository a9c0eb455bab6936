import { spawnSync } from 'node:child_process';

/**
 * System peers (mosquitto, pymodbus, chromium, promtool, ...). In CI
 * (`CI=true`) a missing peer fails the test run; elsewhere its tests are
 * skipped with a loud message saying how to install it.
 *
 *   const mosquitto = peer('mosquitto', ['mosquitto', '-h'], 'apt-get install mosquitto');
 *   describe.skipIf(!mosquitto)('against mosquitto', ...)
 */
export function peer(name: string, probe: [string, ...string[]], install: string, okStatus: (status: number) => boolean = (st) => st === 0): boolean {
  const [cmd, ...args] = probe;
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  const found = r.error === undefined && r.status !== null && okStatus(r.status);
  if (found) return true;
  const message = `${name} is not installed: its tests cannot run. Install it with: ${install}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing peer fails the run)`);
  console.warn(`\n!!! SKIPPING ${name} tests — ${message}\n`);
  return false;
}
