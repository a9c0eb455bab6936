import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parseConfig } from '../../config/load.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { createMetrics } from '../metrics.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { createTagView } from '../tags.ts';
import { TicketStore } from '../store/store.ts';
import type { RouteOptions } from 'fastify';
import type { Access } from './auth.ts';
import { buildApp, type AppDeps } from './app.ts';

/** Tokens of the test config, by role. */
export const TOKENS = {
  operator: 'operator-token-0123456789',
  ingest: 'ingest-token-0123456789',
  admin: 'admin-token-0123456789ab',
} as const;
export const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

export const testConfig = (anonymousRead = true, extra = '', bodyLimit = 1_048_576, http = '', gateway = '', auth = '') => `
gateway:
  id: api-test
${gateway}
  http: { bodyLimit: ${bodyLimit}${http ? `, ${http}` : ''} }
  auth:
    anonymousRead: ${anonymousRead}
    tokens:
      - { name: wang, role: operator, token: ${TOKENS.operator} }
      - { name: mes, role: ingest, token: ${TOKENS.ingest} }
      - { name: root, role: admin, token: ${TOKENS.admin} }
${auth}
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm", equals: true }, fault: alarm-stop, category: hardware, priority: P1 }
  - { id: temps, when: { tag: "**/temperature", above: 80 }, fault: overtemp, priority: P2 }
correlation:
  chatter: { count: 1000, within: 1m }
  flood: { count: 100000, within: 10m, per: area }
  recurrence: { count: 3, within: 14d }
${extra}`;

/**
 * A gateway API for tests (not a mock: the real app, runtime and a SQLite file
 * in a temp dir) in virtual time. `close()` removes everything.
 */
export async function testApp(
  opts: { anonymousRead?: boolean; extra?: string; start?: number; bodyLimit?: number; http?: string; logger?: AppDeps['logger']; gateway?: string; /** more keys under gateway.auth (oidc), indented 4 */ auth?: string } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'andon-api-'));
  const config = parseConfig(testConfig(opts.anonymousRead ?? true, opts.extra ?? '', opts.bodyLimit, opts.http, opts.gateway, opts.auth));
  const store = await TicketStore.open(join(dir, 'andon.sqlite'));
  const clock = new VirtualScheduler(opts.start ?? Date.parse('2026-03-02T08:00:00.000Z'));
  const runtime: Runtime = createRuntime({ config, store, scheduler: clock, tags: createTagView(config) });
  const registry = new Registry();
  const app = buildApp({
    config,
    store,
    runtime,
    registry,
    metrics: createMetrics(registry, store),
    now: () => clock.now(),
    ready: () => true,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const signal = (tag: string, value: number | boolean) => runtime.push({ source: 'mes-http', tag, value, quality: 'good', ts: clock.now() });
  return {
    app,
    store,
    runtime,
    clock,
    config,
    registry,
    signal,
    async close() {
      await app.close();
      runtime.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A route of the app as it was added: its declared access, whether it takes a stream key, whether /docs hides it. */
export interface RouteEntry {
  access: Access | undefined;
  streamKey: boolean;
  hidden: boolean;
}

/**
 * Every route of the real app (`'METHOD /url'`, HEAD routes left out), walked
 * with an `onRoute` hook while the app is built, with the access it declares
 * (gateway/http/access.ts fills in `public` for the board's files and the docs UI).
 */
export async function routeTable(): Promise<Record<string, RouteEntry>> {
  const t = await testApp();
  const routes: Record<string, RouteEntry> = {};
  try {
    t.app.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue;
        const hidden = Boolean(route.schema?.hide);
        routes[`${method} ${route.url}`] = { access: route.config?.access, streamKey: route.config?.streamKey === true, hidden };
      }
    });
    await t.app.ready();
  } finally {
    await t.close();
  }
  return routes;
}
