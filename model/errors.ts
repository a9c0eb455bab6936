/**
 * The one catalogue of Andon's errors. Every error that leaves a module carries
 * a stable code from here; the API answers `{ code, message }` with its status.
 */
export interface ErrorSpec {
  /** HTTP status when this error reaches an API client. */
  status: number;
  /** Whether retrying the same request later can succeed. */
  retryable: boolean;
  /** What the code means, for docs and `andon --help`. */
  description: string;
}

export const ERRORS = {
  ANDON_CONFIG_FILE: { status: 400, retryable: false, description: 'The config file cannot be read.' },
  ANDON_CONFIG_YAML: { status: 400, retryable: false, description: 'The config file is not valid YAML.' },
  ANDON_CONFIG_ENV: { status: 400, retryable: false, description: 'A ${VAR} in the config names an environment variable that is unset (and the reference has no default) or set but empty (a default does not apply then).' },
  ANDON_CONFIG_UNKNOWN_KEY: { status: 400, retryable: false, description: 'A key the schema does not know (often a typo).' },
  ANDON_CONFIG_MISSING: { status: 400, retryable: false, description: 'A required key is missing.' },
  ANDON_CONFIG_INVALID_VALUE: { status: 400, retryable: false, description: 'A value has the wrong type or is out of range.' },
  ANDON_CONFIG_INVALID_DURATION: { status: 400, retryable: false, description: 'A duration is not like 250ms, 30s, 10m, 4h or 1d.' },
  ANDON_CONFIG_INVALID_PATTERN: { status: 400, retryable: false, description: 'A tag pattern is malformed (use / segments, * for one segment, ** for any number).' },
  ANDON_CONFIG_INVALID_TIMEZONE: { status: 400, retryable: false, description: 'The timezone is not an IANA name known to this Node.js.' },
  ANDON_CONFIG_UNKNOWN_REFERENCE: { status: 400, retryable: false, description: 'A reference (notify channel, source, fault) names nothing defined.' },
  ANDON_CONFIG_DUPLICATE_ID: { status: 400, retryable: false, description: 'Two entries share one id.' },
  ANDON_CONFIG_INVALID_RULE: { status: 400, retryable: false, description: 'A rule condition is contradictory or incomplete.' },
  ANDON_CONFIG_WEAK_TOKEN: { status: 400, retryable: false, description: 'A bearer token is shorter than 16 characters, or is a placeholder (change-me-*, demo-*) while gateway.http.host is not a loopback address. Set a real one, e.g. from openssl rand -hex 24.' },
  ANDON_CONFIG_SECRET_IN_URL: { status: 400, retryable: false, description: 'A forward or notify URL carries user:password@. Put the credential in forward.token or in the channel\'s headers; robot keys in the query (key=, access_token=) stay allowed and are shown as ***.' },
  ANDON_CONFIG_INVALID_EXPRESSION: { status: 400, retryable: false, description: 'A JSONata mapping expression (`{ jsonata: ... }` of an MQTT JSON subscription) does not compile; the message gives the character position (0-based) and JSONata\'s reason and code.' },

  ANDON_RELOAD_INVALID: { status: 422, retryable: false, description: 'A config reload (SIGHUP, POST /api/v1/admin/reload) found problems in the file (every one is listed, as `andon check-config` prints them: `path: CODE: message`), or a changed source\'s connector or the forward sink refused it. Nothing of the new file is applied; the running config stays. Fix the file and reload again.' },
  ANDON_RELOAD_RESTART_REQUIRED: { status: 409, retryable: false, description: 'A config reload changes keys that only a restart can apply (gateway.id, timezone, maxClockSkew, dataDir, gateway.http.*, gateway.auth.anonymousRead; the message names them). Nothing of the new file is applied; restart the gateway to apply it, or put the keys back and reload.' },
  ANDON_RELOAD_UNAVAILABLE: { status: 409, retryable: false, description: 'This gateway was started without a config file (the demo, an embedded gateway), so there is nothing to read again.' },

  ANDON_TICKET_NOT_FOUND: { status: 404, retryable: false, description: 'No ticket with that id (or no live ticket with that key).' },
  ANDON_TICKET_ILLEGAL_TRANSITION: { status: 409, retryable: false, description: 'The action is not allowed in the ticket\'s current state.' },
  ANDON_TICKET_FIELD_REQUIRED: { status: 422, retryable: false, description: 'The action needs a field that is missing.' },
  ANDON_TICKET_INVALID_FIELD: { status: 422, retryable: false, description: 'A field of the action has an invalid value.' },
  ANDON_TICKET_UNKNOWN_ACTION: { status: 400, retryable: false, description: 'The action is not a lifecycle action.' },
  ANDON_TICKET_CONFLICT: { status: 409, retryable: true, description: 'Another writer changed the ticket at the same time; retry.' },
  ANDON_TICKET_ACCEPTANCE_REQUIRED: { status: 422, retryable: false, description: 'close of a ticket whose priority is in lifecycle.requireAcceptance needs an `acceptance` record with result `passed` (POST /api/v1/tickets/{id}/records) first.' },

  ANDON_KNOWLEDGE_UNKNOWN_LABEL: { status: 422, retryable: false, description: 'A knowledge entry (resolve with `knowledge`) names a label that is not in knowledge.labels, and knowledge.freeLabels is off. Use a configured label, or add it to knowledge.labels and reload.' },

  ANDON_RECORD_UNKNOWN_TYPE: { status: 422, retryable: false, description: 'POST /api/v1/tickets/{id}/records names a record type that is not in records.types (by default parts-request and acceptance).' },
  ANDON_RECORD_FIELD_REQUIRED: { status: 422, retryable: false, description: 'The record lacks a field its type requires (records.types[].fields[].required); `path` names it (`fields.expectedArrival`, `items[0].quantity`).' },
  ANDON_RECORD_INVALID_FIELD: { status: 422, retryable: false, description: 'A field of the record has a wrong value or is not a field of its type (a date that is not ISO 8601, a URL that is not http(s), a quantity that is not positive, result not passed or failed); `path` names it.' },
  ANDON_RECORD_NOT_FOUND: { status: 404, retryable: false, description: 'The ticket has no record with that id (POST /api/v1/tickets/{id}/records/{record}/items).' },
  ANDON_RECORD_LIMIT: { status: 422, retryable: false, description: 'The ticket already holds 50 records, the most a ticket keeps.' },

  ANDON_STORE_UNAVAILABLE: { status: 503, retryable: true, description: 'The ticket store cannot be opened or written: its directory cannot be created or written, a file of it (andon.sqlite, -wal, -shm) is not writable, the disk is full or read-only. The message names the path; fix the permissions or the mount and start again. While running, changes are held in memory (andon_changes_held) and retried.' },
  ANDON_STORE_CORRUPT: { status: 503, retryable: false, description: 'The ticket store file failed its integrity check (PRAGMA quick_check) or is not a SQLite database; the gateway does not start on it. Stop the gateway, move andon.sqlite and its -wal and -shm aside, and restore a backup (`andon backup`) into gateway.dataDir, or start with an empty store.' },
  ANDON_STORE_BACKUP_FAILED: { status: 500, retryable: true, description: '`andon backup` could not copy the ticket store (the source cannot be opened, the target cannot be written, or the copy failed its integrity check); nothing is left at the target.' },

  ANDON_REPLAY_INPUT: { status: 400, retryable: false, description: 'The replay input file cannot be read (andon replay exits 1), or a line of it is not a valid record (counted in the summary and skipped).' },
  ANDON_SIGNAL_INVALID: { status: 400, retryable: false, description: 'A signal does not match the Signal schema.' },
  ANDON_REQUEST_INVALID: { status: 400, retryable: false, description: 'The request body, query or parameters do not match the API schema.' },
  ANDON_REQUEST_TOO_LARGE: { status: 413, retryable: false, description: 'The request body is larger than gateway.http.bodyLimit (gateway.http.signalBodyLimit for POST /api/v1/signals): send less, or signals in smaller batches.' },
  ANDON_REQUEST_MEDIA_TYPE: { status: 415, retryable: false, description: 'The request body is not of a media type the API takes (send Content-Type: application/json).' },
  ANDON_ROUTE_NOT_FOUND: { status: 404, retryable: false, description: 'No such API route.' },
  ANDON_AUTH_REQUIRED: { status: 401, retryable: false, description: 'A bearer token is required.' },
  ANDON_AUTH_FORBIDDEN: { status: 403, retryable: false, description: 'The token\'s role may not do this.' },
  ANDON_AUTH_OIDC_UNAVAILABLE: {
    status: 503,
    retryable: true,
    description:
      'Personal sign-in cannot reach the identity provider (gateway.auth.oidc.issuer: unreachable, not an OpenID provider, or a timeout); bearer tokens keep working. Each sign-in tries again; the log and andon_oidc_up say more.',
  },
  ANDON_AUTH_OIDC_NOT_CONFIGURED: { status: 404, retryable: false, description: 'Personal sign-in is not configured (gateway.auth.oidc); use a bearer token.' },
  ANDON_AUTH_SIGN_IN_FAILED: {
    status: 401,
    retryable: false,
    description: 'A sign-in did not complete: the provider answered with an error (refused consent), the callback did not match the sign-in this browser started (state, expired after 10 minutes), or the code exchange or ID token check failed. Sign in again.',
  },
  ANDON_AUTH_NO_ROLE: { status: 403, retryable: false, description: 'The person signed in at the provider, but no value of gateway.auth.oidc.roleClaim is in roleMap: they get no role. Add their group to roleMap.' },
  ANDON_AUTH_CSRF: {
    status: 403,
    retryable: false,
    description: 'A request that changes something with a session cookie lacks the X-Andon-CSRF header of its session (GET /api/v1/me gives it): a page of another site cannot act in the person\'s name.',
  },
  ANDON_INTERNAL: { status: 500, retryable: true, description: 'An unexpected error; the log has the details.' },
  ANDON_CLI_USAGE: { status: 400, retryable: false, description: 'The command line is incomplete or wrong.' },
  ANDON_HTTP_LISTEN: { status: 500, retryable: true, description: 'The HTTP server cannot listen on gateway.http.host and port (in use, not permitted, no such address); the gateway does not start and stops what it had started.' },

  ANDON_OPCUA_CONNECT_FAILED: { status: 503, retryable: true, description: 'The OPC UA server cannot be reached (refused, unknown host, timeout); the connector retries with backoff.' },
  ANDON_OPCUA_ENDPOINT_INVALID: { status: 502, retryable: false, description: 'The OPC UA server offers no endpoint for the configured URL, security mode and policy.' },
  ANDON_OPCUA_CERTIFICATE_REJECTED: { status: 502, retryable: false, description: 'The OPC UA server rejected our client certificate, or we do not trust its certificate (see <dataDir>/opcua/pki/<source>/rejected).' },
  ANDON_OPCUA_USER_REJECTED: { status: 502, retryable: false, description: 'The OPC UA server refused the configured identity (user name/password or certificate).' },
  ANDON_OPCUA_SESSION_FAILED: { status: 503, retryable: true, description: 'An OPC UA session or subscription could not be created or restored; the connector rebuilds it.' },
  ANDON_OPCUA_SUBSCRIPTION_SILENT: { status: 503, retryable: true, description: 'An OPC UA subscription sent neither data nor keep-alive for three keep-alive intervals; the connector rebuilt the connection.' },
  ANDON_OPCUA_ITEM_FAILED: { status: 502, retryable: false, description: 'The OPC UA server refused a monitored item (unknown node id, deadband on a non-numeric node, notifier that is not an event source); the source is degraded.' },
  ANDON_OPCUA_NOT_CONNECTED: { status: 503, retryable: true, description: 'The OPC UA source has no session right now; the write or acknowledge was not sent.' },
  ANDON_OPCUA_TIMEOUT: { status: 504, retryable: true, description: 'The OPC UA server did not answer in time; the outcome of the write or acknowledge is unknown.' },
  ANDON_OPCUA_WRITE_FAILED: { status: 502, retryable: false, description: 'The OPC UA server refused a write (bad status code), or the value does not fit the node\'s data type.' },
  ANDON_OPCUA_UNKNOWN_CONDITION: { status: 404, retryable: false, description: 'No OPC UA event has been received for that asset and condition, so there is nothing to acknowledge.' },
  ANDON_OPCUA_ACK_FAILED: { status: 502, retryable: false, description: 'The OPC UA server refused to acknowledge the condition (bad status code).' },

  ANDON_MODBUS_UNREACHABLE: { status: 503, retryable: true, description: 'The Modbus device cannot be reached: TCP connect or serial open failed, or the connection dropped.' },
  ANDON_MODBUS_TIMEOUT: { status: 504, retryable: true, description: 'The Modbus device did not answer within the source timeout; the request was abandoned.' },
  ANDON_MODBUS_EXCEPTION: { status: 502, retryable: false, description: 'The Modbus device answered with an exception (illegal function, illegal data address or value, device failure).' },
  ANDON_MODBUS_DOWN: { status: 503, retryable: true, description: 'The Modbus source is down (or stopped); the write was not attempted.' },
  ANDON_MODBUS_WRITE_INVALID: { status: 400, retryable: false, description: 'A Modbus write needs table coil (boolean) or holding (integer -32768..65535) and an address.' },

  ANDON_MQTT_TLS_FILE: { status: 400, retryable: false, description: 'A TLS file (tls.ca, tls.cert, tls.key) of an MQTT source cannot be read.' },
  ANDON_MQTT_NOT_CONNECTED: { status: 503, retryable: true, description: 'The MQTT source is not connected to its broker (or stopped); the publish was not sent.' },
  ANDON_MQTT_WRITE_INVALID: { status: 400, retryable: false, description: 'An MQTT write needs a topic without wildcards (+, #).' },
  ANDON_MQTT_WRITE_FAILED: { status: 502, retryable: true, description: 'The MQTT broker refused the publish or did not acknowledge it in time; it may still be delivered after a reconnect.' },
  ANDON_MQTT_EXPRESSION_FAILED: { status: 422, retryable: false, description: 'A JSONata mapping expression failed on one payload item (a type error, a function error, or it ran over its limits: 1 s, depth 200, 10,000 items). The item is refused (andon_signals_rejected_total{reason="expression"}); the others go on.' },
  ANDON_MQTT_DELIVERY_FAILED: { status: 503, retryable: true, description: 'Signals of an MQTT message could not be handed to the gateway; the message was left unacknowledged and the broker redelivers it after a reconnect.' },

  ANDON_FORWARD_SINK_UNAVAILABLE: { status: 500, retryable: false, description: 'The sink for forward.type cannot be loaded (for rt: gateway/forward/rt is missing or exports no createRtSink); the gateway does not start.' },
  ANDON_FORWARD_RETRY: { status: 503, retryable: true, description: 'Central did not take a ticket version now (5xx, 408, 429, timeout, connection error); the forwarder backs off (per ticket, full jitter) and tries again, honouring Retry-After.' },
  ANDON_FORWARD_POISON: { status: 502, retryable: false, description: 'Central refused a ticket version (4xx other than 408, 409, 429); the ticket\'s outbox rows are parked (andon outbox, andon_outbox_parked) until `andon outbox retry` or POST /api/v1/outbox/:ticketId/retry.' },
  ANDON_FORWARD_DOWN: { status: 503, retryable: true, description: 'The forward sink cannot deliver now (nats: the cluster is unreachable, refuses the credentials, or the stream is missing or does not take <subjectPrefix>.<gateway id>.>; also a de-duplication window shorter than the longest retry, as a warning). Versions wait in the outbox; andon_forward_up{sink} is 0; the sink looks again every forward.checkInterval.' },
  ANDON_FORWARD_NOT_PARKED: { status: 404, retryable: false, description: 'The ticket has no parked outbox rows to retry.' },
  ANDON_FORWARD_SYNC_INVALID_TIME: { status: 422, retryable: false, description: 'A change from central has an `at` that is not a time: not epoch ms or ISO 8601, not a representable date, or before 2000-01-01. The change is refused (kept in sync_log, counted as refused) and the changes after it are applied; an `at` ahead of the gateway clock is taken as now.' },
  ANDON_FORWARD_SYNC_NOT_ALLOWED: { status: 409, retryable: false, description: 'A change from central is not a lifecycle action: central owns assignment and human states, the gateway occurrences, condition and detection fields. The change is kept in sync_log.' },

  ANDON_NOTIFY_RETRY: { status: 503, retryable: true, description: 'A notification receiver did not take a message now (5xx, 408, 429, a robot\'s rate-limit errcode, timeout, connection error); the channel backs off (full jitter, Retry-After honoured) and tries again, in order.' },
  ANDON_NOTIFY_REFUSED: { status: 502, retryable: false, description: 'A notification receiver refused a message (other 4xx, or a WeCom/DingTalk errcode such as an invalid key); the message is parked (GET /api/v1/notifications?state=parked) until POST /api/v1/notifications/:id/retry.' },
  ANDON_NOTIFY_EXPIRED: { status: 504, retryable: false, description: 'A notification was not delivered within its channel\'s maxAge of its event (still failing, or the gateway was down that long); it is parked, not sent, until POST /api/v1/notifications/:id/retry.' },
  ANDON_NOTIFY_UNKNOWN_CHANNEL: { status: 409, retryable: false, description: 'A queued notification names a channel that is no longer under notify: in the config; it is parked (and cannot be retried until the channel is configured again).' },
  ANDON_NOTIFY_NOT_PARKED: { status: 404, retryable: false, description: 'No parked notification with that id.' },

  ANDON_ONCALL_UNKNOWN_GROUP: { status: 404, retryable: false, description: 'GET /api/v1/oncall?group= names a group that has no schedule under schedules.groups.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class AndonError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Where the problem is (config path like `rules[2].when.for`, field name, ...). */
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { path?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AndonError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryable = ERRORS[code].retryable;
    this.path = opts.path;
  }

  toJSON(): { code: ErrorCode; message: string; path?: string } {
    return this.path === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, path: this.path };
  }
}

export const isAndonError = (e: unknown): e is AndonError => e instanceof AndonError;
