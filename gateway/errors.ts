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
  ANDON_CONFIG_ENV: { status: 400, retryable: false, description: 'A ${VAR} in the config names an unset environment variable and has no default.' },
  ANDON_CONFIG_UNKNOWN_KEY: { status: 400, retryable: false, description: 'A key the schema does not know (often a typo).' },
  ANDON_CONFIG_MISSING: { status: 400, retryable: false, description: 'A required key is missing.' },
  ANDON_CONFIG_INVALID_VALUE: { status: 400, retryable: false, description: 'A value has the wrong type or is out of range.' },
  ANDON_CONFIG_INVALID_DURATION: { status: 400, retryable: false, description: 'A duration is not like 250ms, 30s, 10m, 4h or 1d.' },
  ANDON_CONFIG_INVALID_PATTERN: { status: 400, retryable: false, description: 'A tag pattern is malformed (use / segments, * for one segment, ** for any number).' },
  ANDON_CONFIG_INVALID_TIMEZONE: { status: 400, retryable: false, description: 'The timezone is not an IANA name known to this Node.js.' },
  ANDON_CONFIG_UNKNOWN_REFERENCE: { status: 400, retryable: false, description: 'A reference (notify channel, source, fault) names nothing defined.' },
  ANDON_CONFIG_DUPLICATE_ID: { status: 400, retryable: false, description: 'Two entries share one id.' },
  ANDON_CONFIG_INVALID_RULE: { status: 400, retryable: false, description: 'A rule condition is contradictory or incomplete.' },

  ANDON_TICKET_NOT_FOUND: { status: 404, retryable: false, description: 'No ticket with that id (or no live ticket with that key).' },
  ANDON_TICKET_ILLEGAL_TRANSITION: { status: 409, retryable: false, description: 'The action is not allowed in the ticket\'s current state.' },
  ANDON_TICKET_FIELD_REQUIRED: { status: 422, retryable: false, description: 'The action needs a field that is missing.' },
  ANDON_TICKET_INVALID_FIELD: { status: 422, retryable: false, description: 'A field of the action has an invalid value.' },
  ANDON_TICKET_UNKNOWN_ACTION: { status: 400, retryable: false, description: 'The action is not a lifecycle action.' },
  ANDON_TICKET_CONFLICT: { status: 409, retryable: true, description: 'Another writer changed the ticket at the same time; retry.' },

  ANDON_STORE_UNAVAILABLE: { status: 503, retryable: true, description: 'The ticket store cannot be opened or written.' },

  ANDON_REPLAY_INPUT: { status: 400, retryable: false, description: 'A replay input line is not a valid record.' },
  ANDON_SIGNAL_INVALID: { status: 400, retryable: false, description: 'A signal does not match the Signal schema.' },
  ANDON_REQUEST_INVALID: { status: 400, retryable: false, description: 'The request body, query or parameters do not match the API schema.' },
  ANDON_REQUEST_TOO_LARGE: { status: 413, retryable: false, description: 'The request body is larger than gateway.http.bodyLimit.' },
  ANDON_ROUTE_NOT_FOUND: { status: 404, retryable: false, description: 'No such API route.' },
  ANDON_AUTH_REQUIRED: { status: 401, retryable: false, description: 'A bearer token is required.' },
  ANDON_AUTH_FORBIDDEN: { status: 403, retryable: false, description: 'The token\'s role may not do this.' },
  ANDON_INTERNAL: { status: 500, retryable: true, description: 'An unexpected error; the log has the details.' },
  ANDON_CLI_USAGE: { status: 400, retryable: false, description: 'The command line is incomplete or wrong.' },
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
