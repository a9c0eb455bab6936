import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../config/schema.ts';
import { duration, id } from '../../config/types.ts';
import { ERRORS } from '../../model/errors.ts';
import { configSections, renderConfigDoc, undocumented } from '../../scripts/config-doc.ts';
import { GENERATED } from '../../scripts/docs.ts';

const read = (rel: string) => {
  try {
    return readFileSync(fileURLToPath(new URL(`../../${rel}`, import.meta.url)), 'utf8');
  } catch {
    return '';
  }
};

describe('generated reference docs', () => {
  it.each(Object.entries(GENERATED))('docs for %s are up to date', (name, g) => {
    const fresh = g.render();
    // toBe would print the whole diff; say first what to do.
    if (read(g.path) !== fresh) expect.fail(`${g.path} is stale: run \`npm run docs:${name}\` and commit the result`);
  });

  it('every config key has a description (.describe() on the schema field)', () => {
    expect(undocumented(configSections(configSchema)), 'add .describe("...") to these fields, then npm run docs:config').toEqual([]);
  });

  it('every error code has its own heading in docs/errors.md', () => {
    const doc = read('docs/errors.md');
    const missing = Object.keys(ERRORS).filter((c) => !doc.includes(`\n### ${c}\n`));
    expect(missing, 'run npm run docs:errors').toEqual([]);
  });

  it('writes types, defaults and allowed values the way a config author writes them', () => {
    const schema = z.strictObject({
      gateway: z
        .strictObject({
          id: id().describe('the id'),
          port: z.number().int().min(0).max(65535).default(8080).describe('the port'),
          poll: duration().default(90_000).describe('how often'),
          mode: z.enum(['None', 'Sign']).default('None').describe('the mode'),
          retry: duration().optional().meta({ defaultText: '30s', description: 'set by the reader' }),
          window: z
            .strictObject({ count: z.number().int().min(2).describe('n'), within: duration().describe('w') })
            .default({ count: 5, within: 60_000 })
            .describe('a window'),
        })
        .describe('the gateway'),
      sources: z
        .array(
          z.discriminatedUnion('type', [z.strictObject({ type: z.literal('a').describe('kind a'), url: z.url().describe('where') }).describe('Source a.')]),
        )
        .default([])
        .describe('sources'),
    });
    const doc = renderConfigDoc(schema, '# T');
    expect(doc).toContain('| `gateway.id` | id | **required** |  | the id |');
    expect(doc).toContain('| `gateway.port` | integer | `8080` | 0..65535 | the port |');
    expect(doc).toContain('| `gateway.poll` | duration | `90s` |  | how often |');
    expect(doc).toContain('| `gateway.mode` | enum | `None` | `None`, `Sign` | the mode |');
    expect(doc).toContain('| `gateway.retry` | duration | `30s` |  | set by the reader |');
    expect(doc).toContain('| `gateway.window` | object | `{ count: 5, within: 1m }` |  | a window |');
    expect(doc).toContain('| `gateway.window.count` | integer | **required** | ≥ 2 | n |');
    expect(doc).toContain('### sources[] with type: a\n\nSource a.');
    expect(doc).toContain('| `sources[].url` | URL | **required** |  | where |');
  });
});
