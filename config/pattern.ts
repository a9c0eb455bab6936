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
  return fastPattern(pattern) ?? regexPattern(pattern);
}

/** The general case: one RegExp. Every segment consumes "seg/" of `tag + "/"`, so ** can consume zero or more. */
export function regexPattern(pattern: string): TagMatcher {
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

/** Whether `s` (a part of a tag) is segments without an empty one: no leading, trailing or double "/". */
const wellFormed = (s: string) => s.length > 0 && s.charCodeAt(0) !== 47 && s.charCodeAt(s.length - 1) !== 47 && !s.includes('//');

/** One segment of a pattern without `**` (a literal, `*`, or `E*`-style text around one `*`) against one tag segment. */
function segmentMatcher(seg: string): (s: string) => boolean {
  if (seg === '*') return (s) => s.length > 0;
  const star = seg.indexOf('*');
  if (star === -1) return (s) => s === seg;
  const [head, tail] = [seg.slice(0, star), seg.slice(star + 1)];
  return (s) => s.length >= head.length + tail.length && s.startsWith(head) && s.endsWith(tail);
}

/**
 * The shapes most configs use, without a RegExp (a compiled RegExp per asset pattern was ~1 KiB of heap,
 * and matching it the main cost of a tag's first reading): `a/b/**` (an asset's tags) and `**` then
 * segments without `**` (`**` + `/pv-*`, `**` + `/alarm/*`: a rule per measure). Undefined for any other
 * shape, which gets the RegExp. Both give the same answer for every tag (pattern.test.ts compares them).
 */
function fastPattern(pattern: string): TagMatcher | undefined {
  const segs = pattern.split('/');
  const deep = segs.filter((x) => x === '**').length;
  if (deep !== 1) return undefined;
  if (segs[segs.length - 1] === '**' && segs.slice(0, -1).every((x) => !x.includes('*'))) {
    // literal/prefix/**: the prefix itself, or the prefix, "/" and well-formed segments
    const prefix = segs.slice(0, -1).join('/');
    if (prefix === '') return undefined; // a lone ** (every tag) is rare enough for the RegExp
    const head = prefix + '/';
    return (tag) => tag === prefix || (tag.startsWith(head) && wellFormed(tag.slice(head.length)));
  }
  if (segs[0] === '**') {
    // **/s1/…/sk: the last k segments match s1…sk, and what comes before them is nothing or well-formed segments
    const rest = segs.slice(1).map(segmentMatcher);
    const k = rest.length;
    return (tag) => {
      let end = tag.length;
      for (let i = k - 1; i >= 0; i--) {
        const slash = tag.lastIndexOf('/', end - 1);
        if (slash === -1 && i > 0) return false;
        if (!(rest[i] as (s: string) => boolean)(tag.slice(slash + 1, end))) return false;
        end = slash;
      }
      return end === -1 || wellFormed(tag.slice(0, end));
    };
  }
  return undefined;
}
