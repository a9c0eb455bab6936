import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { errorText, LOG_REDACT, redact } from './redact.ts';

describe('redact: URLs and error texts carry no secrets', () => {
  it.each([
    ['https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***'],
    ['https://oapi.dingtalk.com/robot/send?access_token=f1234567890abcdef&timestamp=1&sign=abc%3D', 'https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=***&sign=***'],
    ['https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'https://hooks.slack.com/services/T00000000/B00000000/***'],
    [
      'https://prod-12.westeurope.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig=SECRETSIG',
      'https://prod-12.westeurope.logic.azure.com/workflows/***/triggers/manual/paths/invoke?api-version=***&sp=***&sv=***&sig=***',
    ],
    ['http://user:pass@127.0.0.1:9000/hook', 'http://127.0.0.1:9000/hook'],
    ['http://andon@central.example/api', 'http://central.example/api'],
    ['mqtt://andon:s3cret@broker:1883', 'mqtt://broker:1883'],
  ])('the URL %s', (url, redacted) => {
    expect(redact(url)).toBe(redacted);
  });

  it.each([
    // undici refuses a URL with credentials and names it in full
    ['Request cannot be constructed from a URL that includes credentials: http://andon:s3cret@127.0.0.1:9/c?key=K1', 'Request cannot be constructed from a URL that includes credentials: http://127.0.0.1:9/c?key=***'],
    // a receiver echoing the request line: no scheme, only the secret-looking parameters go
    ['answered 404: Cannot POST /cgi-bin/webhook/send?key=K1&debug=1', 'answered 404: Cannot POST /cgi-bin/webhook/send?key=***&debug=1'],
    ['robot answered errcode 300001: token is not exist, url https://oapi.dingtalk.com/robot/send?access_token=T1 (check it)', 'robot answered errcode 300001: token is not exist, url https://oapi.dingtalk.com/robot/send?access_token=*** (check it)'],
    ['central answered 401: Bearer abcdef0123456789 is not known', 'central answered 401: Bearer *** is not known'],
    // a request line as Fastify logs it (req.url): EventSource sends its token in the query
    ['/api/v1/events?token=abcdef0123456789&lastEventId=42', '/api/v1/events?token=***&lastEventId=42'],
  ])('in text: %s', (text, redacted) => {
    expect(redact(text)).toBe(redacted);
  });

  it('leaves text without secrets as it is, and redacting twice changes nothing', () => {
    for (const text of ['central PUT /tickets/01J: ECONNREFUSED', 'no answer within 10000 ms', 'answered 500: count=5', 'http://127.0.0.1:9100']) expect(redact(text)).toBe(text);
    const once = redact('see http://u:p@h/x?token=T1 and ?secret=S1');
    expect(redact(once)).toBe(once);
    expect(once).not.toMatch(/T1|S1|u:p/);
  });

  it('errorText redacts the message of an error, or the thrown value', () => {
    expect(errorText(new TypeError('bad http://u:p@h/?key=K1'))).toBe('bad http://h/?key=***');
    expect(errorText('thrown http://h/?token=T1')).toBe('thrown http://h/?token=***');
  });
});

describe('LOG_REDACT: pino logs carry no secrets', () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { lines, log: pino({ redact: LOG_REDACT }, stream) };
  };

  it('url fields, errors (with their stack) and the message go through redact, in child loggers too', () => {
    const { lines, log } = capture();
    const err = new TypeError('Request cannot be constructed from a URL that includes credentials: http://andon:s3cret@central/');
    log.child({ component: 'mqtt', url: 'mqtt://andon:s3cret@broker:1883' }).warn({ err, notify: { url: 'https://h/send?key=K1' } }, 'failed at https://h/send?key=K1');
    log.warn({ err: 'string error from http://andon:s3cret@central/?token=T1' }, 'plain');
    log.info({ req: { method: 'GET', url: '/api/v1/events?token=T1' } }, 'incoming request');
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/s3cret|K1|T1/);
    expect(lines[0]).toMatchObject({ url: 'mqtt://broker:1883', notify: { url: 'https://h/send?key=***' }, msg: 'failed at https://h/send?key=***', err: { type: 'TypeError' } });
    expect((lines[0]?.err as { stack: string }).stack).toContain('http://central/');
  });
});
