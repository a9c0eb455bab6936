import { afterEach, describe, expect, it } from 'vitest';
import { MESSAGES } from '../i18n.ts';
import { csvField, toCsv } from './csv.ts';
import { bearer, testApp, TOKENS } from './fixture.ts';

/** An RFC 4180 reader written for the test (quoted fields, doubled quotes, CRLF or LF in quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) throw new Error(`the document does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

describe('CSV fields and documents (RFC 4180)', () => {
  it('quotes a field with a comma, a quote, CR or LF, doubling its quotes; empty for null; numbers as they are', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(-12.5)).toBe('-12.5');
    expect(csvField(['recurring', 'chattering'])).toBe('recurring; chattering');
    expect(csvField('封口机，一号线')).toBe('封口机，一号线');
  });

  it('a text that a spreadsheet would run as a formula gets a leading quote mark', () => {
    expect(csvField('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    for (const s of ['+1', '-1+2', '@SUM(A1)', '\tx']) expect(csvField(s)).toBe(`'${s}`);
  });

  it('a document is a BOM, the header row in the locale and CRLF after every row', () => {
    const columns = [
      { header: 'csv.asset' as const, value: (r: { a: string }) => r.a },
      { header: 'csv.tickets' as const, value: () => 2 },
    ];
    expect(toCsv('en', columns, [{ a: 'x' }])).toBe('\uFEFFAsset,Tickets\r\nx,2\r\n');
    expect(toCsv('zh-CN', columns, [])).toBe('\uFEFF设备,工单数\r\n');
  });
});

describe('?format=csv on a real server (127.0.0.1, port 0)', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  let base: string;
  afterEach(() => t?.close());

  const start = async (locale: 'en' | 'zh-CN') => {
    t = await testApp({ gateway: `  locale: ${locale}` });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  };
  const get = (path: string) => fetch(`${base}${path}`, { headers: bearer(TOKENS.operator) });
  /** A ticket through the real HTTP ingest: a Chinese asset name with a comma and quotes, resolved with a multi-line text. */
  const seed = async () => {
    const post = await fetch(`${base}/api/v1/signals`, {
      method: 'POST',
      headers: { ...bearer(TOKENS.ingest), 'content-type': 'application/json' },
      body: JSON.stringify([
        { source: 'mes-http', tag: 'packaging/sealer-01/alarm', asset: '封口机 "A", 一号线', value: true },
        { source: 'mes-http', tag: 'baking/oven-1/temperature', value: 95 },
      ]),
    });
    expect(post.status).toBe(202);
    const id = t.store.list({ asset: '封口机 "A", 一号线' }).items[0]?.id;
    const resolve = await fetch(`${base}/api/v1/tickets/${id}/transitions`, {
      method: 'POST',
      headers: { ...bearer(TOKENS.operator), 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'resolve', resolution: 'replaced the "jaw", re-torqued\r\nchecked line 2', rootCause: '=wear' }),
    });
    expect(resolve.status).toBe(200);
    return id;
  };

  it('GET /api/v1/tickets?format=csv (zh-CN): BOM, text/csv; charset=utf-8, Chinese header row, fields that round-trip', async () => {
    await start('zh-CN');
    const id = await seed();
    const res = await get('/api/v1/tickets?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="andon-tickets.csv"');
    expect(res.headers.get('x-total-count')).toBe('2');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1));
    expect(header?.slice(0, 6)).toEqual(['编号', '键', '优先级', '状态', '报警条件', '标题']);
    expect(header).toHaveLength(24);
    expect(rows).toHaveLength(2);
    const sealer = rows.find((r) => r[0] === id) ?? [];
    const col = (name: keyof typeof MESSAGES.en) => sealer[header?.indexOf(MESSAGES['zh-CN'][name]) ?? -1];
    expect(col('csv.title')).toBe('封口机 "A", 一号线: alarm-stop');
    expect(col('csv.asset')).toBe('封口机 "A", 一号线');
    expect(col('csv.state')).toBe('resolved');
    expect(col('csv.resolution')).toBe('replaced the "jaw", re-torqued\r\nchecked line 2');
    expect(col('csv.rootCause')).toBe("'=wear");
    expect(col('csv.occurrences')).toBe('1');
    // The same page as the JSON, in the same order.
    const json = (await (await get('/api/v1/tickets')).json()) as { items: { id: string }[] };
    expect(rows.map((r) => r[0])).toEqual(json.items.map((x: { id: string }) => x.id));
    // Filters and paging apply as for JSON.
    const p2 = parseCsv((await (await get('/api/v1/tickets?format=csv&priority=P2&limit=1')).text()).slice(1));
    expect(p2.slice(1).map((r) => r[2])).toEqual(['P2']);
  });

  it('the header row follows gateway.locale: en', async () => {
    await start('en');
    await seed();
    const text = await (await get('/api/v1/tickets?format=csv')).text();
    expect(parseCsv(text.replace(/^\uFEFF/, ''))[0]?.slice(0, 6)).toEqual(['ID', 'Key', 'Priority', 'State', 'Condition', 'Title']);
  });

  it('every report answers CSV: top faults and response times, header in the locale', async () => {
    await start('zh-CN');
    await seed();
    const top = await get('/api/v1/reports/top-faults?format=csv&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z');
    expect(top.status).toBe(200);
    expect(top.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(top.headers.get('content-disposition')).toBe('attachment; filename="top-faults_2026-03-01_2026-03-03.csv"');
    const topRows = parseCsv((await top.text()).replace(/^\uFEFF/, ''));
    expect(topRows[0]).toEqual(['设备', '区域', '故障', '工单数', '报警次数', '最近报警时间']);
    expect(topRows.slice(1).map((r) => r.slice(0, 5))).toEqual(
      expect.arrayContaining([
        ['封口机 "A", 一号线', 'packaging', 'alarm-stop', '1', '1'],
        ['oven-1', 'baking', 'overtemp', '1', '1'],
      ]),
    );
    const response = await get('/api/v1/reports/response?format=csv&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = parseCsv((await response.text()).replace(/^\uFEFF/, ''));
    expect(rows[0]?.slice(0, 3)).toEqual(['优先级', '开启数', '已确认数']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(['P0', 'P1', 'P2', 'P3']);
    // P1: one opened, resolved at once (MTTR 0 s), never acknowledged (empty statistics); its fix not verified yet.
    expect(rows[2]).toEqual(['P1', '1', '0', '', '', '', '1', '0', '0', '0', '0', '0', '']);
    expect(rows[0]?.slice(-3)).toEqual(['修复已验证', '修复后复发', '一次修复率']);
    // format=json (the default) is unchanged.
    expect((await get('/api/v1/reports/response?format=json&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z')).headers.get('content-type')).toMatch(
      /^application\/json/,
    );
  });

  it('an unknown format is a 400 with ANDON_REQUEST_INVALID naming the formats; csv with include=history too', async () => {
    await start('en');
    for (const path of ['/api/v1/tickets?format=xlsx', '/api/v1/reports/top-faults?format=xml', '/api/v1/reports/response?format=CSV']) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code, path).toBe('ANDON_REQUEST_INVALID');
      expect(body.message, path).toMatch(/format/);
      expect(body.message, path).toMatch(/json, csv/);
    }
    const res = await get('/api/v1/tickets?format=csv&include=history');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'ANDON_REQUEST_INVALID', path: 'include' });
  });
});
