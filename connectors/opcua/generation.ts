import { OPCUAClient, type ClientSession, type ClientSubscription } from 'node-opcua-client';
import { settle, type Classified } from './classify.ts';
import type { OpcuaSourceConfig } from './config.ts';
import { certificateManager, channelSecurity } from './security.ts';

/**
 * One OPC UA client and what hangs on it (session, subscription). A
 * generation that fails is torn down whole and the next one starts from a
 * fresh client: no state survives that could keep a dead subscription alive.
 */
export interface Generation {
  client: OPCUAClient;
  session: ClientSession | null;
  sub: ClientSubscription | null;
  /** The session we are closing ourselves (its session_closed is expected). */
  closing: ClientSession | null;
  /** Connected, session open, subscription populated at least once. */
  established: boolean;
  /** performance.now() of the last connection_lost, null once node-opcua has reconnected. */
  reconnectingSince: number | null;
  repairing: boolean;
  repairAgain: { reason: string; newSession: boolean } | null;
  disposed: boolean;
  /** Ends the generation (first call wins). */
  fail(why: Classified): void;
  failed: Promise<Classified>;
}

export function createGeneration(config: OpcuaSourceConfig, dataDir: string): Generation {
  let fail!: (why: Classified) => void;
  const failed = new Promise<Classified>((resolve) => (fail = resolve));
  return {
    client: OPCUAClient.create({
      applicationName: 'Andon',
      clientName: `andon-${config.id}`,
      endpointMustExist: false,
      ...channelSecurity(config.security),
      clientCertificateManager: certificateManager(config, dataDir),
      // Infinite retries for the first connect and for reconnections, 0.5 s doubling to 10 s.
      connectionStrategy: { maxRetry: -1, initialDelay: 500, maxDelay: 10_000, randomisationFactor: 0.2 },
      keepSessionAlive: false,
    }),
    session: null,
    sub: null,
    closing: null,
    established: false,
    reconnectingSince: null,
    repairing: false,
    repairAgain: null,
    disposed: false,
    fail: (why) => fail(why),
    failed,
  };
}

/** Tears a generation down in bounded time (< 3.5 s); never throws. */
export async function disposeGeneration(gen: Generation): Promise<void> {
  if (gen.disposed) return;
  gen.disposed = true;
  const connected = gen.established && gen.reconnectingSince === null;
  gen.sub = null;
  if (connected && gen.session) {
    gen.closing = gen.session;
    await settle(gen.session.close(true), 1500);
  }
  await settle(gen.client.disconnect(), 2000);
}
