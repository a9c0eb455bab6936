import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { patternProblem } from './pattern.ts';

/**
 * Shared schema pieces: every custom issue carries its ANDON_CONFIG_* code in `params.code`.
 * `.meta({ kind })` names a value kind for the generated config reference (scripts/config-doc.ts).
 */
export const issue = (ctx: z.RefinementCtx, code: string, message: string, path: (string | number)[] = []) =>
  ctx.addIssue({ code: 'custom', message, path, params: { code } });

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
export const priority = z.enum(['P0', 'P1', 'P2', 'P3']);
export type Priority = z.infer<typeof priority>;
export const scalar = z.union([z.number(), z.boolean(), z.string()]);
