import { createServer } from 'node:net';

/** Whether `port` on 127.0.0.1 can be listened on right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that was free a moment ago (some servers, like modbus-serial's, cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The port a demo server should take: `preferred` when it is free, else any
 * free one (so a second demo, or a real broker on 1883, does not stop it).
 * `preferred` 0 means "any free port".
 */
export async function choosePort(preferred: number): Promise<number> {
  if (preferred !== 0 && (await bindable(preferred))) return preferred;
  return freePort();
}
