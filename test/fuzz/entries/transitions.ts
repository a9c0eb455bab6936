/** POST /api/v1/tickets/:id/transitions and /comments: mutated lifecycle bodies on a ticket that exists (and some on ids that do not). */
import { bearer, TOKENS } from '../../../gateway/http/fixture.ts';
import { hostile, mutateBytes, toText, type Json, type Rng } from '../gen.ts';
import type { Entry } from '../harness.ts';
import { API_NOW, hostileJson, startSignalsTarget } from './http.ts';

const FIELDS = [
  'action',
  'by',
  'reason',
  'partNumber',
  'eta',
  'resolution',
  'rootCause',
  'assignee',
  'group',
  'note',
  'checklist',
  'duration',
  'until',
  'text',
];
const TIME_FIELDS = ['eta', 'until', 'duration'];

const validBody = (rng: Rng): Record<string, Json> =>
  rng.pick<() => Record<string, Json>>([
    () => ({ action: 'ack', by: 'wang' }),
    () => ({ action: 'start' }),
    () => ({ action: 'wait', reason: rng.pick(['parts', 'external-support', 'coordination']), partNumber: 'P-100', eta: '2026-03-03T08:00:00Z' }),
    () => ({ action: 'resume' }),
    () => ({ action: 'resolve', resolution: 'replaced the valve', rootCause: 'wear', checklist: { locked: true, tested: true } }),
    () => ({ action: 'close' }),
    () => ({ action: 'reopen', reason: 'came back' }),
    () => ({ action: 'assign', assignee: 'li', group: 'mechanics' }),
    () => ({ action: 'shelve', reason: 'maintenance', duration: rng.pick(['30m', '2h', '1d']) }),
    () => ({ action: 'shelve', reason: 'maintenance', until: new Date(API_NOW + 3_600_000).toISOString() }),
    () => ({ action: 'unshelve' }),
    () => ({ action: 'ack', note: 'on my way' }),
  ])();

const WEIRD_TIMES = [
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  'yesterday',
  '2026-02-30T00:00:00Z',
  '',
  '2026-03-02',
  '1e300',
];

/** One field of the lifecycle body with a value the schema allows but that is odd. */
const inSchema = (rng: Rng): Record<string, Json> =>
  rng.pick<() => Record<string, Json>>([
    () => ({ action: 'shelve', reason: 'x', until: rng.pick(WEIRD_TIMES) }),
    () => ({ action: 'shelve', reason: 'x', duration: rng.pick(['0m', '-1h', '99999d', '1e9d', '1ms', '30', 'NaNm', '']) }),
    () => ({ action: 'shelve', reason: 'x', duration: '1h', until: rng.pick(WEIRD_TIMES) }),
    () => ({ action: 'wait', reason: rng.pick(['parts', 'nap', '', '__proto__']), eta: rng.pick(WEIRD_TIMES) }),
    () => ({ checklist: JSON.parse('{"__proto__": true, "constructor": false, "": true}') as Json }),
    () => ({ assignee: rng.pick([null, '', ' ', '\u0000', 'x'.repeat(200)]) }),
    () => ({ by: rng.pick(['\uD800', 'x'.repeat(200), 'andon', 'central']) }),
    () => ({ action: rng.pick(['resolve', 'close', 'reopen']), resolution: '', rootCause: 'x'.repeat(4000) }),
  ])();

/** Every byte percent-encoded (encodeURIComponent throws on a lone surrogate). */
const percent = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

export const transitionsEntry = (): Entry => ({
  name: 'transitions',
  generate(rng) {
    const comment = rng.chance(0.2);
    if (!comment && rng.chance(0.3)) {
      // Within the schema, so the lifecycle itself has to judge it.
      const body = { ...validBody(rng), ...inSchema(rng) };
      return { kind: 'transition in-schema weird', data: toText(body), poison: false, meta: { id: 'current', path: 'transitions' } };
    }
    const { text, kind } = hostileJson(rng, () => (comment ? { text: 'checked the valve', by: 'wang' } : validBody(rng)), FIELDS, TIME_FIELDS, API_NOW);
    const id = rng.chance(0.9)
      ? 'current'
      : rng.pick<() => string>([
          () => 'nonexistent',
          () => toText(hostile(rng, API_NOW)).slice(0, 300),
          () => '01ARZ3NDEKTSV4RRFFQ69G5FAV',
          () => mutateBytes(rng, Buffer.from('current')).data.toString('latin1'),
        ])();
    // Times in a lifecycle body (eta, shelve until) are the lifecycle's to check, not the signal entry points': never skipped.
    return { kind: `${comment ? 'comment' : 'transition'} ${kind}`, data: text, poison: false, meta: { id, path: comment ? 'comments' : 'transitions' } };
  },
  async start() {
    const t = await startSignalsTarget();
    const { api } = t;
    let current = '';
    const open = async (n: number) => {
      await t.check(n);
      current = (api.store.liveByKey(`chk-${n}/alarm-stop`) as { id: string }).id;
    };
    await open(-1);
    return {
      async send(p) {
        const id = p.meta?.id === 'current' ? current : (p.meta?.id ?? current);
        const res = await api.app.inject({
          method: 'POST',
          url: `/api/v1/tickets/${percent(id)}/${p.meta?.path ?? 'transitions'}`,
          headers: { ...bearer(TOKENS.operator), 'content-type': 'application/json' },
          payload: p.data,
        });
        const code = (res.json() as { code?: string }).code;
        if (![200, 400, 404, 409, 413, 415, 422].includes(res.statusCode)) throw new Error(`answered ${res.statusCode} ${res.body.slice(0, 300)}`);
        if (res.statusCode !== 200 && !/^ANDON_[A-Z_]+$/.test(code ?? ''))
          throw new Error(`answered ${res.statusCode} without an ANDON_ code: ${res.body.slice(0, 300)}`);
        return `${res.statusCode} ${code ?? 'ok'}`;
      },
      async check(n) {
        // A fresh alarm opens its ticket, a person can still act on it and comment; later payloads go to it.
        await open(n);
        for (const [path, body] of [
          ['transitions', { action: 'ack', by: 'wang' }],
          ['comments', { text: 'still answering' }],
        ] as const) {
          const res = await api.app.inject({ method: 'POST', url: `/api/v1/tickets/${current}/${path}`, headers: bearer(TOKENS.operator), payload: body });
          if (res.statusCode !== 200) throw new Error(`a good ${path} body got ${res.statusCode} ${res.body.slice(0, 300)}`);
        }
      },
      close: () => t.close(),
    };
  },
});
