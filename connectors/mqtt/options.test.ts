import { connect } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { mqttSourceSchema } from './config.ts';
import { clientOptions } from './options.ts';

const source = mqttSourceSchema.parse({
  id: 'mes',
  type: 'mqtt',
  url: 'mqtt://127.0.0.1:1',
  subscriptions: [{ topic: 'a/#', format: 'json', tag: '$.tag', value: '$.value' }],
});
const debugBefore = process.env.DEBUG;
afterEach(() => {
  if (debugBefore === undefined) delete process.env.DEBUG;
  else process.env.DEBUG = debugBefore;
});

/** The logger mqtt.js's client ends up with for these options (never connected). */
const loggerOf = (options: ReturnType<typeof clientOptions>) => {
  const client = connect(source.url, { ...options, manualConnect: true }); // no socket, no timer
  return (client as unknown as { log: unknown }).log;
};

describe('clientOptions', () => {
  it('gives mqtt.js a silent logger, so its per-packet debug calls allocate nothing, unless DEBUG is set', () => {
    delete process.env.DEBUG;
    const silent = clientOptions(source);
    expect(typeof silent.log).toBe('function');
    expect(loggerOf(silent)).toBe(silent.log);

    process.env.DEBUG = 'mqttjs*';
    const traced = clientOptions(source);
    expect(traced.log).toBeUndefined();
    const own = loggerOf(traced) as { namespace?: string };
    expect(own.namespace).toBe('mqttjs:client'); // mqtt.js's own `debug` logger, which DEBUG turns on
  });
});
