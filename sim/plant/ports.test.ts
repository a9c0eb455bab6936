import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { choosePort, freePort } from './ports.ts';

/** The demo takes its documented ports when free and falls back to a free one when a port is taken. */
describe('choosePort', () => {
  let holder: Server | undefined;
  afterEach(() => void holder?.close());

  it('takes the preferred port when it is free', async () => {
    const port = await freePort();
    expect(await choosePort(port)).toBe(port);
  });

  it('falls back to another free port when the preferred one is taken', async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder!.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as { port: number }).port;
    const chosen = await choosePort(taken);
    expect(chosen).not.toBe(taken);
    const probe = createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(chosen, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it('0 means any free port', async () => {
    expect(await choosePort(0)).toBeGreaterThan(0);
  });
});
