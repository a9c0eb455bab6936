import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CORE_SCHEMA, load } from 'js-yaml';
import type { z } from 'zod';
import { AndonError, type ErrorCode } from '../model/errors.ts';
import { configSchema, type AndonConfig } from './schema.ts';

/** One thing wrong with a config: where, which code, and what to do. */
export interface ConfigProblem {
  path: string;
  code: ErrorCode;
  message: string;
}

/** Thrown by `loadConfig`; carries every problem found, not only the first. */
export class ConfigError extends AndonError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    const first = problems[0] as ConfigProblem;
    super(first.code, problems.map((p) => `${p.path || '(root)'}: ${p.code}: ${p.message}`).join('\n'), { path: first.path });
    this.problems = problems;
  }
}

/** `rules[2].when.for` from zod's `['rules', 2, 'when', 'for']`. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '');

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** No config is this deep; a deeper document is refused here instead of overflowing the stack on the way down. */
const MAX_DEPTH = 64;

/**
 * A copy of a YAML string value that does not point into the config's text. The yaml parser's
 * values are V8 slices of the whole file, so any value the gateway keeps (a tag name, a node id)
 * kept the whole text alive: 1 MiB of heap with the 10k-tag bench config, for as long as it ran.
 * V8 copies slices shorter than 13 characters anyway.
 */
const detach = (s: string): string => (s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string));

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value (never in keys or structure).
 * The default is for a variable that is not set at all; one that is set but empty is a mistake
 * (`ANDON_OPERATOR_TOKEN=` in a compose file), never a silent fall back to the default.
 */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: (string | number)[], problems: ConfigProblem[]): unknown {
  if (path.length > MAX_DEPTH && value !== null && typeof value === 'object') {
    problems.push({ path: formatPath(path.slice(0, 4)) + '...', code: 'ANDON_CONFIG_INVALID_VALUE', message: `nested more than ${MAX_DEPTH} levels deep` });
    return null;
  }
  if (typeof value === 'string') {
    return detach(value).replace(ENV_REF, (_, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (v === undefined && fallback !== undefined) return fallback;
      const message =
        v === undefined
          ? `environment variable ${name} is not set (write \${${name}:-default} for a default)`
          : `environment variable ${name} is set but empty; give it a value or unset it`;
      problems.push({ path: formatPath(path), code: 'ANDON_CONFIG_ENV', message });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i], problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k], problems)]));
  }
  return value;
}

function codeOf(i: z.core.$ZodIssue): ErrorCode {
  const custom = (i as { params?: { code?: string } }).params?.code;
  if (custom) return custom as ErrorCode;
  if (i.code === 'unrecognized_keys') return 'ANDON_CONFIG_UNKNOWN_KEY';
  if (i.code === 'invalid_type' && i.input === undefined) return 'ANDON_CONFIG_MISSING';
  return 'ANDON_CONFIG_INVALID_VALUE';
}

function toProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.flatMap((i): ConfigProblem[] => {
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ path: formatPath([...i.path, k]), code: 'ANDON_CONFIG_UNKNOWN_KEY', message: `unknown key "${k}"` }));
    }
    const code = codeOf(i);
    const message = code === 'ANDON_CONFIG_MISSING' ? 'is required' : i.message;
    return [{ path: formatPath(i.path), code, message }];
  });
}

/** Validates an already-parsed config object; returns the typed config with defaults, or every problem. */
export function validateConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): { config?: AndonConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const data = interpolate(raw, env, [], problems);
  const result = configSchema.safeParse(data, { reportInput: true });
  // A value whose variable is missing is reported once, as ANDON_CONFIG_ENV, not judged again as empty.
  const unfilled = new Set(problems.map((p) => p.path));
  if (!result.success) problems.push(...toProblems(result.error).filter((p) => !unfilled.has(p.path)));
  if (problems.length > 0) return { problems };
  return { config: result.data, problems };
}

/** Parses YAML text into a validated config; throws ConfigError with every problem. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env): AndonConfig {
  const { config, problems } = validateConfig(readYaml(text), env);
  if (!config) throw new ConfigError(problems);
  return config;
}

/**
 * The yaml package, loaded the first time a text needs it: js-yaml reads nearly every config, and the yaml
 * package's 84 modules cost every start (`andon start`, `replay`, `check`) ~45 ms and 0.5 MiB of heap.
 */
let yamlPackage: typeof import('yaml') | undefined;
// eslint-disable-next-line no-restricted-syntax -- resolves a package from this module, not a file that is not code
const yaml = () => (yamlPackage ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

/** An anchor (`&name`): the text may have aliases, which only the yaml package bounds ("billion laughs"). */
const ANCHOR = /&[^\s&]/;

/**
 * The config text as plain data; throws ConfigError (ANDON_CONFIG_YAML, with the line) when it is not YAML.
 * js-yaml with its core schema (the types of the yaml package's YAML 1.2 core: no dates, no merge keys)
 * reads it in one pass: at a 10k-item config (1 MiB) 64 ms and +10 MiB of RSS, against 677 ms and
 * +71 MiB for the yaml package's document, which was `andon start`'s highest RSS. The yaml package still
 * reads any text js-yaml refuses, for its errors with their lines, and any text with an anchor, for its
 * limit on aliases.
 */
export function readYaml(text: string): unknown {
  if (!ANCHOR.test(text)) {
    try {
      return load(text, { schema: CORE_SCHEMA }) ?? null;
    } catch {
      // the yaml package says what is wrong, and where
    }
  }
  const doc = yaml().parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '',
        code: 'ANDON_CONFIG_YAML',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  try {
    return doc.toJS();
  } catch (err) {
    // The yaml package refuses to expand an alias bomb ("billion laughs") here, with a ReferenceError.
    throw new ConfigError([{ path: '', code: 'ANDON_CONFIG_YAML', message: (err as Error).message }]);
  }
}

/** Reads and validates a config file. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): AndonConfig {
  return readConfigFile(file, env).config;
}

/**
 * Reads and validates a config file, and returns the sha256 (hex) of the bytes it was made from
 * (`andon_config_info{sha}`); throws ConfigError with every problem.
 */
export function readConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): { config: AndonConfig; sha: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ConfigError([{ path: '', code: 'ANDON_CONFIG_FILE', message: `cannot read ${file}: ${(err as Error).message}` }]);
  }
  return { config: parseConfig(bytes.toString('utf8'), env), sha: createHash('sha256').update(bytes).digest('hex') };
}
