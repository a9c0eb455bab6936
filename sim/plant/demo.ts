import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';
import { pino, type Logger } from 'pino';
import { AndonError } from '../../model/errors.ts';
import { startGateway } from '../../gateway/main.ts';
import { LOG_REDACT } from '../../gateway/redact.ts';
import { replay } from '../../gateway/replay.ts';
import { demoConfig } from './demo-config.ts';
import { history } from './history.ts';
import { narrate, ticketFacts } from './narrate.ts';
import { startPlant, type Plant } from './plant.ts';
import { play } from './player.ts';
import { choosePort } from './ports.ts';
import { LIVE_STOP_AT } from './story.ts';

export interface DemoOptions {
  /** Gateway HTTP port: as given (0 = any free one); without it 8080, or a free one when 8080 is taken. */
  port?: number;
  /** `random`: every plant server on a free port instead of the documented defaults. */
  plantPorts?: 'default' | 'random';
  /** Past days replayed into the store before going live (default 4). */
  days?: number;
  /** The demo's console (stdout); the gateway's own logs go to `logger`. */
  out?: (line: string) => void;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

const seconds = (ms: number) => `${ms < 0 ? '-' : '+'}${Math.round(Math.abs(ms) / 1000)}s`.padStart(6);

/**
 * `andon start --demo` (and `npm start`): the demo plant (sim/plant) and the
 * gateway with config/demo.yaml, in this process. Before going live it replays
 * the plant's past days into a fresh store (gateway/replay.ts, same runtime and
 * store file as live), so the live stop joins a ticket that already knows it
 * recurs daily and that a sag on feeder 3 precedes it. Data dir: a fresh temp
 * dir, removed by `stop()`.
 */
export async function startDemo(opts: DemoOptions = {}) {
  const out = opts.out ?? ((line: string) => process.stdout.write(line + '\n'));
  // The replayed days' notifications are days old when the gateway starts: the notifier parks them
  // unsent (ANDON_NOTIFY_EXPIRED), by design. The demo counts them in one line instead of a warning each.
  let expired = 0;
  const log =
    opts.logger ??
    pino(
      {
        name: 'andon',
        level: opts.env?.ANDON_LOG_LEVEL ?? process.env.ANDON_LOG_LEVEL ?? 'warn',
        redact: LOG_REDACT,
        hooks: {
          logMethod(args, method) {
            if ((args[0] as { code?: unknown } | undefined)?.code === 'ANDON_NOTIFY_EXPIRED') expired++;
            else method.apply(this, args);
          },
        },
      },
      pino.destination(2),
    );
  // node-opcua prints its notices on stdout; in the demo they go to the log (stderr) instead.
  const opcuaLog = log.child({ component: 'node-opcua' });
  setWarningLogger((_ctx, ...args) => opcuaLog.info(format(...args)));
  setErrorLogger((_ctx, ...args) => opcuaLog.warn(format(...args)));
  const dataDir = mkdtempSync(join(tmpdir(), 'andon-demo-'));
  let liveStart: number | undefined;
  const say = (who: string, text: string) => out(`${liveStart === undefined ? '  boot' : seconds(Date.now() - liveStart)}  ${who.padEnd(7)} ${text}`);

  const cleanup: (() => Promise<void>)[] = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const f of cleanup.splice(0).reverse()) await f().catch((err: unknown) => log.warn({ component: 'demo', err }, 'demo stop step failed'));
  };
  try {
    const plant: Plant = await startPlant({
      dir: dataDir,
      ports: opts.plantPorts ?? 'default',
      onNotification: (m) => say('notify', `→ ${m.channel}: ${m.summary}`),
    });
    cleanup.push(() => plant.stop());
    const port = opts.port ?? (await choosePort(8080));
    const config = demoConfig({
      plant: { opcua: plant.plc.endpoint, modbusPort: plant.meter.port, mqtt: plant.mes.url, central: plant.central.url, webhook: plant.webhook.url },
      dataDir,
      port,
      ...(opts.env ? { env: opts.env } : {}),
    });

    // The past days, replayed in virtual time into the store the gateway opens next.
    const days = opts.days ?? 4;
    const now = Date.now();
    const records = history({ stopAt: now + LIVE_STOP_AT + 5_000, until: now, days, timezone: config.gateway.timezone });
    const past = await replay({ config, input: records.map((r) => JSON.stringify(r)), db: join(dataDir, 'andon.sqlite') });

    // Central is told the backlog first (the replayed tickets), then every live change.
    plant.central.events.on('write', ({ version, ticket }) => say('central', `← ${String(ticket.key)} v${version}`));
    const gw = await startGateway(config, { logger: log }).catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
      throw new AndonError('ANDON_CLI_USAGE', `port ${port} is taken: choose another with --port or ANDON_PORT (0 = any free port)`);
    });
    cleanup.push(() => gw.stop());
    const sub = gw.runtime.engine.changes$.subscribe((c) => {
      const line = narrate(c);
      if (line) say('andon', line);
    });
    cleanup.push(async () => sub.unsubscribe());
    plant.plc.onAndon((on) => say('light', `control-room andon light ${on ? 'ON' : 'off'} (OPC UA Andon.Red, written by the gateway)`));
    plant.plc.onAmber((on) => say('light', `andon light amber ${on ? 'ON: early warning' : 'off'} (OPC UA Andon.Amber, written by the gateway)`));
    plant.plc.onAck(() => say('plant', 'sealer-01 E21 acknowledged at the PLC (the ticket was acknowledged in Andon)'));

    const board = `${gw.address}/`;
    const operator = config.gateway.auth.tokens.find((t) => t.role === 'operator')?.token;
    const sealer = past.tickets.find((t) => t.key === 'sealer-01/alarm-stop');
    const fixed = past.tickets.find((t) => t.key === 'sealer-01/alarm-stop' && t.state === 'closed' && t.knowledge !== null);
    out('');
    out("Andon demo: a food plant's packaging line, simulated in this process (no PLC needed)");
    out(`  board     ${board}`);
    out(`  API       ${gw.address}/api/v1/tickets`);
    out(`  metrics   ${gw.address}/metrics`);
    out(`  central   ${plant.central.url}/tickets   (the central ticket system the gateway forwards to)`);
    out(
      `  plant     OPC UA ${plant.plc.endpoint} · Modbus TCP 127.0.0.1:${plant.meter.port} · MQTT ${plant.mes.url} · webhooks ${plant.webhook.url}/hook/<channel>`,
    );
    const admin = config.gateway.auth.tokens.find((t) => t.role === 'admin')?.token;
    if (operator)
      out(`  operator  token ${operator} (acknowledge on the board, or POST /api/v1/tickets/<id>/transitions)${admin ? ` · admin token ${admin}` : ''}`);
    out(`  data      ${dataDir} (fresh each start, removed on exit) · timezone ${config.gateway.timezone}`);
    out(`  history   replayed ${days} past days: ${past.summary.signals} signals -> ${past.summary.tickets} tickets in ${past.summary.seconds.toFixed(1)} s`);
    if (sealer) out(`            ${ticketFacts(sealer)}`);
    if (fixed) {
      const parts = fixed.records.find((r) => r.type === 'parts-request');
      const items = Array.isArray(parts?.fields.items) ? (parts.fields.items as { materialNumber: string; quantity: number }[]).map((i) => `${i.materialNumber} ×${i.quantity}`).join(', ') : '';
      const accepted = fixed.records.find((r) => r.type === 'acceptance' && r.fields.result === 'passed');
      out(`  case      ${fixed.id}: waited for parts (${parts?.id ?? '-'}: ${items}), resolved "${fixed.knowledge?.solution ?? ''}" [${fixed.knowledge?.labels.join(', ') ?? ''}],`);
      out(`            closed after the acceptance by ${typeof accepted?.fields.acceptedBy === 'string' ? accepted.fields.acceptedBy : '-'}; search it: ${board}board/knowledge.html?q=${encodeURIComponent('稳压')}`);
    }
    if (expired > 0) out(`            ${expired} notifications of those days were parked unsent: too old (GET /api/v1/notifications?state=parked, admin)`);
    out('Live now: the freezer starts, feeder-3 sags, ~25 s in the sealer stops with alarm E21: its new ticket lists the case above first. ~45 s in the feeder sags again: an early warning on that ticket, confirmed when the sealer stops again ~65 s in. Ctrl-C stops.');
    out('');

    const player = play(plant, {
      say: (_offset, text) => say('plant', text),
      onError: (err, what) => log.warn({ component: 'demo', err }, `plant step failed: ${what}`),
    });
    liveStart = player.startedAt;
    cleanup.push(async () => player.stop());

    return {
      board,
      address: gw.address,
      central: plant.central.url,
      dataDir,
      config,
      plant,
      gateway: gw,
      /** Stops the timeline, the gateway, the plant, and removes the data dir. */
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export type Demo = Awaited<ReturnType<typeof startDemo>>;
