import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * What a Docker engine would make of the repo's Dockerfile and .dockerignore,
 * read without one: instructions by stage, the files a COPY takes from the
 * build context, and the files the gateway imports at run time.
 */

/** One instruction, continuation lines joined and comments dropped. */
export interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** A build stage: its base image, its name and its instructions. */
export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let l = lines[i] as string;
    if (/^\s*(#|$)/.test(l)) continue;
    while (/\\\s*$/.test(l) && i + 1 < lines.length) {
      i++;
      const next = lines[i] as string;
      l = l.replace(/\\\s*$/, ' ') + (/^\s*#/.test(next) ? '' : next.trim());
    }
    const m = /^\s*(\w+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`Dockerfile:${start + 1}: cannot read "${l}"`);
    const ins: Instruction = { op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim().replace(/\s+/g, ' '), line: start + 1 };
    if (ins.op === 'FROM') {
      const [from, as, name] = ins.args.split(' ');
      stages.push({ from: from as string, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile:${start + 1}: ${ins.op} before FROM`);
      stage.instructions.push(ins);
    }
  }
  return stages;
}

/** Arguments of an instruction in exec (JSON array) or shell form, with `--flags` split off. */
export function argv(ins: Instruction): { flags: Record<string, string>; words: string[] } {
  let rest = ins.args;
  const flags: Record<string, string> = {};
  for (let m = /^--([\w-]+)(?:=(\S+))?\s*/.exec(rest); m; m = /^--([\w-]+)(?:=(\S+))?\s*/.exec(rest)) {
    flags[m[1] as string] = m[2] ?? '';
    rest = rest.slice(m[0].length);
  }
  const words = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(' ');
  return { flags, words };
}

/** Sources of the COPY instructions of a stage that come from the build context (not `--from`). */
export const contextCopies = (stage: Stage): string[] =>
  stage.instructions
    .filter((i) => i.op === 'COPY' || i.op === 'ADD')
    .map(argv)
    .filter((a) => a.flags.from === undefined)
    .flatMap((a) => a.words.slice(0, -1).map((s) => normalize(s).replace(/\/$/, '')));

const GLOBSTAR = '<**>';

/** A .dockerignore (Docker's patternmatcher: a pattern also excludes everything under a directory it matches; `!` re-includes; the last match wins). */
export function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = normalize(negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const source = p
        .split('/')
        .map((seg) =>
          seg === '**'
            ? GLOBSTAR
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .split(`${GLOBSTAR}/`)
        .join('(?:.*/)?')
        .split(GLOBSTAR)
        .join('.*');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const parts = normalize(path).split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const p of patterns) if (prefixes.some((x) => p.re.test(x))) excluded = !p.negate;
    return excluded;
  };
}

const IMPORT_RES = [
  /^\s*import\s+(?!type\s)[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*export\s+(?!type\s)[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];
const BUILTINS = new Set(builtinModules);

/** The package a bare specifier names (`tsx/esm/api` → `tsx`, `@scope/x/y` → `@scope/x`). */
const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));

/**
 * Every repo file reachable through static and dynamic imports from `entry`,
 * and every npm package they import; `import type` is erased at run time and skipped.
 */
export function runtimeGraph(root: string, entry: string): { files: Set<string>; packages: Map<string, string>; missing: string[] } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const missing: string[] = [];
  const visit = (rel: string) => {
    if (files.has(rel)) return;
    files.add(rel);
    const text = readFileSync(join(root, rel), 'utf8');
    for (const re of IMPORT_RES) {
      for (const m of text.matchAll(re)) {
        const spec = m[1] as string;
        if (spec.startsWith('.')) {
          const target = relative(root, join(dirname(join(root, rel)), spec));
          if (existsSync(join(root, target))) visit(target);
          else missing.push(`${rel} imports ${spec}`);
        } else if (!spec.startsWith('node:') && !BUILTINS.has(spec)) {
          if (!packages.has(packageOf(spec))) packages.set(packageOf(spec), rel);
        }
      }
    }
  };
  visit(entry);
  return { files, packages, missing };
}
