import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { splitReads } from './reads.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A loopback server that writes `payload` to the first client and closes; the client socket, not yet read. */
async function peer(payload: Buffer): Promise<Socket> {
  const server = createServer((s) => s.end(payload));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  closers.push(() => socket.destroy());
  return socket;
}

describe('splitReads', () => {
  it('hands every byte on, in order, in slices of at most max bytes, to a pipe', async () => {
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) % 251;
    const socket = splitReads(await peer(payload), 1000);
    const slices: Buffer[] = [];
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        slices.push(chunk);
        setImmediate(done); // a slow consumer, like mqtt.js working through its packets
      },
    });
    socket.pipe(sink);
    await once(sink, 'finish');
    expect(Buffer.concat(slices).equals(payload)).toBe(true);
    expect(Math.max(...slices.map((s) => s.length))).toBeLessThanOrEqual(1000);
    // the reads were larger than a slice: something was split
    expect(slices.length).toBeGreaterThan(payload.length / 65_536);
    expect(slices.some((s) => s.length === 1000)).toBe(true);
  });

  it('passes other events and small reads through unchanged', async () => {
    const socket = splitReads(await peer(Buffer.from('hello')), 1000);
    const seen: string[] = [];
    socket.on('data', (d: Buffer) => seen.push(d.toString()));
    await once(socket, 'end');
    expect(seen).toEqual(['hello']);
    expect(socket.emit('custom', 1)).toBe(false);
    socket.on('custom', () => undefined);
    expect(socket.emit('custom', 1)).toBe(true);
  });
});
