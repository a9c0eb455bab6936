/** POST /api/v1/signals: bodies that are mutated signals, broken JSON, wrong media types, arrays; through `inject`. */
import { bearer, testApp, TOKENS } from '../../../gateway/http/fixture.ts';
import { deep, hasPoisonTime, mutate, mutateBytes, parseJson, POLLUTING, toText, type Json, type Payload, type Rng } from '../gen.ts';
import type { Entry, Target } from '../harness.ts';
import { assertTicket, watchRuntime } from '../invariants.ts';

/** The fixture's virtual clock: every request happens at this time. */
export const API_NOW = Date.parse('2026-03-02T08:00:00.000Z');
const FIELDS = ['source', 'tag', 'value', 'quality', 'ts', 'asset', 'severity', 'message'];

/** A valid signal body of the fixture's rules (alarms and temperatures of a few presses). */
export function validSignal(rng: Rng, now: number): Record<string, Json> {
  const alarm = rng.chance(0.6);
  const s: Record<string, Json> = {
    tag: `line-${rng.int(3)}/press-${rng.int(5)}/${alarm ? 'alarm' : 'temperature'}`,
    value: alarm ? rng.chance(0.5) : 60 + rng.int(40),
  };
  if (rng.chance(0.5)) s.quality = rng.pick(['good', 'uncertain', 'bad']);
  if (rng.chance(0.6)) s.ts = rng.chance(0.5) ? now - rng.int(3_600_000) : new Date(now - rng.int(3_600_000)).toISOString();
  if (rng.chance(0.2)) s.asset = `press-${rng.int(5)}`;
  if (rng.chance(0.2)) s.severity = 1 + rng.int(1000);
  if (rng.chance(0.2)) s.message = 'hydraulic pressure low';
  if (rng.chance(0.1)) s.source = 'mes-http';
  return s;
}

/** A JSON body of a hostile kind; the caller sets the media type. */
export function hostileJson(
  rng: Rng,
  valid: () => Record<string, Json>,
  fields: readonly string[],
  timeFields: readonly string[],
  now: number,
): { text: string | Buffer; kind: string } {
  const k = rng.int(20);
  if (k < 9) {
    const m = mutate(rng, valid(), fields, timeFields, now);
    return { text: toText(m.value), kind: `structured: ${m.op}` };
  }
  if (k < 16) {
    const m = mutateBytes(rng, Buffer.from(toText(valid())));
    return { text: m.data, kind: `bytes: ${m.op}` };
  }
  if (k < 18) {
    const items = Array.from({ length: rng.pick([2, 10, 100]) }, () => (rng.chance(0.7) ? valid() : mutate(rng, valid(), fields, timeFields, now).value));
    return { text: toText(items), kind: 'array of mutated' };
  }
  return rng.pick<() => { text: string; kind: string }>([
    () => ({ text: '['.repeat(100_000), kind: 'deep open brackets' }),
    () => ({ text: toText(deep(rng.pick([1000, 5000]), false)), kind: 'deep object' }),
    () => ({ text: toText(valid()).replace(/^\{/, `{"tag":${toText({ x: 1 })},"value":1e999,`), kind: 'duplicate keys, 1e999' }),
    () => ({ text: toText({ ...valid(), ...POLLUTING }), kind: 'polluting keys' }),
    () => ({ text: `\uFEFF${toText(valid())}`, kind: 'BOM' }),
    () => ({ text: `${toText(valid())} trailing`, kind: 'trailing garbage' }),
    () => ({ text: '', kind: 'empty' }),
    () => ({ text: 'null', kind: 'null' }),
  ])();
}

/** The signals entry: most bodies are JSON, some come with another media type or none. */
export const httpEntry = (): Entry => ({
  name: 'http',
  generate(rng) {
    const { text, kind } = hostileJson(rng, () => validSignal(rng, API_NOW), FIELDS, ['ts'], API_NOW);
    const type = rng.chance(0.95)
      ? 'application/json'
      : rng.pick(['text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', '', 'application/JSON']);
    const p: Payload = { kind, data: text, poison: hasPoisonTime(parseJson(text), ['ts'], API_NOW), meta: { type } };
    return p;
  },
  start: startSignalsTarget,
});

export async function startSignalsTarget(): Promise<Target & { api: Awaited<ReturnType<typeof testApp>> }> {
  const api = await testApp({ start: API_NOW });
  const watch = watchRuntime(api.runtime, api.config, () => api.clock.now());
  return {
    api,
    async send(p) {
      const type = p.meta?.type ?? 'application/json';
      const res = await api.app.inject({
        method: 'POST',
        url: '/api/v1/signals',
        headers: { ...bearer(TOKENS.ingest), ...(type ? { 'content-type': type } : {}) },
        payload: p.data,
      });
      const code = (res.json() as { code?: string }).code;
      if (![202, 400, 413, 415].includes(res.statusCode)) throw new Error(`answered ${res.statusCode} ${res.body.slice(0, 300)}`);
      if (res.statusCode !== 202 && !/^ANDON_[A-Z_]+$/.test(code ?? ''))
        throw new Error(`answered ${res.statusCode} without an ANDON_ code: ${res.body.slice(0, 300)}`);
      return `${res.statusCode} ${code ?? 'accepted'}`;
    },
    async check(n) {
      const res = await api.app.inject({
        method: 'POST',
        url: '/api/v1/signals',
        headers: bearer(TOKENS.ingest),
        payload: { tag: `fuzz/chk-${n}/alarm`, value: true },
      });
      if (res.statusCode !== 202) throw new Error(`the good signal got ${res.statusCode} ${res.body.slice(0, 300)}`);
      assertTicket(api.store, `chk-${n}/alarm-stop`);
      watch.assert();
    },
    async close() {
      watch.stop();
      await api.close();
    },
  };
}
