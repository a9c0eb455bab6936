import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateConfig } from '../../config/load.ts';
import { AndonError } from '../../model/errors.ts';
import { mqttSourceSchema } from './config.ts';
import { createMqttConnector } from './index.ts';
import { compileTopicFilter } from './topic.ts';

const wrap = (source: Record<string, unknown>) => ({ gateway: { id: 'x' }, sources: [{ id: 'mes', type: 'mqtt', url: 'mqtt://127.0.0.1:1883', ...source }] });
const problems = (source: Record<string, unknown>) => validateConfig(wrap(source)).problems.map((p) => [p.path, p.code, p.message]);

describe('mqtt source config', () => {
  it('the README sample validates (wrapped in a minimal config)', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toBeDefined();
    const { config, problems } = validateConfig({ gateway: { id: 'x' }, sources: parse(yaml!) }, { MQTT_PASSWORD: 'secret' });
    expect(problems).toEqual([]);
    const mes = config!.sources[0] as ReturnType<typeof mqttSourceSchema.parse>;
    expect(mes).toMatchObject({ password: 'secret', maxMessageBytes: 262144, reconnectPeriod: 1000, maxReconnectPeriod: 30000 });
    expect(mes.subscriptions.map((s) => [s.format, s.qos])).toEqual([
      ['json', 1],
      ['json', 1],
      ['sparkplug', 0],
    ]);
  });

  it('refuses a {n} beyond the topic filter wildcards, with the path', () => {
    expect(problems({ subscriptions: [{ topic: 'mes/+/alarms', tag: 'a/{1}/{2}' }] })).toEqual([
      [
        'sources[0].subscriptions[0].tag',
        'ANDON_CONFIG_INVALID_VALUE',
        '"a/{1}/{2}" uses {2} but the topic filter "mes/+/alarms" has 1 wildcard(s) ({1}..{1})',
      ],
    ]);
    expect(problems({ subscriptions: [{ topic: 'mes/x', asset: '{0}' }] })[0]?.[0]).toBe('sources[0].subscriptions[0].asset');
  });

  it('refuses invalid topic filters, JSON paths and templates', () => {
    const paths = (source: Record<string, unknown>) => problems(source).map(([path]) => path);
    expect(paths({ subscriptions: [{ topic: 'a/#/b' }] })).toEqual(['sources[0].subscriptions[0].topic']);
    expect(paths({ subscriptions: [{ topic: 'a/b+' }] })).toEqual(['sources[0].subscriptions[0].topic']);
    expect(paths({ subscriptions: [{ topic: 'a/+', value: '$.a..b' }] })).toEqual(['sources[0].subscriptions[0].value']);
    expect(paths({ subscriptions: [{ topic: 'a/+', tag: 'a/{1' }] })).toEqual(['sources[0].subscriptions[0].tag']);
  });

  it('refuses JSON mapping keys on a sparkplug subscription, and a sparkplug topic outside spBv1.0', () => {
    expect(problems({ subscriptions: [{ topic: 'spBv1.0/g/#', format: 'sparkplug', tag: '{1}' }] }).map(([p]) => p)).toEqual([
      'sources[0].subscriptions[0].tag',
    ]);
    expect(problems({ subscriptions: [{ topic: 'plant/#', format: 'sparkplug' }] }).map(([p]) => p)).toEqual(['sources[0].subscriptions[0].topic']);
  });

  it('a TLS file that cannot be read is a config error thrown before connecting', () => {
    const config = mqttSourceSchema.parse({
      id: 'mes',
      type: 'mqtt',
      url: 'mqtts://127.0.0.1:1',
      tls: { ca: '/nonexistent/ca.crt' },
      subscriptions: [{ topic: 'x' }],
    });
    const make = () => createMqttConnector(config, { log: pino({ level: 'silent' }), reject: () => {}, dataDir: '/tmp' });
    expect(make).toThrow(AndonError);
    expect(make).toThrow(expect.objectContaining({ code: 'ANDON_MQTT_TLS_FILE', path: 'tls.ca' }));
  });
});

describe('topic filter captures', () => {
  it('numbers wildcards left to right; "+" takes one level, "#" the rest (empty for the parent)', () => {
    const f = compileTopicFilter('plant/+/line/+/#');
    expect(f.wildcards).toBe(3);
    expect(f.match('plant/pack/line/3/sealer-01/temperature')).toEqual(['pack', '3', 'sealer-01/temperature']);
    expect(f.match('plant/pack/line/3')).toEqual(['pack', '3', '']);
    expect(f.match('plant/pack/line')).toBeUndefined();
    expect(compileTopicFilter('a/+/b').match('a//b')).toEqual(['']);
    expect(compileTopicFilter('a/+').match('a/b/c')).toBeUndefined();
    expect(compileTopicFilter('$share/g/mes/+').match('mes/x')).toEqual(['x']);
    expect(compileTopicFilter('#').match('$SYS/broker/uptime')).toBeUndefined();
  });
});
