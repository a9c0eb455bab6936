import type { ClientSession, ClientSubscription, StatusCode, UserIdentityInfo } from 'node-opcua-client';
import type { Logger } from 'pino';
import type { ConnectorStatus } from '../connector.ts';
import { classify, settle, within } from './classify.ts';
import type { OpcuaSourceConfig } from './config.ts';
import { createGeneration, disposeGeneration, type Generation } from './generation.ts';
import { userIdentity } from './security.ts';
import { backoffMs, KEEPALIVE_COUNT, Watchdog } from './watchdog.ts';

/** What the link asks of the rest of the connector. */
export interface LinkHooks {
  /** Creates the monitored items on a new subscription; resolves with how many the server refused. */
  populate(session: ClientSession, sub: ClientSubscription): Promise<number>;
  status(s: ConnectorStatus): void;
}

const STEP_TIMEOUT_MS = 15_000;
const STOP_BUDGET_MS = 4500;
/** start() does not wait longer for a first verdict (a host that drops packets answers nothing). */
const FIRST_ATTEMPT_MS = 10_000;

/**
 * Client, session and subscription lifecycle of one OPC UA source.
 *
 * node-opcua reconnects the secure channel by itself (connectionStrategy:
 * infinite retries, backoff up to 10 s) and repairs the session; once it
 * reports `connection_reestablished` the link does not trust the repaired
 * subscription (node-opcua #1059: alive, yet silent) and builds a new one
 * with new items and a ConditionRefresh. A closed session, a terminated or
 * bad-status subscription get the same repair. The watchdog tears the whole
 * client down when the subscription goes silent or a reconnection never
 * completes. Failures to connect are classified, logged with a code, retried.
 */
export class Link {
  private gen: Generation | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly firstAttempt: () => void;
  private readonly firstVerdictPending: () => boolean;
  private readonly attempted: Promise<void>;
  private timer: NodeJS.Timeout | null = null;
  private readonly watchdog: Watchdog;
  private readonly identity: UserIdentityInfo;
  /** Old generations still being torn down (in the background, bounded). */
  private readonly disposals = new Set<Promise<void>>();

  constructor(
    private readonly config: OpcuaSourceConfig,
    private readonly dataDir: string,
    private readonly log: Logger,
    private readonly hooks: LinkHooks,
  ) {
    this.identity = userIdentity(config);
    this.watchdog = new Watchdog(config.publishingInterval);
    let resolve!: () => void;
    this.attempted = new Promise<void>((r) => (resolve = r));
    let done = false;
    this.firstAttempt = () => {
      done = true;
      resolve();
    };
    this.firstVerdictPending = () => !done;
  }

  /** The session, while data flows; null while connecting, reconnecting or repairing. */
  get session(): ClientSession | null {
    const g = this.gen;
    return g && g.established && !g.disposed && g.reconnectingSince === null && !g.repairing ? g.session : null;
  }

  /** Starts the connect loop; resolves once the first attempt has succeeded or failed. */
  start(): Promise<void> {
    if (!this.loop && !this.stopped) {
      this.loop = this.run();
      this.timer = setInterval(() => this.check(), this.watchdog.tickMs);
      this.timer.unref();
      setTimeout(() => {
        if (!this.firstVerdictPending() || this.stopped) return;
        this.hooks.status('down');
        this.log.warn({ code: 'ANDON_OPCUA_CONNECT_FAILED', endpoint: this.config.endpoint }, `no answer from the OPC UA server within ${FIRST_ATTEMPT_MS / 1000} s; still trying`);
        this.firstAttempt();
      }, FIRST_ATTEMPT_MS).unref();
    }
    return this.attempted;
  }

  async stop(): Promise<void> {
    const deadline = performance.now() + STOP_BUDGET_MS;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.wake?.();
    this.gen?.fail({ code: 'ANDON_OPCUA_CONNECT_FAILED', heals: true, message: 'stopped' });
    this.firstAttempt();
    await settle(this.loop ?? undefined, STOP_BUDGET_MS);
    await settle(Promise.all(this.disposals), Math.max(0, deadline - performance.now()));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const gen = createGeneration(this.config, this.dataDir);
      this.gen = gen;
      this.watchClient(gen);
      this.establish(gen).catch((err: unknown) => gen.fail(classify(err)));
      const why = await gen.failed;
      if (!this.stopped) {
        this.hooks.status('down');
        this.firstAttempt();
        if (gen.established) this.log.warn({ code: why.code }, `rebuilding the connection: ${why.message}`);
        else this.log.error({ code: why.code, endpoint: this.config.endpoint, retryable: why.heals }, `cannot connect: ${why.message}`);
      }
      // The old client goes away in the background: a dead link must not delay the new one.
      const disposal = disposeGeneration(gen);
      this.disposals.add(disposal);
      void disposal.finally(() => this.disposals.delete(disposal));
      if (this.stopped) break;
      failures = gen.established ? 0 : failures + 1;
      await this.sleep(backoffMs(failures, why.heals ? 10_000 : 60_000));
    }
  }

  private async establish(gen: Generation): Promise<void> {
    await gen.client.connect(this.config.endpoint);
    if (gen.disposed) return;
    await this.openSession(gen);
    await this.subscribe(gen);
    gen.established = true;
    this.firstAttempt();
  }

  private async openSession(gen: Generation): Promise<void> {
    const session = await within(gen.client.createSession(this.identity), STEP_TIMEOUT_MS, () => new Error('BadSession: createSession timed out'));
    if (gen.disposed) {
      void settle(session.close(), 1000);
      return;
    }
    gen.session = session;
    session.on('session_closed', (status: StatusCode) => {
      if (gen.session === session && gen.closing !== session) this.repair(gen, `session closed (${status.name})`, true);
    });
  }

  private async subscribe(gen: Generation): Promise<void> {
    const session = gen.session;
    if (!session || gen.disposed) return;
    const sub = await within(
      session.createSubscription2({
        requestedPublishingInterval: this.config.publishingInterval,
        requestedMaxKeepAliveCount: KEEPALIVE_COUNT,
        requestedLifetimeCount: KEEPALIVE_COUNT * 6,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 10,
      }),
      STEP_TIMEOUT_MS,
      () => new Error('BadSubscription: createSubscription timed out'),
    );
    if (gen.disposed || gen.session !== session) {
      void settle(sub.terminate(), 1000);
      return;
    }
    gen.sub = sub;
    this.watchSubscription(gen, sub);
    this.watchdog.arm(sub.publishingInterval, sub.maxKeepAliveCount);
    const refused = await within(this.hooks.populate(session, sub), STEP_TIMEOUT_MS, () => new Error('BadSubscription: creating the monitored items timed out'));
    if (gen.disposed || gen.sub !== sub) return;
    this.hooks.status(refused > 0 ? 'degraded' : 'up');
  }

  private watchClient(gen: Generation): void {
    const c = gen.client;
    const live = () => this.gen === gen && !gen.disposed;
    c.on('backoff', (count: number, delay: number) => {
      if (!live() || gen.established) return;
      this.hooks.status('down');
      this.firstAttempt();
      if (count % 10 === 0) this.log.warn({ code: 'ANDON_OPCUA_CONNECT_FAILED', endpoint: this.config.endpoint, attempt: count + 1, retryInMs: delay }, 'cannot reach the OPC UA server; retrying');
    });
    c.on('connection_lost', () => {
      if (!live()) return;
      gen.reconnectingSince = performance.now();
      this.hooks.status('down');
      this.log.warn({ code: 'ANDON_OPCUA_CONNECT_FAILED', endpoint: this.config.endpoint }, 'connection lost; reconnecting');
    });
    c.on('after_reconnection', () => live() && this.log.info('secure channel re-established; restoring the session'));
    c.on('connection_reestablished', () => {
      if (!live()) return;
      gen.reconnectingSince = null;
      if (gen.established) this.repair(gen, 'reconnected', false);
    });
    c.on('reconnection_attempt_has_failed', (err: Error) => live() && this.log.debug({ err }, 'reconnection attempt failed'));
    c.on('close', (err?: Error | null) => {
      if (live() && err) gen.fail(classify(err));
    });
  }

  private watchSubscription(gen: Generation, sub: ClientSubscription): void {
    const mine = () => gen.sub === sub && !gen.disposed;
    const alive = () => mine() && this.watchdog.touch();
    sub.on('keepalive', alive);
    sub.on('received_notifications', alive);
    sub.on('terminated', () => mine() && this.repair(gen, 'subscription terminated', false));
    sub.on('status_changed', (status: StatusCode) => mine() && !status.isGood() && this.repair(gen, `subscription status ${status.name}`, false));
    sub.on('internal_error', (err: Error) => mine() && this.repair(gen, `subscription error: ${err.message}`, false));
    sub.on('error', (err: Error) => mine() && this.repair(gen, `subscription error: ${err.message}`, false));
  }

  /** A new subscription (and, when needed, a new session) on the same client; one repair at a time. */
  private repair(gen: Generation, reason: string, newSession: boolean): void {
    if (gen.disposed) return;
    if (gen.repairing) {
      gen.repairAgain = { reason, newSession: newSession || (gen.repairAgain?.newSession ?? false) };
      return;
    }
    gen.repairing = true;
    this.log.info({ reason }, 'rebuilding the subscription and its items');
    this.doRepair(gen, newSession)
      .catch((err: unknown) => gen.fail({ ...classify(err), code: 'ANDON_OPCUA_SESSION_FAILED', heals: true }))
      .finally(() => {
        gen.repairing = false;
        const again = gen.repairAgain;
        gen.repairAgain = null;
        if (again && !gen.disposed) this.repair(gen, again.reason, again.newSession);
      });
  }

  private async doRepair(gen: Generation, newSession: boolean): Promise<void> {
    const old = gen.sub;
    gen.sub = null;
    await settle(old?.terminate(), 2000);
    if (newSession || !gen.session) await this.replaceSession(gen);
    try {
      await this.subscribe(gen);
    } catch (err) {
      if (newSession) throw err;
      this.log.info({ err }, 'new subscription failed on the old session; opening a new session');
      await this.replaceSession(gen);
      await this.subscribe(gen);
    }
  }

  private async replaceSession(gen: Generation): Promise<void> {
    const old = gen.session;
    gen.closing = old;
    await settle(old?.close(true), 2000);
    gen.session = null;
    await this.openSession(gen);
  }

  private check(): void {
    const gen = this.gen;
    if (!gen || this.stopped) return;
    const why = this.watchdog.verdict(gen);
    if (why) gen.fail(why);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
