import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.ts';
import { STATES } from '../../../model/ticket.ts';
import { tokenUserId } from './changes.ts';
import { classify } from './client.ts';
import { createRtSink } from './index.ts';
import { refId, RT_STATUS, rtDate, sqlString } from './mapping.ts';

// The parts of the RT sink that need no RT; the behaviour against RT is in test/rt/rt.test.ts.

describe('RT mapping', () => {
  it('every Andon state has an RT status of the default lifecycle', () => {
    for (const s of STATES) expect(['new', 'open', 'stalled', 'resolved', 'rejected']).toContain(RT_STATUS[s]);
    expect(RT_STATUS).toMatchObject({ open: 'new', acknowledged: 'open', in_progress: 'open', waiting: 'stalled', resolved: 'resolved', closed: 'resolved', merged: 'rejected' });
  });

  it('dates go to RT as UTC "YYYY-MM-DD HH:MM:SS", whatever the input offset', () => {
    expect(rtDate('2026-01-23T07:18:00.000Z')).toBe('2026-01-23 07:18:00');
    expect(rtDate('2026-01-23T15:18:00+08:00')).toBe('2026-01-23 07:18:00');
    expect(rtDate('not a date')).toBeNull();
    expect(rtDate(null)).toBeNull();
  });

  it('RT references read the same as objects (records) and plain values (search results)', () => {
    expect(refId({ id: 'root', type: 'user' })).toBe('root');
    expect(refId('38')).toBe('38');
    expect(refId(undefined)).toBeUndefined();
  });

  it('TicketSQL strings escape quotes and backslashes', () => {
    expect(sqlString("it's a\\b")).toBe("'it\\'s a\\\\b'");
  });

  it('RT answers are classified: 5xx, 408 and 429 retry, other 4xx are poison', () => {
    expect(classify(503, 'x', '', null)).toMatchObject({ kind: 'retry', status: 503 });
    expect(classify(408, 'x', '', null).kind).toBe('retry');
    expect(classify(429, 'x', '', '7')).toMatchObject({ kind: 'retry', retryAfterMs: 7000 });
    expect(classify(401, 'x', 'Unauthorized', null)).toMatchObject({ kind: 'poison', message: expect.stringContaining('token') });
    expect(classify(403, 'x', 'No permission', null).kind).toBe('poison');
    expect(classify(404, 'x', 'Not Found', null).kind).toBe('poison');
  });

  it('the gateway\'s RT user id comes from a version-1 token', () => {
    expect(tokenUserId('1-14-1ddd8a4b86259c26f6c86aece73fa397')).toBe(14);
    expect(tokenUserId('secret')).toBeNull();
  });
});

describe('forward config for type rt', () => {
  const base = { gateway: { id: 'gw' } };

  it('needs token and queue', () => {
    const { problems } = validateConfig({ ...base, forward: { type: 'rt', url: 'http://127.0.0.1:8080' } }, {});
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['forward.token', 'ANDON_CONFIG_MISSING'],
      ['forward.queue', 'ANDON_CONFIG_MISSING'],
    ]);
  });

  it('takes custom field names and priorities, which type http refuses', () => {
    const rt = validateConfig({ ...base, forward: { type: 'rt', url: 'http://rt', token: 't', queue: 'Andon', customFields: { id: 'GatewayId' }, priorities: { P0: 90 } } }, {});
    expect(rt.problems).toEqual([]);
    expect(rt.config?.forward).toMatchObject({ customFields: { id: 'GatewayId', key: 'AndonKey' }, priorities: { P0: 90 } });
    const http = validateConfig({ ...base, forward: { type: 'http', url: 'http://c', priorities: { P0: 90 } } }, {});
    expect(http.problems.map((p) => [p.path, p.code])).toEqual([['forward.priorities', 'ANDON_CONFIG_INVALID_VALUE']]);
  });

  it('a sink without token or queue is a config error before any request', () => {
    expect(() => createRtSink({ type: 'rt', url: 'http://rt', queue: 'Andon', timeout: 1000, concurrency: 1 })).toThrow(expect.objectContaining({ code: 'ANDON_CONFIG_MISSING' }));
  });
});
