import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';

/**
 * Config samples in READMEs, marked so a test can validate them:
 *
 *     <!-- sample: sources -->      a YAML list of sources (a connector README's sample)
 *     <!-- sample: config -->       a whole config file
 *     <!-- sample: fragment -->     top-level keys, checked together with the README's `sources` samples
 *
 * The marker is the line right before the opening ```yaml fence.
 */
export type SampleKind = 'sources' | 'config' | 'fragment';

export interface Sample {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  kind: SampleKind;
  text: string;
}

const MARKER = /^<!--\s*sample:\s*(\w+)\s*-->\s*$/;

/** Every marked sample of one markdown text; an unknown kind or a marker without a yaml fence throws. */
export function samplesOf(file: string, markdown: string): Sample[] {
  const lines = markdown.split('\n');
  const out: Sample[] = [];
  lines.forEach((l, i) => {
    const m = MARKER.exec(l.trim());
    if (!m) return;
    const kind = m[1] as string;
    if (!['sources', 'config', 'fragment'].includes(kind)) throw new Error(`${file}:${i + 1}: unknown sample kind "${kind}" (sources, config, fragment)`);
    if (!/^```ya?ml\s*$/.test(lines[i + 1]?.trim() ?? '')) throw new Error(`${file}:${i + 1}: a sample marker must be followed by a \`\`\`yaml fence`);
    const end = lines.findIndex((x, j) => j > i + 1 && x.trim() === '```');
    if (end < 0) throw new Error(`${file}:${i + 2}: unclosed yaml fence`);
    out.push({ file, line: i + 2, kind: kind as SampleKind, text: lines.slice(i + 2, end).join('\n') });
  });
  return out;
}

/** README.md files of the repo (not node_modules, not data). */
export function readmes(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.') || name === 'data') continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name === 'README.md') found.push(relative(root, p));
    }
  };
  walk(root);
  return found.sort();
}

/** The config object a sample stands for; fragments get the README's sources. */
export function asConfig(sample: Sample, all: Sample[]): unknown {
  const doc: unknown = parse(sample.text);
  const gateway = { id: 'sample' };
  if (sample.kind === 'config') return doc;
  const sources = all.filter((s) => s.file === sample.file && s.kind === 'sources').flatMap((s) => parse(s.text) as unknown[]);
  if (sample.kind === 'sources') return { gateway, sources: doc };
  return { gateway, sources, ...(doc as object) };
}

/** An environment where every `${VAR}` is set, so samples may show secrets as `${ENV}`. */
export const sampleEnv: NodeJS.ProcessEnv = new Proxy({}, { get: (_t, name) => (typeof name === 'string' ? `sample-${name.toLowerCase()}-value` : undefined) });

export const readText = (root: string, file: string) => readFileSync(join(root, file), 'utf8');
