import { z } from 'zod';
import { duration, id, issue } from '../../config/types.ts';
import { maxCapture, parseExpr } from './expr.ts';
import { compileJsonata, isProblem } from './jsonata.ts';
import { compileTopicFilter, topicFilterProblem } from './topic.ts';

/** A JSON path (`$.data.v`) or a template (`packaging/{1}/alarm/{code}`); see expr.ts. */
const expr = () =>
  z.string().superRefine((text, ctx) => {
    const e = parseExpr(text);
    if (typeof e === 'string') issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', e);
  });

/** `tag`, `value`, `ts`, `message`: a path or template as above, or `{ jsonata: '<expression>' }` (compiled here, once). */
const mappable = () =>
  z
    .union([z.string(), z.strictObject({ jsonata: z.string().min(1) })])
    .superRefine((v, ctx) => {
      if (typeof v === 'string') {
        const e = parseExpr(v);
        if (typeof e === 'string') issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', e);
        return;
      }
      const c = compileJsonata(v.jsonata);
      if (isProblem(c))
        issue(ctx, 'ANDON_CONFIG_INVALID_EXPRESSION', `JSONata expression ${JSON.stringify(v.jsonata)} is invalid at position ${c.position}: ${c.message}`, ['jsonata']);
    })
    .meta({ kind: 'mapping' });

const MAPPING_KEYS = ['tag', 'value', 'ts', 'quality', 'asset', 'severity', 'message', 'unit'] as const;

const subscriptionSchema = z
  .strictObject({
    /** MQTT topic filter; `+` and `#` wildcards; `$share/<group>/...` allowed. */
    topic: z.string().min(1).describe('MQTT topic filter; `+` and `#` wildcards; `$share/<group>/...` allowed.'),
    format: z.enum(['json', 'sparkplug']).default('json').describe('Payload format: JSON mapped by the keys below, or Sparkplug B.'),
    qos: z
      .union([z.literal(0), z.literal(1)])
      .default(1)
      .describe('1: no loss (acknowledged after the ticket changes are committed); 0: telemetry you can afford to miss.'),
    /** json: the signal's tag; default: the message topic itself. */
    tag: mappable().optional().describe('json: the signal\'s tag, a template (`packaging/{1}/alarm/{code}`), JSON path or `{ jsonata: ... }`; default: the topic.'),
    /** json: default `$.value` (a bare JSON scalar payload is its own value). */
    value: mappable().optional().describe('json: JSON path (or `{ jsonata: ... }`) of the value; default `$.value` (a bare scalar payload is its own value).'),
    /** json: epoch ms or ISO 8601; default: the time the message arrived. */
    ts: mappable().optional().describe('json: epoch ms or ISO 8601 time of the reading (a JSON path or `{ jsonata: ... }`); default: the time the message arrived.'),
    /** json: good | uncertain | bad, a boolean, or an OPC quality number; default good. */
    quality: expr().optional().describe('json: good | uncertain | bad, a boolean, or an OPC quality number; default good.'),
    asset: expr().optional().describe('json: the asset (`{1}`); default: found through `assets[].tags`.'),
    /** json: alarm severity 1..1000 (contracts §Signal), when the payload has one. */
    severity: expr().optional().describe('json: alarm severity 1..1000, when the payload has one.'),
    message: mappable().optional().describe('json: alarm text, when the payload has one (a template, JSON path or `{ jsonata: ... }`).'),
    unit: expr()
      .optional()
      .describe('json: engineering unit of the values, a constant (`V`) or from the payload (`{unit}`, `$.u`): carried by the signals and shown with the value (`196.4 V`).'),
    decimals: z
      .number()
      .int()
      .min(0)
      .max(10)
      .optional()
      .describe('json: round numeric values to this many decimal places (halves away from zero).'),
  })
  .superRefine((s, ctx) => {
    const problem = topicFilterProblem(s.topic);
    if (problem) {
      issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `topic filter "${s.topic}" ${problem}`, ['topic']);
      return;
    }
    if (s.format === 'sparkplug') {
      if (!/^(\$share\/[^/]+\/)?(spBv1\.0|\+|#)(\/|$)/.test(s.topic)) {
        issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `a sparkplug subscription's topic starts with spBv1.0/ (e.g. "spBv1.0/<group>/#"), not "${s.topic}"`, [
          'topic',
        ]);
      }
      for (const key of [...MAPPING_KEYS, 'decimals'] as const) {
        if (s[key] !== undefined)
          issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `"${key}" maps JSON payloads; sparkplug subscriptions take tags and values from the metrics`, [key]);
      }
      return;
    }
    const wildcards = compileTopicFilter(s.topic).wildcards;
    for (const key of MAPPING_KEYS) {
      const text = s[key];
      if (typeof text !== 'string') continue; // absent, or JSONata (no {n} captures: it reads $captures)
      const e = parseExpr(text);
      if (typeof e === 'string') continue; // reported by its own schema
      const n = maxCapture(e);
      if (n > wildcards) {
        issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `"${text}" uses {${n}} but the topic filter "${s.topic}" has ${wildcards} wildcard(s) ({1}..{${wildcards}})`, [
          key,
        ]);
      }
    }
  });

export const mqttSourceSchema = z.strictObject({
  id: id().describe('Source id: names the source in signals, metrics (`source` label), `silentFor` rules and actions.'),
  type: z.literal('mqtt').describe('MQTT client: JSON and Sparkplug B subscriptions (connectors/mqtt/README.md).'),
  url: z
    .string()
    .regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'an MQTT url starts with mqtt://, mqtts://, ws:// or wss://')
    .describe('Broker URL: `mqtt://`, `mqtts://`, `ws://` or `wss://`.'),
  /** Stable client id of the persistent session; default `andon-<source id>`. Unique per gateway on one broker. */
  clientId: z.string().optional().describe('Client id of the persistent session; default `andon-<source id>`. Unique per gateway on one broker.'),
  username: z.string().optional().describe('Broker user name.'),
  password: z.string().optional().describe('Broker password; write it as `${ENV}`.'),
  /** PEM files (paths); `rejectUnauthorized: false` only for tests. */
  tls: z
    .strictObject({
      ca: z.string().optional().describe('CA certificate file (PEM) that signed the broker\'s certificate.'),
      cert: z.string().optional().describe('Client certificate file (PEM) for mutual TLS.'),
      key: z.string().optional().describe('Private key file (PEM) of `cert`.'),
      rejectUnauthorized: z.boolean().default(true).describe('Refuse a broker certificate that does not verify; `false` only for tests.'),
    })
    .optional()
    .describe('TLS files, read when the connector is created (a missing file is ANDON_MQTT_TLS_FILE).'),
  /** Larger messages are refused (counted as `too-large`) and acknowledged. */
  maxMessageBytes: z
    .number()
    .int()
    .min(1)
    .max(256 * 1024 * 1024)
    .default(256 * 1024)
    .describe('Larger messages are refused (counted as `too-large`) and acknowledged.'),
  /** First reconnect delay; doubles after each failed attempt up to `maxReconnectPeriod`. */
  reconnectPeriod: duration().default(1_000).describe('First reconnect delay; doubles after each failed attempt up to `maxReconnectPeriod`.'),
  maxReconnectPeriod: duration().default(30_000).describe('Longest reconnect delay.'),
  connectTimeout: duration().default(10_000).describe('A connect attempt without CONNACK by then fails.'),
  /** MQTT keepalive: a dead broker connection is noticed within 1.5 x this. */
  keepalive: duration().default(30_000).describe('MQTT keepalive: a dead broker connection is noticed within 1.5 × this.'),
  subscriptions: z.array(subscriptionSchema).min(1).describe('What to subscribe to and how to map it; a message is mapped by the first matching subscription.'),
}).describe('An MQTT broker: MES messages as JSON, and Sparkplug B edge nodes; QoS 1 messages are acknowledged only after their ticket changes are committed. Details: [connectors/mqtt/README.md](../connectors/mqtt/README.md).');

export type MqttSourceConfig = z.output<typeof mqttSourceSchema>;
export type MqttSubscription = MqttSourceConfig['subscriptions'][number];
/** A mapping key's text: a JSON path or template, or a JSONata expression. */
export type Mapping = string | { jsonata: string };
