import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { patternProblem } from './pattern.ts';
import { PRIORITIES } from '../model/ticket.ts';

/**
 * Shared schema pieces: every custom issue carries its ANDON_CONFIG_* code in `params.code`.
 * `.meta({ kind })` names a value kind for the generated config reference (scripts/config-doc.ts).
 */
export const issue = (ctx: z.RefinementCtx, code: string, message: string, path: (string | number)[] = []) =>
  ctx.addIssue({ code: 'custom', message, path, params: { code } });

/**
 * Zone names that are UTC itself: wall time is UTC time, so no zone data is needed. A gateway on UTC
 * then never loads Intl's time zone data (~6.5 MiB of the node binary's ICU pages, resident for good).
 */
export const isUtcZone = (timezone: string): boolean => timezone === 'UTC' || timezone === 'Etc/UTC';

/** A duration string (`250ms`, `30s`, `10m`, `4h`, `1d`) parsed to milliseconds. */
export const duration = () =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      issue(ctx, 'ANDON_CONFIG_INVALID_DURATION', `"${text}" is not a duration; write e.g. 250ms, 30s, 10m, 4h or 1d`);
      return z.NEVER;
    }
    return ms;
  })
  .meta({ kind: 'duration' });

/** A tag pattern (`packaging/*\/alarm/**`). */
export const tagPattern = () =>
  z.string().superRefine((text, ctx) => {
    const problem = patternProblem(text);
    if (problem) issue(ctx, 'ANDON_CONFIG_INVALID_PATTERN', `tag pattern "${text}" ${problem}`);
  })
  .meta({ kind: 'tag pattern' });

export const id = () => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'ids use letters, digits, ".", "_" and "-"').meta({ kind: 'id' });
export const priority = z.enum(PRIORITIES);
export type { Priority } from '../model/ticket.ts';
export const scalar = z.union([z.number(), z.boolean(), z.string()]);

/** A value's engineering unit (`V`, `°C`, `bar`): carried by its signals, shown with the value. */
export const unit = () => z.string().min(1).max(32).optional().describe('Engineering unit of the value (`V`, `°C`, `m³/h`): carried by its signals and shown with the value (`196.4 V`) in evidence, the board and notifications.');

/** Decimal places a number is rounded to at the connector. */
export const decimals = () =>
  z
    .number()
    .int()
    .min(0)
    .max(10)
    .optional()
    .describe('Round the value to this many decimal places at the connector (halves away from zero). float32 values are always cut to their own precision (196.39999389648438 is 196.4); this rounds further.');
