import { z } from 'zod';
import { duration, id, issue } from '../../config/types.ts';
import { maxCapture, parseExpr, type Expr } from './expr.ts';
import { compileTopicFilter, topicFilterProblem } from './topic.ts';

/** A JSON path (`$.data.v`) or a template (`packaging/{1}/alarm/{code}`); see expr.ts. */
const expr = () =>
  z.string().superRefine((text, ctx) => {
    const e = parseExpr(text);
    if (typeof e === 'string') issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', e);
  });

const MAPPING_KEYS = ['tag', 'value', 'ts', 'quality', 'asset', 'severity', 'message'] as const;

const subscriptionSchema = z
  .strictObject({
    /** MQTT topic filter; `+` and `#` wildcards; `$share/<group>/...` allowed. */
    topic: z.string().min(1),
    format: z.enum(['json', 'sparkplug']).default('json'),
    qos: z.union([z.literal(0), z.literal(1)]).default(1),
    /** json: the signal's tag; default: the message topic itself. */
    tag: expr().optional(),
    /** json: default `$.value` (a bare JSON scalar payload is its own value). */
    value: expr().optional(),
    /** json: epoch ms or ISO 8601; default: the time the message arrived. */
    ts: expr().optional(),
    /** json: good | uncertain | bad, a boolean, or an OPC quality number; default good. */
    quality: expr().optional(),
    asset: expr().optional(),
    /** json: alarm severity 1..1000 (design §2), when the payload has one. */
    severity: expr().optional(),
    message: expr().optional(),
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
      for (const key of MAPPING_KEYS) {
        if (s[key] !== undefined)
          issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `"${key}" maps JSON payloads; sparkplug subscriptions take tags and values from the metrics`, [key]);
      }
      return;
    }
    const wildcards = compileTopicFilter(s.topic).wildcards;
    for (const key of MAPPING_KEYS) {
      const text = s[key];
      if (text === undefined) continue;
      const e = parseExpr(text) as Expr;
      const n = maxCapture(e);
      if (n > wildcards) {
        issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `"${text}" uses {${n}} but the topic filter "${s.topic}" has ${wildcards} wildcard(s) ({1}..{${wildcards}})`, [
          key,
        ]);
      }
    }
  });

export const mqttSourceSchema = z.strictObject({
  id: id(),
  type: z.literal('mqtt'),
  url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'an MQTT url starts with mqtt://, mqtts://, ws:// or wss://'),
  /** Stable client id of the persistent session; default `andon-<source id>`. Unique per gateway on one broker. */
  clientId: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  /** PEM files (paths); `rejectUnauthorized: false` only for tests. */
  tls: z
    .strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(), rejectUnauthorized: z.boolean().default(true) })
    .optional(),
  /** Larger messages are refused (counted as `too-large`) and acknowledged. */
  maxMessageBytes: z
    .number()
    .int()
    .min(1)
    .max(256 * 1024 * 1024)
    .default(256 * 1024),
  /** First reconnect delay; doubles after each failed attempt up to `maxReconnectPeriod`. */
  reconnectPeriod: duration().default(1_000),
  maxReconnectPeriod: duration().default(30_000),
  connectTimeout: duration().default(10_000),
  /** MQTT keepalive: a dead broker connection is noticed within 1.5 x this. */
  keepalive: duration().default(30_000),
  subscriptions: z.array(subscriptionSchema).min(1),
});

export type MqttSourceConfig = z.output<typeof mqttSourceSchema>;
export type MqttSubscription = MqttSourceConfig['subscriptions'][number];
