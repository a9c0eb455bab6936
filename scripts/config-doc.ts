import { z } from 'zod';
import { formatDuration } from '../config/duration.ts';

/**
 * Renders the config reference (docs/config.md) from the zod schema itself, so
 * the reference cannot drift from what `loadConfig` accepts. Descriptions come
 * from `.describe()` on the schema fields; value kinds (duration, tag pattern,
 * id) from `.meta({ kind })` in config/types.ts.
 */

type Schema = z.core.$ZodType;
type Loose = Record<string, unknown>;

/** One documented key. */
export interface Field {
  path: string;
  type: string;
  required: boolean;
  default?: string;
  allowed?: string;
  description?: string;
}

/** A group of keys under one heading (a top-level key, or one variant of a union). */
export interface Section {
  title: string;
  level: number;
  description?: string;
  fields: Field[];
}

/** The value kinds the schema marks with `.meta({ kind })`, explained once at the top of the doc. */
export const KINDS: Record<string, string> = {
  duration: '`250ms`, `30s`, `10m`, `4h`, `1d`, `1w` (decimals allowed: `1.5h`); `0s` where zero makes sense.',
  'tag pattern': 'Slash-separated tag path; `*` matches one segment, `**` any number (`packaging/*/alarm/**`).',
  id: 'Letters, digits, `.`, `_` and `-`, starting with a letter or digit (`sealer-01`).',
  'time of day': 'A local time `HH:MM` (`06:00`, `22:30`) in `gateway.timezone`.',
  date: 'A local calendar date `YYYY-MM-DD` (`2026-03-02`) in `gateway.timezone`.',
  mapping: 'MQTT JSON mapping: a JSON path (`$.data.v`), a template (`packaging/{1}/alarm/{code}`), or a JSONata expression `{ jsonata: \'$sum(readings.v)\' }` with `$topic` and `$captures` (compiled at load; a bad one is `ANDON_CONFIG_INVALID_EXPRESSION` with its position). See [connectors/mqtt/README.md](../connectors/mqtt/README.md#jsonata-expressions).',
};

const def = (s: Schema) => s._zod.def as unknown as Loose & { type: string };

/** What the checks of a schema allow: bounds, lengths, formats, patterns. */
interface Limits {
  min?: number;
  max?: number;
  exclusiveMin?: number;
  minLength?: number;
  int?: boolean;
  format?: string;
  patterns: RegExp[];
}
function limits(s: Schema): Limits {
  const d = def(s);
  const l: Limits = { patterns: [], ...(typeof d.format === 'string' ? { format: d.format } : {}) };
  for (const c of (d.checks as Schema[] | undefined) ?? []) {
    const cd = def(c) as unknown as { check: string; value?: number; inclusive?: boolean; minimum?: number; format?: string; pattern?: RegExp };
    if (cd.check === 'number_format') l.int = (cd.format ?? '').includes('int');
    else if (cd.check === 'greater_than' && cd.inclusive) l.min = cd.value as number;
    else if (cd.check === 'greater_than') l.exclusiveMin = cd.value as number;
    else if (cd.check === 'less_than') l.max = cd.value as number;
    else if (cd.check === 'min_length') l.minLength = cd.minimum as number;
    else if (cd.check === 'string_format' && cd.pattern) l.patterns.push(cd.pattern);
  }
  return l;
}
const metaOf = (s: Schema) => (z.globalRegistry.get(s) ?? {}) as { description?: string; kind?: string; defaultText?: string };

interface Unwrapped {
  core: Schema;
  optional: boolean;
  hasDefault: boolean;
  defaultValue?: unknown;
  description?: string;
  kind?: string;
  /** `.meta({ defaultText })`: the default applied outside the schema (by the code that reads the key). */
  defaultText?: string;
}

/** Peels default/optional/pipe wrappers, keeping the outermost description and the kind. */
function unwrap(schema: Schema): Unwrapped {
  const u: Unwrapped = { core: schema, optional: false, hasDefault: false };
  let s = schema;
  for (;;) {
    const m = metaOf(s);
    u.description ??= m.description;
    u.defaultText ??= m.defaultText;
    if (m.kind) {
      u.kind ??= m.kind;
      break;
    }
    const d = def(s);
    if (d.type === 'default' || d.type === 'prefault') {
      if (!u.hasDefault) u.defaultValue = d.defaultValue;
      u.hasDefault = true;
      s = d.innerType as Schema;
    } else if (d.type === 'optional') {
      u.optional = true;
      s = d.innerType as Schema;
    } else if (d.type === 'nullable' || d.type === 'readonly' || d.type === 'catch' || d.type === 'nonoptional') {
      s = d.innerType as Schema;
    } else if (d.type === 'pipe') {
      s = d.in as Schema;
    } else break;
  }
  u.core = s;
  return u;
}

const code = (v: string) => '`' + v.replace(/\|/g, '\\|') + '`';
const BIG = Number.MAX_SAFE_INTEGER;

/** A default (or any config value) written the way a person writes it in YAML. */
export function formatValue(schema: Schema, value: unknown): string {
  const u = unwrap(schema);
  const d = def(u.core);
  if (u.kind === 'duration' && typeof value === 'number') return formatDuration(value);
  if (Array.isArray(value)) return `[${value.map((v) => (d.type === 'array' ? formatValue(d.element as Schema, v) : JSON.stringify(v))).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Loose);
    if (entries.length === 0) return '{}';
    const fieldSchema = (k: string): Schema | undefined =>
      d.type === 'object' ? (d.shape as Record<string, Schema>)[k] : d.type === 'record' ? (d.valueType as Schema) : undefined;
    return `{ ${entries.map(([k, v]) => `${k}: ${fieldSchema(k) ? formatValue(fieldSchema(k) as Schema, v) : JSON.stringify(v)}`).join(', ')} }`;
  }
  return String(value);
}

function numberRange(l: Limits): string | undefined {
  const min = l.min !== undefined && l.min > -BIG ? l.min : undefined;
  const max = l.max !== undefined && l.max < BIG ? l.max : undefined;
  const exMin = l.exclusiveMin;
  if (min !== undefined && max !== undefined) return `${min}..${max}`;
  if (exMin !== undefined) return `> ${exMin}`;
  if (min !== undefined) return `≥ ${min}`;
  if (max !== undefined) return `≤ ${max}`;
  return undefined;
}

/** Type and allowed values of a schema with its wrappers removed. */
function describeType(u: Unwrapped): { type: string; allowed?: string } {
  if (u.kind) return { type: u.kind };
  const s = u.core;
  const d = def(s);
  const l = limits(s);
  switch (d.type) {
    case 'string': {
      const allowed: string[] = [];
      if (l.minLength !== undefined) allowed.push(l.minLength === 1 ? 'non-empty' : `at least ${l.minLength} characters`);
      for (const p of l.patterns) allowed.push(`matches ${code(p.source)}`);
      const type = l.format === 'url' ? 'URL' : 'string';
      return allowed.length ? { type, allowed: allowed.join('; ') } : { type };
    }
    case 'number': {
      const int = l.int === true;
      const range = numberRange(l);
      return range ? { type: int ? 'integer' : 'number', allowed: range } : { type: int ? 'integer' : 'number' };
    }
    case 'boolean':
      return { type: 'boolean' };
    case 'enum':
      return {
        type: 'enum',
        allowed: Object.values(d.entries as Loose)
          .map((v) => code(String(v)))
          .join(', '),
      };
    case 'literal':
      return { type: 'literal', allowed: (d.values as unknown[]).map((v) => code(String(v))).join(', ') };
    case 'union': {
      const parts = (d.options as Schema[]).map((o) => describeType(unwrap(o)));
      // One value or a list of them (`match` keys): said once.
      const [one, many] = parts;
      if (parts.length === 2 && one && many?.type === `list of ${one.type}`) return { type: `${one.type} or list of ${one.type}`, ...(one.allowed ? { allowed: one.allowed } : {}) };
      if (parts.every((p) => p.type === 'enum' || p.type === 'literal')) return { type: 'enum', allowed: parts.map((p) => p.allowed).join(', ') };
      const type = [...new Set(parts.map((p) => (p.type === 'enum' || p.type === 'literal' ? 'string' : p.type)))].join(' or ');
      const allowed = parts.map((p) => (p.type === 'enum' || p.type === 'literal' ? p.allowed : (p.allowed ?? `a ${p.type}`))).join(', or ');
      return parts.some((p) => p.allowed || p.type === 'enum' || p.type === 'literal') ? { type, allowed } : { type };
    }
    case 'array': {
      const inner = describeType(unwrap(d.element as Schema));
      const min = l.minLength !== undefined ? `at least ${l.minLength}` : undefined;
      const allowed = [min, inner.allowed].filter(Boolean).join('; ');
      return allowed ? { type: `list of ${inner.type}`, allowed } : { type: `list of ${inner.type}` };
    }
    case 'record': {
      const inner = describeType(unwrap(d.valueType as Schema));
      return inner.allowed ? { type: `map of ${inner.type}`, allowed: inner.allowed } : { type: `map of ${inner.type}` };
    }
    case 'object':
      return { type: 'object' };
    default:
      return { type: d.type };
  }
}

/** Depth-first walk that fills sections; a discriminated union opens one section per variant. */
class Walker {
  readonly sections: Section[] = [];

  section(title: string, level: number, description?: string): Section {
    const s: Section = { title, level, fields: [], ...(description ? { description } : {}) };
    this.sections.push(s);
    return s;
  }

  field(into: Section, path: string, schema: Schema, level: number): void {
    const u = unwrap(schema);
    const d = def(u.core);
    const { type, allowed } = describeType(u);
    const isVariantUnion = d.type === 'union' && typeof d.discriminator === 'string';
    const elem = d.type === 'array' ? unwrap(d.element as Schema) : undefined;
    const variants = isVariantUnion ? u : elem && def(elem.core).type === 'union' && typeof def(elem.core).discriminator === 'string' ? elem : undefined;
    const row: Field = { path, type: variants ? (d.type === 'array' ? 'list of objects' : 'object') : type, required: !u.optional && !u.hasDefault };
    if (u.hasDefault) row.default = this.defaultText(schema, u);
    else if (u.defaultText !== undefined) row.default = code(u.defaultText);
    if (allowed && !variants) row.allowed = allowed;
    if (u.description) row.description = u.description;
    into.fields.push(row);

    if (variants) {
      const vd = def(variants.core);
      const key = vd.discriminator as string;
      const base = d.type === 'array' ? `${path}[]` : path;
      for (const option of vd.options as Schema[]) {
        const ou = unwrap(option);
        const shape = def(ou.core).shape as Record<string, Schema>;
        const tag = (def(unwrap(shape[key] as Schema).core).values as unknown[])[0];
        const sec = this.section(`${base} with ${key}: ${String(tag)}`, level + 1, ou.description);
        for (const [k, v] of Object.entries(shape)) this.field(sec, `${base}.${k}`, v, level + 1);
      }
      return;
    }
    if (d.type === 'object') this.object(into, path, u.core, level);
    else if (d.type === 'record') this.nested(into, `${path}.<name>`, d.valueType as Schema, level);
    else if (d.type === 'array') this.nested(into, `${path}[]`, d.element as Schema, level);
  }

  /** Recurses into the element of a list or map when it is an object. */
  nested(into: Section, path: string, schema: Schema, level: number): void {
    const u = unwrap(schema);
    if (def(u.core).type === 'object') this.object(into, path, u.core, level);
  }

  object(into: Section, path: string, schema: Schema, level: number): void {
    for (const [k, v] of Object.entries(def(schema).shape as Record<string, Schema>)) this.field(into, `${path}.${k}`, v, level);
  }

  defaultText(schema: Schema, u: Unwrapped): string {
    const v = u.defaultValue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && def(u.core).type === 'object') {
      // An object whose default is what its fields' own defaults give: say so rather than repeat them.
      const fromFields = (u.core as z.ZodType).safeParse({});
      if (fromFields.success && JSON.stringify(fromFields.data) === JSON.stringify(v)) return 'fields\u2019 defaults';
    }
    return code(formatValue(schema, v));
  }
}

/** Walks the root object: one section per top-level key, in schema order. */
export function configSections(root: Schema): Section[] {
  const w = new Walker();
  const u = unwrap(root);
  for (const [k, v] of Object.entries(def(u.core).shape as Record<string, Schema>)) {
    const sec = w.section(k, 2, unwrap(v).description);
    w.field(sec, k, v, 2);
  }
  return w.sections;
}

/** Keys without a description, so a test can insist every field is explained. */
export const undocumented = (sections: Section[]): string[] => sections.flatMap((s) => s.fields.filter((f) => !f.description).map((f) => f.path));

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
const cellCode = (s: string) => s.replace(/\n+/g, ' ');

/** The whole docs/config.md text. */
export function renderConfigDoc(root: Schema, header: string): string {
  const sections = configSections(root);
  const out: string[] = [header.trimEnd(), ''];
  out.push('## Value kinds', '', '| kind | written as |', '|---|---|');
  for (const [k, v] of Object.entries(KINDS)) out.push(`| ${k} | ${v} |`);
  out.push('');
  out.push('## Contents', '');
  for (const s of sections) if (s.level === 2) out.push(`- [\`${s.title}\`](#${s.title.toLowerCase()})`);
  out.push('');
  for (const s of sections) {
    out.push(`${'#'.repeat(s.level)} ${s.title}`, '');
    if (s.description) out.push(s.description, '');
    out.push('| key | type | default | allowed | description |', '|---|---|---|---|---|');
    for (const f of s.fields) {
      const dflt = f.required ? '**required**' : (f.default ?? '—');
      // The section's own key repeats the paragraph above the table: leave its cell short.
      const text = f.description === s.description && f.path === s.title ? '(above)' : (f.description ?? '');
      out.push(`| ${code(f.path)} | ${cell(f.type)} | ${cellCode(dflt)} | ${cellCode(f.allowed ?? '')} | ${cell(text)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
