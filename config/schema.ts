import { z } from 'zod';
import { sourceSchema } from '../connectors/schemas.ts';
import { LOCALES } from '../model/locale.ts';
import { CHECKLIST } from '../model/ticket.ts';
import { checkNatsForward, checkNatsGatewayId, natsForwardKeys } from './nats.ts';
import { checkScheduleReferences, DUTY_ROLES, schedulesSchema } from './schedules.ts';
import { oidcSchema } from './oidc.ts';
import { duration, id, isUtcZone, issue, priority, scalar, tagPattern } from './types.ts';

/**
 * The config schema (docs/config.md). One schema yields the types (`AndonConfig`),
 * the validation with paths and ANDON_CONFIG_* codes, and the defaults.
 */

const isTimezone = (tz: string) => {
  if (isUtcZone(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** An http(s) URL (z.url alone also takes ftp:, file:, ...). */
const httpUrl = (what: string) => z.url({ protocol: /^https?$/, error: `${what} must be an http:// or https:// URL` });

/**
 * A URL that sends somewhere (forward, notify) without user:password@ in it: that
 * would be logged and shown wherever the URL is. `instead` says where the credential goes.
 */
const noCredentials = (url: string, ctx: z.RefinementCtx, instead: string) => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return; // the URL check itself reports it
  }
  if (u.username !== '' || u.password !== '') issue(ctx, 'ANDON_CONFIG_SECRET_IN_URL', `credentials (user:password@) do not belong in the URL; use ${instead} instead`);
};

/** Tokens copied from an example or the demo: fine on this machine only. */
const PLACEHOLDER_TOKEN = /^(change-?me|demo-)/i;
const isLoopback = (host: string) => /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i.test(host);

/** Placeholder tokens are refused where other machines can reach the port (`andon start --port` changes only the port). */
function refuseWeakTokens(g: { http: { host: string }; auth: { tokens: { name: string; token: string }[] } }, ctx: z.RefinementCtx): void {
  if (isLoopback(g.http.host)) return;
  g.auth.tokens.forEach((t, i) => {
    if (PLACEHOLDER_TOKEN.test(t.token)) {
      issue(ctx, 'ANDON_CONFIG_WEAK_TOKEN', `token "${t.name}" is a placeholder and http.host ${g.http.host} is reachable from other machines; set a real one (openssl rand -hex 24)`, ['auth', 'tokens', i, 'token']);
    }
  });
}

const gatewaySchema = z.strictObject({
  id: id().describe('This gateway\'s id (`plant-a-line-1`): in every ticket (`gateway`) and in forwarded tickets.'),
  timezone: z
    .string()
    .default('UTC')
    .superRefine((tz, ctx) => {
      if (!isTimezone(tz)) issue(ctx, 'ANDON_CONFIG_INVALID_TIMEZONE', `"${tz}" is not an IANA timezone such as Asia/Shanghai or Europe/Berlin`);
    })
    .describe('IANA timezone of the plant (`Asia/Shanghai`): recurrence patterns ("daily around 16:00"), times in notifications and every time on the board are in its local time.'),
  locale: z
    .enum(LOCALES)
    .default('en')
    .describe('Language of the board, of notification texts and of CSV header rows: `en` or `zh-CN`. Plant data (asset, fault and tag names, alarm messages, ticket titles) is shown as it comes.'),
  maxClockSkew: duration()
    .default(300_000)
    .describe(
      'How far ahead of the gateway\'s clock a timestamp from outside (a signal\'s `ts`, a replay record\'s `t` (against the wall clock when the replay starts), an alert\'s `startsAt`, a change from central) may be. Later, before 2000-01-01 or not a representable date, it is invalid: HTTP and replay refuse it, protocol sources take the arrival time (`andon_signal_time_replaced_total`).',
    ),
  dataDir: z.string().default('./data').describe('Directory of the ticket store (`andon.sqlite`) and OPC UA certificates; created when missing.'),
  publicUrl: httpUrl('gateway.publicUrl')
    .optional()
    .describe('Where people reach this gateway\'s board (`https://andon.plant-a.example`); notifications link to the ticket there. Unset: no link.'),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1').describe('Address the HTTP API, board and /metrics listen on; `0.0.0.0` for all interfaces (containers).'),
      port: z.number().int().min(0).max(65535).default(8080).describe('TCP port; 0 picks a free one. `andon start --port` overrides it.'),
      bodyLimit: z.number().int().positive().default(1_048_576).describe('Largest request body in bytes; larger is ANDON_REQUEST_TOO_LARGE (413).'),
      signalBodyLimit: z
        .number()
        .int()
        .positive()
        .default(524_288)
        .describe(
          'Largest body of POST /api/v1/signals in bytes (ANDON_REQUEST_TOO_LARGE above): each signal is pushed through the rules before the answer, so batches stay small. 512 KiB holds 10,000 signals of 50 bytes or about 4,000 with source and ts; send larger batches in parts.',
        ),
      requestTimeout: duration()
        .superRefine((ms, ctx) => {
          if (ms < 10 || ms > 300_000) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'gateway.http.requestTimeout must be between 10ms and 5m (0 would switch it off)');
        })
        .default(30_000)
        .describe('A request (headers and body) must arrive within this of its first byte, else the connection is closed (checked every 5 s or half of it, whichever is less).'),
      keepAliveTimeout: duration()
        .default(5_000)
        .describe('An idle keep-alive connection is closed after this. Behind a reverse proxy that keeps upstream connections open, set it longer than the proxy\'s idle timeout.'),
      maxConnections: z
        .number()
        .int()
        .positive()
        .default(256)
        .describe('Most open connections (event streams included); more are closed as they arrive. Bounds sockets and memory held by slow clients.'),
    })
    .default({ host: '127.0.0.1', port: 8080, bodyLimit: 1_048_576, signalBodyLimit: 524_288, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxConnections: 256 })
    .describe('The HTTP server.'),
  auth: z
    .strictObject({
      anonymousRead: z
        .boolean()
        .default(false)
        .describe('Board and GET endpoints without a token: tickets with their evidence, assignees, comments and history for anyone who reaches the port. Off unless you turn it on.'),
      tokens: z
        .array(
          z.strictObject({
            name: id().describe('Who holds the token (`control-room`); shown in logs, never the token.'),
            role: z.enum(['operator', 'ingest', 'admin']).describe('operator: transitions and comments; ingest: POST signals; admin: everything.'),
            token: z
              .string()
              .superRefine((t, ctx) => {
                if (t.length < 16) issue(ctx, 'ANDON_CONFIG_WEAK_TOKEN', `a token needs at least 16 characters (this one has ${t.length}); make one with: openssl rand -hex 24`);
              })
              .describe('The bearer token, at least 16 characters; write it as `${ENV}`. A placeholder (`change-me-*`, `demo-*`) is refused unless `http.host` is a loopback address.'),
          }),
        )
        .default([])
        .describe('Bearer tokens and their roles.'),
      oidc: oidcSchema,
    })
    .default({ anonymousRead: false, tokens: [] })
    .describe('Who may do what over HTTP.'),
  tagView: z
    .strictObject({
      maxTags: z
        .number()
        .int()
        .min(1)
        .max(10_000_000)
        .default(100_000)
        .describe('Most tags the live tag view (`GET /api/v1/tags`, the board\'s Tags page) tracks; signals of further tags are counted in `andon_tags_overflow_total` and not shown (about 200 bytes per tag).'),
    })
    .default({ maxTags: 100_000 })
    .describe('The live tag view: last value, quality and times of every tag.'),
});

const assetSchema = z.strictObject({
  area: z.string().min(1).describe('Plant area (`packaging`): routing, flood grouping and the board.'),
  line: z.string().optional().describe('Production line (`line-1`); routing can match it.'),
  criticality: z.string().optional().describe('Free label (`line-stopping`); `priorities.raiseFor.criticality` can raise the priority of its tickets.'),
  tags: z.array(tagPattern()).default([]).describe('Tags that belong to this asset (`packaging/sealer-01/**`), for signals that do not name their asset.'),
});

/** One value, or a list meaning "any of these" (`priority: [P0, P1]`). */
const oneOrAny = <T extends z.ZodType>(one: T) =>
  z.union([
    one,
    z.array(one).superRefine((list, ctx) => {
      if (list.length === 0) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'an empty list matches no ticket; leave the key out to match every ticket');
    }),
  ]);

/** What routing, escalation and cause links match a ticket on: every given key must fit, a list is "any of". */
const MATCH_FIELDS = {
  area: () => oneOrAny(z.string()).optional().describe('The ticket\'s area equals this (or one of this list).'),
  line: () => oneOrAny(z.string()).optional().describe('The ticket\'s line equals this (or one of this list).'),
  asset: () => oneOrAny(z.string()).optional().describe('The ticket\'s asset equals this (or one of this list).'),
  fault: () => oneOrAny(z.string()).optional().describe('The ticket\'s fault equals this (or one of this list).'),
  category: () => oneOrAny(z.string()).optional().describe('The ticket\'s category equals this (or one of this list).'),
  priority: () => oneOrAny(priority).optional().describe('The ticket\'s priority equals this (or one of this list: `[P0, P1]`).'),
};
const ticketMatch = () => z.strictObject({ area: MATCH_FIELDS.area(), line: MATCH_FIELDS.line(), asset: MATCH_FIELDS.asset(), fault: MATCH_FIELDS.fault(), category: MATCH_FIELDS.category(), priority: MATCH_FIELDS.priority() });

/** What a rule watches. Exactly one detector: equals, above, below, unchangedFor or silentFor. */
const whenSchema = z
  .strictObject({
    tag: tagPattern().optional().describe('Tags the rule watches (`packaging/*/alarm/**`); every detector but silentFor needs it.'),
    source: tagPattern().optional().describe('Source ids (or a pattern, `*`) the rule watches; silentFor needs it, the others may narrow to it.'),
    equals: scalar.optional().describe('Detector: the value equals this (`true` also matches 1, `false` 0).'),
    above: z.number().optional().describe('Detector: a numeric value above this.'),
    below: z.number().optional().describe('Detector: a numeric value below this.'),
    for: duration().optional().describe('On-delay for equals/above/below: the condition must hold this long before the rule raises.'),
    clearAbove: z.number().optional().describe('Deadband of below: the condition clears only above this (not under `below`).'),
    clearBelow: z.number().optional().describe('Deadband of above: the condition clears only below this (not over `above`).'),
    unchangedFor: duration().optional().describe('Detector (stuck sensor): the same good value for this long; the first change clears.'),
    silentFor: duration().optional().describe('Detector (comms lost): no signal at all from a source for this long; the ticket\'s asset is the source id.'),
  })
  .superRefine((w, ctx) => {
    const detectors = (['equals', 'above', 'below', 'unchangedFor', 'silentFor'] as const).filter((k) => w[k] !== undefined);
    if (detectors.length !== 1) {
      issue(ctx, 'ANDON_CONFIG_INVALID_RULE', `a rule needs exactly one of equals, above, below, unchangedFor, silentFor (found ${detectors.join(', ') || 'none'})`);
      return;
    }
    const kind = detectors[0];
    if (kind === 'silentFor') {
      if (w.source === undefined) issue(ctx, 'ANDON_CONFIG_INVALID_RULE', 'silentFor watches a source: add source: "<id or pattern>"', ['source']);
      if (w.tag !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_RULE', 'silentFor watches whole sources, not tags', ['tag']);
    } else if (w.tag === undefined) {
      issue(ctx, 'ANDON_CONFIG_MISSING', `${kind} needs tag: "<pattern>"`, ['tag']);
    }
    if (w.for !== undefined && kind !== 'above' && kind !== 'below' && kind !== 'equals') issue(ctx, 'ANDON_CONFIG_INVALID_RULE', `for (on-delay) applies to equals, above and below, not ${kind}`, ['for']);
    if (w.clearBelow !== undefined) {
      if (kind !== 'above') issue(ctx, 'ANDON_CONFIG_INVALID_RULE', 'clearBelow is the deadband of above', ['clearBelow']);
      else if (w.clearBelow > (w.above as number)) issue(ctx, 'ANDON_CONFIG_INVALID_RULE', `clearBelow (${w.clearBelow}) must not exceed above (${w.above})`, ['clearBelow']);
    }
    if (w.clearAbove !== undefined) {
      if (kind !== 'below') issue(ctx, 'ANDON_CONFIG_INVALID_RULE', 'clearAbove is the deadband of below', ['clearAbove']);
      else if (w.clearAbove < (w.below as number)) issue(ctx, 'ANDON_CONFIG_INVALID_RULE', `clearAbove (${w.clearAbove}) must not be under below (${w.below})`, ['clearAbove']);
    }
  });

const ruleSchema = z.strictObject({
  id: id().describe('Rule id: in the ticket (`rule`) and in logs.'),
  when: whenSchema.describe('What the rule watches: exactly one detector (equals, above, below, unchangedFor or silentFor) and its options.'),
  fault: id().describe('Fault name (`alarm-stop`); the ticket key is `<asset>/<fault>`, so one live ticket per asset and fault.'),
  category: z.string().min(1).default('general').describe('Category (`hardware`, `power-quality`); routing can match it.'),
  priority: priority.describe('P0 stops a line, P1 a key function, P2 and P3 less; sets the SLA deadlines (`priorities`).'),
  title: z.string().optional().describe('Ticket title; `{asset}`, `{fault}`, `{area}`, `{rule}` are filled in. Default `{asset}: {fault}`.'),
  notify: z.array(z.string()).default([]).describe('Notify channels (names under `notify:`) for this rule\'s tickets, added to the route\'s.'),
  labels: z
    .array(knowledgeLabel())
    .max(20)
    .default([])
    .describe('Knowledge labels of this rule\'s faults (`voltage-interference`), from `knowledge.labels` unless `knowledge.freeLabels`: a new ticket\'s similar cases list first the resolved tickets whose knowledge entry shares a label with its rule or with its probable cause\'s rule.'),
});

const windowSchema = z.strictObject({
  count: z.number().int().min(2).describe('How many (raises, distinct alarm tags, episodes) make it.'),
  within: duration().describe('The sliding window they must fall in.'),
});
/** The longest correlation.verifyFix.after: 10 years. */
const MAX_VERIFY_AFTER = 3650 * 86_400_000;

const correlationSchema = z.strictObject({
  chatter: windowSchema
    .default({ count: 5, within: 60_000 })
    .describe('`count` raises of one ticket key within `within` flag it `chattering` (ISA-18.2); it stays one ticket. `within` is also the episode gap of recurrence and causes.'),
  flood: windowSchema
    .extend({ per: z.enum(['area']).default('area').describe('Floods are counted per area.') })
    .default({ count: 10, within: 600_000, per: 'area' })
    .describe('More than `count` distinct alarm tags raised within `within` in one area open one `alarm-flood` ticket (ISA-18.2 / EEMUA 191); its alarms open none of their own.'),
  recurrence: windowSchema
    .default({ count: 3, within: 14 * 86_400_000 })
    .describe('`count` episodes of one key within `within` flag the ticket `recurring`, with the pattern (daily at HH:MM, weekly, irregular).'),
  causes: z
    .array(
      z.strictObject({
        effect: id().describe('Fault of the effect (a rule\'s fault).'),
        cause: id().describe('Fault of the cause (a rule\'s fault).'),
        within: duration().describe('The cause must precede the effect by at most this.'),
        match: z
          .strictObject({ area: MATCH_FIELDS.area(), line: MATCH_FIELDS.line(), asset: MATCH_FIELDS.asset() })
          .optional()
          .describe('Only effect tickets on these areas, lines or assets (`asset: [sealer-01, sealer-02]`; a list is "any of") get the link; the cause may be on any asset. Absent: every ticket with the effect fault.'),
      }),
    )
    .default([])
    .describe('Known cause links: a cause detection within `within` before an effect is named on the effect\'s ticket.'),
  discoverCauses: z
    .strictObject({
      within: duration().describe('How far back before each episode to look.'),
      minSupport: z.number().int().min(2).default(3).describe('Episodes a candidate must precede (and at least half of them, above its base rate).'),
    })
    .optional()
    .describe('Find causes nobody configured: detections on other assets that precede the episodes of a ticket.'),
  verifyFix: z
    .strictObject({
      after: duration()
        // a deadline past what a date can hold would make every resolve fail
        .superRefine((ms, ctx) => {
          if (ms > MAX_VERIFY_AFTER) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `is longer than 10 years; a fix is verified after days or weeks`);
        })
        .optional()
        .meta({
          defaultText: '3 periods of the recurrence (3d daily, 3w weekly), else 7d',
          description:
            'How long the fault must stay quiet after a resolve for the fix to count as verified (flag `fix-verified`). By default three periods of its recurrence pattern when the ticket recurred daily or weekly, else 7 days.',
        }),
    })
    .default({})
    .describe('Closing the loop: a resolved or closed ticket whose fault stays quiet for `after` gets the flag `fix-verified`; one that comes back is reopened (`recurred-after-fix`).'),
  earlyWarning: z
    .strictObject({
      enabled: z
        .boolean()
        .optional()
        .meta({
          defaultText: 'true when discoverCauses is set',
          description:
            'Warn on a ticket when one of its probable causes (`causes`, discovered or configured) fires again, before its effect: the warning (`warnings`) is confirmed when the effect comes by `expectedBy`, else missed. On by default when `discoverCauses` is set.',
        }),
      beforePattern: duration()
        .optional()
        .describe('Also warn this long before the next expected time (`recurrence.next`) of a ticket recurring daily or weekly, with the cause `{ pattern }`. Off unless set (`15m`).'),
      minPrecision: z
        .number()
        .min(0)
        .max(1)
        .default(0.5)
        .describe('A cause whose warnings were confirmed less often than this over its last 10 (judged once 5 are settled) stops warning for that effect; the warnings report says so.'),
      margin: z
        .number()
        .min(0)
        .max(10)
        .default(0.5)
        .describe('How much later than the typical lead the effect may come and still confirm: `expectedBy` = the warning\'s time + the lead × (1 + margin), and at least the longest lead seen so far.'),
    })
    .default({ minPrecision: 0.5, margin: 0.5 })
    .describe('Early warning: a known cause fires, Andon warns on the ticket of its effect (and its channels, the board, actions with `on.warning`) before the effect comes.'),
});

const slaSchema = z.strictObject({
  respondWithin: duration().describe('Time from opening to acknowledgement (`respondBy`).'),
  resolveWithin: duration().describe('Time from opening to resolution (`resolveBy`).'),
});
const DEFAULT_SLA = {
  P0: { respondWithin: 900_000, resolveWithin: 4 * 3_600_000 },
  P1: { respondWithin: 1_800_000, resolveWithin: 8 * 3_600_000 },
  P2: { respondWithin: 4 * 3_600_000, resolveWithin: 3 * 86_400_000 },
  P3: { respondWithin: 86_400_000, resolveWithin: 14 * 86_400_000 },
};
const prioritiesSchema = z.strictObject({
  P0: slaSchema.default(DEFAULT_SLA.P0).describe('SLA of P0 tickets (stops a production line).'),
  P1: slaSchema.default(DEFAULT_SLA.P1).describe('SLA of P1 tickets (key function unavailable).'),
  P2: slaSchema.default(DEFAULT_SLA.P2).describe('SLA of P2 tickets.'),
  P3: slaSchema.default(DEFAULT_SLA.P3).describe('SLA of P3 tickets.'),
  raiseFor: z
    .strictObject({
      criticality: z.record(z.string(), priority).default({}).describe('Asset criticality → the lowest priority its tickets get (`line-stopping: P0`); never lowers.'),
    })
    .default({ criticality: {} })
    .describe('Raise priorities by asset.'),
});

const routeSchema = z.strictObject({
  match: ticketMatch()
    .default({})
    .describe('Every given key must equal the ticket\'s (a list: one of its values); `{}` matches every ticket. The first matching route wins.'),
  assign: z.string().min(1).describe('Group the ticket is assigned to (`assignedGroup`).'),
  notify: z.array(z.string()).default([]).describe('Notify channels (names under `notify:`) told when a P0/P1 ticket of this route opens.'),
});

const escalationSchema = z.strictObject({
  after: z.union([z.enum(['respondBy', 'resolveBy']), duration()]).describe('When: at the ticket\'s respondBy or resolveBy deadline, or this long after it opened.'),
  unless: z.enum(['acknowledged', 'resolved']).describe('Skipped when the ticket is acknowledged (or further) / resolved by then.'),
  level: z.number().int().min(1).describe('Escalation level written on the ticket (`escalationLevel`).'),
  notify: z.array(z.string()).default([]).describe('Notify channels (names under `notify:`) told of the escalation.'),
  match: ticketMatch()
    .default({})
    .describe('The tickets this level applies to, keyed as `routing[].match` (`priority: [P0, P1]`); another ticket skips the level. `{}`: every ticket.'),
  onDuty: z
    .array(
      z.strictObject({
        role: z.enum(DUTY_ROLES).describe('`supervisor`: the group\'s supervisor on duty; `onCall`: its on-call person on duty (who may differ from the ticket\'s assignee after a shift change).'),
        group: z
          .string()
          .min(1)
          .optional()
          .meta({ defaultText: 'the ticket\'s assignedGroup', description: 'The group (a key under `schedules.groups`) whose person on duty is notified.' }),
      }),
    )
    .default([])
    .describe(
      'People on duty to notify at this level, looked up in `schedules` when the level fires: `[{ role: supervisor }]` is the on-duty supervisor of the ticket\'s group, `[{ group: utilities, role: supervisor }]` of group utilities. Their notify channels join `notify`; nobody on duty then notifies nobody (the history says so).',
    ),
});

/** A notification channel (gateway/notify/README.md): a webhook and the message format its receiver expects. */
const notifySchema = z
  .strictObject({
    type: z.literal('webhook').describe('How messages go: an HTTP POST to `url`.'),
    format: z
      .enum(['json', 'wecom', 'dingtalk', 'slack', 'teams'])
      .default('json')
      .describe('The body the receiver expects: json (ticket + event), wecom / dingtalk robot markdown, slack incoming webhook, teams Adaptive Card.'),
    url: httpUrl('a notify url')
      .superRefine((url, ctx) => noCredentials(url, ctx, 'headers (`Authorization: Bearer ${HOOK_TOKEN}`)'))
      .describe('The webhook. Robot keys go in its query (WeCom `key=`, DingTalk `access_token=`): write them as `${ENV}`; logs, stored errors and the API show them as `***`. No user:password@ in it (use `headers`).'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .superRefine((h, ctx) => {
        for (const name of Object.keys(h)) {
          if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `"${name}" is not an HTTP header name`, [name]);
        }
      })
      .describe('Extra request headers (`Authorization: Bearer ${HOOK_TOKEN}` for a json receiver); values may use `${ENV}` and are never logged.'),
    secret: z.string().min(1).optional().describe('format dingtalk only: the robot\'s signing secret (加签); every request is signed with it.'),
    timeout: duration().default(10_000).describe('No answer within this is a retryable failure.'),
    concurrency: z.number().int().min(1).max(16).default(1).describe('Messages in flight at once; 1 keeps the channel\'s messages strictly in order.'),
    backoff: z
      .strictObject({
        base: duration().default(1_000).describe('First retry delay at most this (full jitter), doubling per attempt.'),
        max: duration().default(300_000).describe('Retry delay at most this.'),
      })
      .default({ base: 1_000, max: 300_000 })
      .describe('Retry backoff after a retryable failure (5xx, 408, 429, timeout, connection error); Retry-After wins.'),
    maxAge: duration()
      .default(86_400_000)
      .describe('A message not delivered this long after its event (still failing, or the gateway was down) is parked (ANDON_NOTIFY_EXPIRED), not sent; an admin retry gives it this long again.'),
  })
  .superRefine((n, ctx) => {
    if (n.secret !== undefined && n.format !== 'dingtalk') issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `secret signs DingTalk robot requests; format ${n.format} has none`, ['secret']);
    if (n.backoff.base > n.backoff.max) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'backoff.base must not exceed backoff.max', ['backoff', 'base']);
  });

const actionSchema = z.strictObject({
  on: z
    .strictObject({
      priority: priority.optional().describe('The ticket\'s priority equals this.'),
      state: z.string().optional().describe('The ticket\'s state equals this; by default any live state (open, acknowledged, in_progress, waiting).'),
      area: z.string().optional().describe('The ticket\'s area equals this.'),
      asset: z.string().optional().describe('The ticket\'s asset equals this.'),
      fault: z.string().optional().describe('The ticket\'s fault equals this.'),
      warning: z
        .boolean()
        .optional()
        .describe('true: only while the ticket has a pending early warning and is not shelved (the andon light\'s amber); then, without `state`, in any live state including resolved.'),
    })
    .describe('Which tickets hold the output on; every given field must equal the ticket\'s.'),
  write: z
    .strictObject({
      source: z.string().describe('Source that writes (an opcua, modbus or mqtt source id).'),
      nodeId: z.string().optional().describe('opcua: node id to write.'),
      table: z.enum(['holding', 'coil']).optional().describe('modbus: coil (FC5) or holding register (FC6).'),
      address: z.number().int().min(0).optional().describe('modbus: zero-based address.'),
      topic: z.string().optional().describe('mqtt: topic to publish to (no wildcards).'),
      value: scalar.describe('Value written while a matching ticket exists; its "off" (false, 0 or empty) when none is left.'),
    })
    .describe('The output to write, through the source\'s connector.'),
});

const checklistItemSchema = z.strictObject({
  id: id().describe('The item\'s key in the close request\'s and the ticket\'s `checklist` (`lockoutRemoved`).'),
  label: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('What the board shows next to the checkbox. Default: the `gateway.locale` text of a built-in item (customerInformed, partsRecorded, knowledgeBaseChecked), else the id.'),
});

/** A knowledge label: free text without line breaks (`voltage-interference`, `电压干扰`). */
function knowledgeLabel() {
  return z.string().min(1).max(64).regex(/^[^\r\n,;]+$/, 'a label has no line breaks, commas or semicolons');
}

const knowledgeSchema = z.strictObject({
  labels: z
    .array(knowledgeLabel())
    .max(200)
    .default([])
    .describe('The labels a knowledge entry (resolve with `knowledge`) and `rules[].labels` may use (`voltage-interference`).'),
  freeLabels: z.boolean().default(false).describe('Whether a knowledge entry may also carry labels not listed in `knowledge.labels`.'),
});

/** The kinds of a record field (config records.types[].fields[].type). */
export const RECORD_FIELD_TYPES = ['text', 'date', 'url', 'number', 'items', 'result'] as const;

const recordTypeSchema = z.strictObject({
  id: id().describe('Record type (`parts-request`, `acceptance`, `calibration`): the `type` of POST /api/v1/tickets/{id}/records.'),
  fields: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'field names are letters and digits').max(64).describe('Field name (`supplier`).'),
        type: z
          .enum(RECORD_FIELD_TYPES)
          .describe('`text`, `date` (ISO date-time), `url` (http or https), `number`, `items` (a list of `{ materialNumber, quantity }`), `result` (`passed` or `failed`).'),
        required: z.boolean().default(false).describe('Whether a record of this type needs the field.'),
      }),
    )
    .min(1)
    .max(30)
    .describe('The fields of a record of this type; others are refused.'),
});

/** The record types by default (config records.types): what the seed case's repair produces. */
export const DEFAULT_RECORD_TYPES = [
  {
    id: 'parts-request',
    fields: [
      { name: 'items', type: 'items' as const, required: true },
      { name: 'expectedArrival', type: 'date' as const, required: true },
      { name: 'supplier', type: 'text' as const, required: false },
    ],
  },
  {
    id: 'acceptance',
    fields: [
      { name: 'acceptedBy', type: 'text' as const, required: true },
      { name: 'result', type: 'result' as const, required: true },
      { name: 'note', type: 'text' as const, required: false },
      { name: 'evidence', type: 'url' as const, required: false },
    ],
  },
];

const recordsSchema = z.strictObject({
  types: z
    .array(recordTypeSchema)
    .default(DEFAULT_RECORD_TYPES)
    .superRefine((types, ctx) => {
      const seen = new Set<string>();
      types.forEach((t, i) => {
        if (seen.has(t.id)) issue(ctx, 'ANDON_CONFIG_DUPLICATE_ID', `record type "${t.id}" is listed twice`, [i, 'id']);
        seen.add(t.id);
        const names = new Set<string>();
        t.fields.forEach((f, j) => {
          if (names.has(f.name)) issue(ctx, 'ANDON_CONFIG_DUPLICATE_ID', `field "${f.name}" is listed twice`, [i, 'fields', j, 'name']);
          names.add(f.name);
        });
      });
      // wait for parts makes a parts-request record; close with requireAcceptance looks for an acceptance one
      const need: [string, string, string][] = [['parts-request', 'items', 'items'], ['parts-request', 'expectedArrival', 'date'], ['acceptance', 'result', 'result']];
      for (const [type, field, kind] of need) {
        const t = types.find((x) => x.id === type);
        if (t && !t.fields.some((f) => f.name === field && f.type === kind)) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `record type ${type} needs a field ${field} of type ${kind}`, [types.indexOf(t), 'fields']);
        else if (!t) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `record types need ${type} (with a field ${field} of type ${kind})`, []);
      }
    })
    .describe(
      'Record types and their fields. Default: `parts-request` (items, expectedArrival required; supplier) and `acceptance` (acceptedBy, result required; note, evidence). Both must stay (wait for parts makes a parts-request record; close may need a passed acceptance).',
    ),
});

const lifecycleSchema = z.strictObject({
  closeChecklist: z
    .array(checklistItemSchema)
    .default(CHECKLIST.map((id) => ({ id })))
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        if (seen.has(item.id)) issue(ctx, 'ANDON_CONFIG_DUPLICATE_ID', `close checklist item "${item.id}" is listed twice`, [i, 'id']);
        seen.add(item.id);
      });
    })
    .describe(
      'What `close` needs confirmed: every item `true` in the request\'s `checklist` (else ANDON_TICKET_FIELD_REQUIRED). The board shows them as checkboxes (GET /api/v1/board/config). Default: customerInformed, partsRecorded, knowledgeBaseChecked; `[]` closes without a checklist.',
    ),  requireAcceptance: z
    .array(priority)
    .default([])
    .describe('Priorities whose tickets `close` only with a passed `acceptance` record (else ANDON_TICKET_ACCEPTANCE_REQUIRED); `[P0, P1]`. Default: none.'),
});

const HOUR = 3_600_000;
const storeSchema = z.strictObject({
  retention: duration()
    .refine((ms) => ms >= HOUR, { params: { code: 'ANDON_CONFIG_INVALID_VALUE' }, message: 'retention must be at least 1h' })
    .optional()
    .describe(
      'Delete closed tickets unchanged for this long (`90d`), with their history, outbox and notification rows: at start and hourly, 500 tickets per transaction. A ticket with a version still waiting for central is kept. Unset: kept for ever.',
    ),
  auditRetention: duration()
    .refine((ms) => ms >= HOUR, { params: { code: 'ANDON_CONFIG_INVALID_VALUE' }, message: 'auditRetention must be at least 1h' })
    .optional()
    .describe(
      'Delete audit rows (GET /api/v1/audit) older than this (`400d`): at start and hourly, 500 rows per transaction, oldest first; the only way rows leave the audit table. Unset: kept for ever.',
    ),
});

/** Ticket custom field names the RT sink uses (type rt only; see gateway/forward/rt/README.md). */
const rtCustomFieldsSchema = z.strictObject({
  id: z.string().min(1).default('AndonId').describe('Custom field holding the Andon ticket id (finds the RT ticket; create-once).'),
  key: z.string().min(1).default('AndonKey').describe('Custom field holding the ticket key (`<asset>/<fault>`).'),
  version: z.string().min(1).default('AndonVersion').describe('Custom field holding the newest version sent.'),
  state: z.string().min(1).default('AndonState').describe('Custom field holding the Andon state.'),
  events: z.string().min(1).default('AndonEvents').describe('Custom field holding the history events already written as comments.'),
});

const forwardSchema = z
  .strictObject({
    type: z
      .enum(['http', 'rt', 'nats'])
      .describe('http: the central contract of contracts §Central API (sim/central is a reference); rt: Request Tracker 5 REST 2 (gateway/forward/rt/README.md); nats: a NATS JetStream stream (gateway/forward/nats/README.md).'),
    url: z
      .url()
      .superRefine((url, ctx) => noCredentials(url, ctx, 'forward.token'))
      .optional()
      .describe('type http and rt (required there): base URL of central (`http://central:9100`, or RT\'s base URL); no user:password@ in it (use `token`).'),
    token: z.string().optional().describe('Bearer token (http), RT auth token (rt, required) or NATS token (nats); write it as `${ENV}`.'),
    queue: z.string().optional().describe('type rt: the RT queue tickets go to (required for rt).'),
    timeout: duration().default(10_000).describe('A request without an answer by then is retried later.'),
    concurrency: z.number().int().min(1).max(64).default(4).describe('Tickets in flight at once (one request per ticket at a time, in version order).'),
    // The two below stay optional in the output type (defaults in gateway/forward/index.ts, FORWARD_DEFAULTS)
    // so ForwardConfig literals written for a sink need not spell them.
    /** Per-ticket retry backoff (exponential, full jitter): first delay up to `base` (default 1s), never more than `max` (default 5m). */
    backoff: z
      .strictObject({
        base: duration().optional().meta({ defaultText: '1s', description: 'First retry delay is up to this (full jitter), doubling per failure.' }),
        max: duration().optional().meta({ defaultText: '5m', description: 'Longest retry delay.' }),
      })
      .optional()
      .describe('Per-ticket retry backoff (exponential, full jitter), kept on disk.'),
    /** How often to ask central for changes made there (Sink.changes), default 30s; 0s: never (central may still POST /api/v1/sync). */
    syncInterval: duration()
      .optional()
      .meta({ defaultText: '30s', description: 'How often to ask central for changes made there; `0s`: never (central may still POST /api/v1/sync).' }),
    /** type rt: names of the ticket custom fields (defaults AndonId, AndonKey, AndonVersion, AndonState, AndonEvents). */
    customFields: rtCustomFieldsSchema.optional().describe('type rt: names of the ticket custom fields.'),
    /** type rt: RT Priority per Andon priority (default P0 100, P1 75, P2 50, P3 25). */
    priorities: z
      .strictObject({
        P0: z.number().int().meta({ defaultText: '100', description: 'RT Priority of P0 tickets.' }),
        P1: z.number().int().meta({ defaultText: '75', description: 'RT Priority of P1 tickets.' }),
        P2: z.number().int().meta({ defaultText: '50', description: 'RT Priority of P2 tickets.' }),
        P3: z.number().int().meta({ defaultText: '25', description: 'RT Priority of P3 tickets.' }),
      })
      .partial()
      .optional()
      .describe('type rt: RT Priority per Andon priority.'),
    ...natsForwardKeys,
  })
  .superRefine((f, ctx) => {
    if (f.type !== 'nats' && f.url === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', `forward type ${f.type} needs url: the base URL of central`, ['url']);
    checkNatsForward(f, ctx);
    if (f.type === 'rt') {
      if (f.token === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'forward type rt needs token: an RT auth token of the gateway\'s RT user', ['token']);
      if (f.queue === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'forward type rt needs queue: the RT queue tickets go to', ['queue']);
    } else {
      for (const k of ['customFields', 'priorities'] as const) {
        if (f[k] !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `${k} applies to forward type rt only`, [k]);
      }
    }
  });

const configObject = z
  .strictObject({
    gateway: gatewaySchema.superRefine(refuseWeakTokens).describe('This gateway: id, timezone, where it keeps its data, HTTP and tokens.'),
    sources: z.array(sourceSchema).default([]).describe('Where signals come from: one entry per PLC, broker, device or HTTP feed. The `type` picks the connector and its keys.'),
    assets: z.record(z.string(), assetSchema).default({}).describe('Machines and other equipment by name (`sealer-01`): their area, line, criticality and tags.'),
    rules: z.array(ruleSchema).default([]).describe('Detections: what in the signals opens a ticket, with which fault, category and priority.'),
    correlation: correlationSchema.default({
      chatter: { count: 5, within: 60_000 },
      flood: { count: 10, within: 600_000, per: 'area' },
      recurrence: { count: 3, within: 14 * 86_400_000 },
      causes: [],
      verifyFix: {},
      earlyWarning: { minPrecision: 0.5, margin: 0.5 },
    }).describe('Folding and correlating detections: chatter, alarm floods, recurrence and probable causes.'),
    priorities: prioritiesSchema
      .default({ ...DEFAULT_SLA, raiseFor: { criticality: {} } })
      .describe('SLA per priority (respondBy and resolveBy deadlines of a ticket), and priority raises by asset criticality.'),
    routing: z.array(routeSchema).default([]).describe('Who gets a ticket: the first route whose `match` fits assigns it (and names channels to notify).'),
    escalation: z.array(escalationSchema).default([]).describe('Escalation levels for tickets nobody acknowledges or resolves in time.'),
    notify: z.record(z.string(), notifySchema).default({}).describe('Notification channels by name (`duty-supervisor`), used by rules, routing and escalation.'),
    shelving: z
      .strictObject({ maxDuration: duration().default(8 * 3_600_000).describe('Longest a ticket may be shelved (ISA-18.2) at once.') })
      .default({ maxDuration: 8 * 3_600_000 })
      .describe('Shelving: a person silences a ticket for a while; it still counts occurrences.'),
    lifecycle: lifecycleSchema
      .default({ closeChecklist: CHECKLIST.map((id) => ({ id })), requireAcceptance: [] })
      .describe('Ticket lifecycle settings: what closing a ticket needs.'),
    actions: z.array(actionSchema).default([]).describe('Writes back to the plant (the andon light): on with the first matching ticket, off when none is left.'),
    schedules: schedulesSchema.describe(
      'On-call schedules per group, in `gateway.timezone`: shifts with rotations and overrides for a day. A new ticket is assigned (`assignee`) to the on-call person of its group on duty; escalation levels can notify the person on duty (`escalation[].onDuty`); GET /api/v1/oncall says who is on duty.',
    ),
    knowledge: knowledgeSchema
      .default({ labels: [], freeLabels: false })
      .describe('The knowledge base (GET /api/v1/knowledge): the labels a resolve\'s knowledge entry and the rules may carry.'),
    records: recordsSchema
      .default({ types: DEFAULT_RECORD_TYPES })
      .describe('Records attached to tickets (POST /api/v1/tickets/{id}/records): their types and required fields.'),
    store: storeSchema.default({}).describe('The ticket store (`<dataDir>/andon.sqlite`): how long closed tickets and audit rows are kept.'),
    forward: forwardSchema.optional().describe('Store-and-forward of every ticket version to a central ticket system; absent: tickets stay local.'),
  });

// `when: () => true`: report broken references even when other fields have problems too,
// so check-config shows everything in one run. The check therefore reads defensively.
export const configSchema = configObject.superRefine(checkReferences, { when: () => true }).superRefine(checkNatsGatewayId, { when: () => true });

type Loose = Record<string, unknown>;
const list = (v: unknown): Loose[] => (Array.isArray(v) ? v.filter((x): x is Loose => x !== null && typeof x === 'object') : []);
const record = (v: unknown): Loose => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : {});
const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Cross-references the field schemas cannot see: ids unique, channels, sources and faults defined. */
function checkReferences(value: unknown, ctx: z.RefinementCtx): void {
  const cfg = record(value);
  const dup = (where: string) => {
    const seen = new Set<unknown>();
    list(cfg[where]).forEach((x, i) => {
      if (typeof x.id === 'string' && seen.has(x.id)) issue(ctx, 'ANDON_CONFIG_DUPLICATE_ID', `${where} id "${x.id}" is used twice`, [where, i, 'id']);
      seen.add(x.id);
    });
  };
  dup('sources');
  dup('rules');
  const notify = record(cfg.notify);
  const channels = (where: string) =>
    list(cfg[where]).forEach((x, i) =>
      names(x.notify).forEach((n, j) => {
        if (!(n in notify)) issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `notify channel "${n}" is not defined under notify:`, [where, i, 'notify', j]);
      }),
    );
  channels('rules');
  channels('routing');
  channels('escalation');
  const sources = new Map(list(cfg.sources).map((x) => [x.id, x.type]));
  list(cfg.actions).forEach((a, i) => {
    const target = record(a.write).source;
    if (typeof target !== 'string') return;
    if (!sources.has(target)) {
      issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `action writes to source "${target}", which is not defined under sources:`, ['actions', i, 'write', 'source']);
    } else checkWrite(ctx, record(a.write), sources.get(target), ['actions', i, 'write']);
  });
  checkScheduleReferences(cfg, ctx);
  const knowledge = record(cfg.knowledge);
  if (knowledge.freeLabels !== true) {
    const allowed = new Set(names(knowledge.labels));
    list(cfg.rules).forEach((r, i) =>
      names(r.labels).forEach((l, j) => {
        if (!allowed.has(l)) issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `label "${l}" is not listed under knowledge.labels (or set knowledge.freeLabels: true)`, ['rules', i, 'labels', j]);
      }),
    );
  }
  const faults = new Set([...list(cfg.rules).map((r) => r.fault), 'alarm-flood']);
  list(record(cfg.correlation).causes).forEach((c, i) => {
    for (const k of ['effect', 'cause'] as const) {
      if (typeof c[k] === 'string' && !faults.has(c[k])) issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `correlation cause ${k} "${c[k]}" is no rule's fault`, ['correlation', 'causes', i, k]);
    }
  });
}

/** The keys a write needs per source type: what the connector's write() refuses at run time, refused here instead. */
const WRITE_KEYS: Record<string, { needs: string[]; other: string[] }> = {
  modbus: { needs: ['table', 'address'], other: ['nodeId', 'topic'] },
  opcua: { needs: ['nodeId'], other: ['table', 'address', 'topic'] },
  mqtt: { needs: ['topic'], other: ['nodeId', 'table', 'address'] },
};

/** An action's write fits its target source: a type that can write, with the keys that type needs. */
function checkWrite(ctx: z.RefinementCtx, write: Loose, type: unknown, path: (string | number)[]): void {
  const keys = typeof type === 'string' ? WRITE_KEYS[type] : undefined;
  if (!keys) {
    issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `source "${String(write.source)}" is of type ${String(type)}, which cannot write; an action writes to an opcua, modbus or mqtt source`, [...path, 'source']);
    return;
  }
  for (const k of keys.needs) if (write[k] === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', `a write to ${String(type)} source "${String(write.source)}" needs ${k}`, [...path, k]);
  for (const k of keys.other) if (write[k] !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `${k} does not apply to a write to ${String(type)} source "${String(write.source)}"`, [...path, k]);
  const { table, value, topic } = write;
  if (type === 'modbus' && table === 'coil' && typeof value !== 'boolean' && value !== 0 && value !== 1)
    issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `a coil takes true or false, not ${JSON.stringify(value)}`, [...path, 'value']);
  if (type === 'modbus' && table === 'holding' && !(typeof value === 'number' && Number.isInteger(value) && value >= -32768 && value <= 65535))
    issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `a holding register takes an integer -32768..65535, not ${JSON.stringify(value)}`, [...path, 'value']);
  if (type === 'modbus' && typeof write.address === 'number' && write.address > 65535) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `a modbus address is 0..65535`, [...path, 'address']);
  if (type === 'mqtt' && typeof topic === 'string' && /[+#]/.test(topic)) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `an MQTT write topic has no wildcards (+, #): "${topic}"`, [...path, 'topic']);
}

export type AndonConfig = z.output<typeof configSchema>;
export type RuleConfig = AndonConfig['rules'][number];
export type AssetConfig = AndonConfig['assets'][string];
export type EscalationConfig = AndonConfig['escalation'][number];
export type ForwardConfig = NonNullable<AndonConfig['forward']>;
export type NotifyChannelConfig = AndonConfig['notify'][string];
export type { DutyRole, SchedulesConfig } from './schedules.ts';
