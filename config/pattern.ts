/**
 * Tag patterns over slash paths (UNS style): `*` matches one segment, `**` any
 * number of segments (also none), and `*` inside a segment matches any text in
 * that segment (`E*`). Matching is exact otherwise and case-sensitive.
 */
export type TagMatcher = (tag: string) => boolean;

const SEGMENT = /^(\*\*|[^/*\s#+]*(\*[^/*\s#+]*)?)$/;

/** Why the pattern is malformed, or undefined when it is fine. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'is empty';
  if (pattern.startsWith('/') || pattern.endsWith('/')) return 'must not start or end with "/"';
  if (/[#+]/.test(pattern)) return 'uses MQTT wildcards (# or +); tag patterns use ** and *';
  for (const seg of pattern.split('/')) {
    if (seg.length === 0) return 'has an empty segment ("//")';
    if (!SEGMENT.test(seg)) return `has a bad segment "${seg}" (use * for one segment, ** alone for many)`;
  }
  return undefined;
}

const escape = (s: string) => s.replace(/[.?^${}()|[\]\\]/g, '\\$&');

/** Compiles a pattern; call `patternProblem` first (config validation does). */
export function compilePattern(pattern: string): TagMatcher {
  if (!pattern.includes('*')) return (tag) => tag === pattern;
  // Every segment consumes "seg/" of `tag + "/"`, so ** can consume zero or more.
  const body = pattern
    .split('/')
    .map((seg) => {
      if (seg === '**') return '(?:[^/]+/)*';
      if (seg === '*') return '[^/]+/';
      return seg.split('*').map(escape).join('[^/]*') + '/';
    })
    .join('');
  const re = new RegExp(`^${body}$`);
  return (tag) => re.test(tag + '/');
}
