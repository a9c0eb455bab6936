import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { parseRecord, type RejectReason } from './replay-record.ts';
import { startReader, type ReadRecord } from './replay-reader.ts';
import { replay } from './replay.ts';

const dir = mkdtempSync(join(tmpdir(), 'andon-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-03-02T06:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** Lines of every kind: signals of each value type and quality, extras, actions, rejects, blank lines. */
function mixedLines(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = at(i * 100);
    const tag = `area-${i % 3}/asset-${i % 7}/pv-${i % 11}`;
    switch (i % 13) {
      case 0:
        out.push(JSON.stringify({ t, tag, value: i % 2 === 0, source: 'plc' }));
        break;
      case 1:
        out.push(JSON.stringify({ t, tag, value: null, quality: 'bad' }));
        break;
      case 2:
        out.push(JSON.stringify({ t, tag, value: 'RUN ü€', quality: 'uncertain', source: 'mes' }));
        break;
      case 3:
        out.push(JSON.stringify({ t, tag, value: 99.5, asset: 'press-1', severity: 700, message: 'über temp', unit: '°C' }));
        break;
      case 4:
        out.push('{"t": broken');
        break;
      case 5:
        out.push(JSON.stringify({ t, tag: 42, value: 1 }));
        break;
      case 6:
        out.push('   ');
        break;
      case 7:
        out.push(JSON.stringify({ t, action: 'ack', key: 'area-0/asset-0/pv-high', by: 'ana' }));
        break;
      case 8:
        out.push(JSON.stringify({ t: 'yesterday', tag, value: 1 }));
        break;
      default:
        out.push(JSON.stringify({ t, tag, value: (i % 100) + 0.25, source: 'plant' }));
    }
  }
  return out;
}

/** What the main thread would get reading `file` with readline and parseRecord (the reference). */
async function reference(file: string) {
  const records: { line: number; t: number; signal?: unknown; command?: unknown }[] = [];
  const rejectedBy: Partial<Record<RejectReason, number>> = {};
  let lines = 0;
  for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    lines++;
    if (text.trim() === '') continue;
    const r = parseRecord(text, Infinity, 0);
    if ('reject' in r) rejectedBy[r.reject] = (rejectedBy[r.reject] ?? 0) + 1;
    else records.push(r.kind === 'signal' ? { line: lines, t: r.t, signal: r.signal } : { line: lines, t: r.t, command: r.command });
  }
  return { records, lines, rejectedBy };
}

async function readAll(file: string, opts: { maxNames?: number } = {}) {
  const reader = startReader(file, { now: Infinity, maxSkew: 0, ...opts });
  const records: { line: number; t: number; signal?: unknown; command?: unknown }[] = [];
  const progress: [number, number][] = [];
  // a signal's tagSlot (not in parseRecord's records): one number per distinct tag, a different one for another
  const slotOf = new Map<string, number>();
  const tagOf = new Map<number, string>();
  try {
    const totals = await reader.records(
      (r: ReadRecord) => {
        if (!r.signal) return records.push({ line: r.line, t: r.t, command: r.command });
        const { tagSlot, ...signal } = r.signal;
        if (tagSlot !== undefined) {
          if ((slotOf.get(signal.tag) ?? tagSlot) !== tagSlot || (tagOf.get(tagSlot) ?? signal.tag) !== signal.tag)
            throw new Error(`tag ${signal.tag} came with slot ${tagSlot}: ${slotOf.get(signal.tag)} / ${tagOf.get(tagSlot)} before`);
          slotOf.set(signal.tag, tagSlot);
          tagOf.set(tagSlot, signal.tag);
        }
        return records.push({ line: r.line, t: r.t, signal });
      },
      (line, bytes) => progress.push([line, bytes]),
    );
    return { records, totals, progress, slotted: slotOf.size };
  } finally {
    await reader.stop();
  }
}

describe('replay reader (its own thread)', () => {
  it('hands over every record as parseRecord reads it, with its line number, across batches, chunks and line ends', async () => {
    // 60k lines: more batches than the reader may be ahead (backpressure), and over 1 MiB (chunks split multi-byte characters)
    const lines = mixedLines(60_000);
    const ends = ['\n', '\r\n', '\r'];
    const file = join(dir, 'mixed.jsonl');
    // every kind of line end, and a last line without one
    writeFileSync(file, lines.map((l, i) => l + (i === lines.length - 1 ? '' : (ends[i % 3] as string))).join(''));
    expect(statSync(file).size).toBeGreaterThan(1 << 21);
    const want = await reference(file);
    const got = await readAll(file);
    expect(got.totals.lines).toBe(want.lines);
    expect(got.totals.rejectedBy).toEqual(want.rejectedBy);
    expect(got.totals.rejected).toBe(Object.values(want.rejectedBy).reduce((a, b) => a + b, 0));
    expect(got.records.length).toBe(want.records.length);
    expect(got.records).toEqual(want.records);
    expect(got.slotted).toBeGreaterThan(100);
    // progress after each batch: lines and bytes grow, the last report has read the whole file
    expect(got.progress.length).toBeGreaterThan(8);
    for (let i = 1; i < got.progress.length; i++) {
      expect((got.progress[i] as [number, number])[0]).toBeGreaterThan((got.progress[i - 1] as [number, number])[0]);
      expect((got.progress[i] as [number, number])[1]).toBeGreaterThanOrEqual((got.progress[i - 1] as [number, number])[1]);
    }
    expect(got.progress.at(-1)?.[1]).toBe(statSync(file).size);
  });

  it('past its bound of numbered names, a record carries its tag and source as strings: nothing changes for the reader of the records', async () => {
    const file = join(dir, 'names.jsonl');
    writeFileSync(file, mixedLines(500).join('\n') + '\n');
    const want = await reference(file);
    const got = await readAll(file, { maxNames: 3 });
    expect(got.records).toEqual(want.records);
  });

  it('a line past the longest one read is one too-long reject, dropped as it is read; lines a lone \\r ends are still lines, however many', async () => {
    const good = mixedLines(40);
    const huge = (n: number) => '{"t":"' + 'x'.repeat(n) + '"}';
    const file = join(dir, 'long.jsonl');
    writeFileSync(
      file,
      [
        good.slice(0, 10).join('\n'),
        // 5 MiB without a line end, then `\n`; 1.5 MiB ended by `\r\n` across chunks; 3 MiB ended by a lone `\r`
        huge(5 << 20),
        good.slice(10, 20).join('\r\n'),
        huge(1.5 * (1 << 20)) + '\r',
        good.slice(20, 30).join('\n'),
        huge(3 << 20) + '\r' + good[30],
        // 2 MiB of lines ended by a lone `\r` only (no `\n` for a long way), and a huge last line without an end
        Array.from({ length: 12_000 }, (_, i) => good[i % 40]).join('\r'),
        huge(2 << 20),
      ].join('\n'),
    );
    const want = await reference(file);
    const got = await readAll(file);
    expect(want.rejectedBy['too-long']).toBe(4);
    expect(got.totals.rejectedBy).toEqual(want.rejectedBy);
    expect(got.totals.lines).toBe(want.lines);
    expect(got.records).toEqual(want.records);
  });

  it('a file that cannot be read rejects with ANDON_REPLAY_INPUT, and the thread stops', async () => {
    const reader = startReader(join(dir, 'missing.jsonl'), { now: Infinity, maxSkew: 0 });
    await expect(reader.records(() => undefined)).rejects.toMatchObject({
      code: 'ANDON_REPLAY_INPUT',
      message: expect.stringMatching(/missing\.jsonl: ENOENT/),
    });
    await reader.stop();
    // a directory opens, and fails at the first read
    const dirReader = startReader(dir, { now: Infinity, maxSkew: 0 });
    await expect(dirReader.records(() => undefined)).rejects.toMatchObject({ code: 'ANDON_REPLAY_INPUT', message: expect.stringMatching(/EISDIR/) });
    await dirReader.stop();
  });

  it('a record the main thread fails on rejects the read, and the thread stops', async () => {
    const file = join(dir, 'fail.jsonl');
    writeFileSync(file, mixedLines(100_000).join('\n'));
    const reader = startReader(file, { now: Infinity, maxSkew: 0 });
    let seen = 0;
    await expect(
      reader.records(() => {
        if (++seen === 5000) throw new Error('a bug');
      }),
    ).rejects.toThrow('a bug');
    await reader.stop();
    expect(seen).toBe(5000);
  });

  it('replay of a file gives the tickets and summary of the same lines given in memory', async () => {
    const config = parseConfig(
      `
gateway: { id: reader-test, timezone: UTC }
sources: [{ id: plant, type: http }]
assets:
  asset-0: { area: area-0, tags: ["area-0/asset-0/**"] }
rules:
  - { id: pv-high, when: { tag: "**/pv-*", above: 90, clearBelow: 80 }, fault: pv-high, priority: P2 }
  - { id: tripped, when: { tag: "**/pv-*", equals: true }, fault: tripped, priority: P1 }
  - { id: silent, when: { source: mes, silentFor: 30s }, fault: mes-silent, priority: P3 }
`,
      {},
    );
    const lines = mixedLines(20_000);
    const file = join(dir, 'replay.jsonl');
    writeFileSync(file, lines.join('\r\n') + '\r\n');
    const now = T0 + 86_400_000;
    const fromFile = await replay({ config, input: file, now });
    const inMemory = await replay({ config, input: lines, now });
    expect(fromFile.tickets.length).toBeGreaterThan(0);
    expect(fromFile.tickets).toEqual(inMemory.tickets);
    expect({ ...fromFile.summary, seconds: 0 }).toEqual({ ...inMemory.summary, seconds: 0 });
  });
});
