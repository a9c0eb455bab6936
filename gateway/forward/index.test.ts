import { describe, expect, it } from 'vitest';
import type { ForwardConfig } from '../../config/schema.ts';
import { isAndonError } from '../../model/errors.ts';
import { createSink } from './index.ts';

const rt: ForwardConfig = { type: 'rt', url: 'http://127.0.0.1:9', token: '1-2-0123456789abcdef0123456789abcdef', queue: 'General', timeout: 1_000, concurrency: 1 };
const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isAndonError(e) ? e.code : `raw ${String(e)}`));

describe('createSink', () => {
  it('makes the http sink without touching the rt module', async () => {
    let loaded = false;
    const sink = await createSink({ ...rt, type: 'http' }, { loadRt: async () => ((loaded = true), {}) });
    expect(typeof sink.put).toBe('function');
    expect(loaded).toBe(false);
  });

  it('a missing or incomplete rt module is ANDON_FORWARD_SINK_UNAVAILABLE, not a crash', async () => {
    expect(await code(createSink(rt, { loadRt: () => Promise.reject(new Error("Cannot find module './rt/index.ts'")) }))).toBe('ANDON_FORWARD_SINK_UNAVAILABLE');
    expect(await code(createSink(rt, { loadRt: async () => ({}) }))).toBe('ANDON_FORWARD_SINK_UNAVAILABLE');
  });

  it('loads the rt sink lazily for type rt', async () => {
    const sink = await createSink(rt);
    expect(typeof sink.put).toBe('function');
  });
});
