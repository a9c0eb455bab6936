/**
 * MQTT topic filters: validation, matching, and what each wildcard captured.
 *
 * Wildcards are numbered 1, 2, ... from left to right over the filter's
 * wildcard positions only (literal segments do not count). A `+` captures the
 * one segment it matched (possibly empty, `a//b`); a `#` captures the rest of
 * the topic joined with `/` (empty when the topic is the parent itself: `plant/#`
 * matches `plant`, capture ""). A shared subscription `$share/<group>/<filter>`
 * matches and captures like `<filter>`.
 *
 *   filter  mes/+/line/+/#     topic  mes/plant-a/line/3/sealer/alarm
 *   captures  {1} = plant-a   {2} = 3   {3} = sealer/alarm
 */
export interface TopicFilter {
  /** The filter as subscribed (with a `$share/<group>/` prefix when shared). */
  readonly filter: string;
  /** Number of wildcards (`+` and `#`), i.e. the highest valid `{n}`. */
  readonly wildcards: number;
  /** The captures of each wildcard, in order, or undefined when the topic does not match. */
  match(topic: string): string[] | undefined;
}

const SHARE = /^\$share\/[^/+#]+\//;

/** Why a topic filter is invalid, or undefined when it is fine. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'is empty';
  if (filter.includes('\u0000')) return 'contains a NUL character';
  if (filter.startsWith('$share/') && !SHARE.test(filter)) return 'is a shared subscription without a group: write $share/<group>/<filter>';
  const segments = filter.replace(SHARE, '').split('/');
  for (const [i, seg] of segments.entries()) {
    if (seg === '#' && i !== segments.length - 1) return `has "#" before the last level (a "#" must be the last level: "a/#")`;
    if (seg !== '#' && seg !== '+' && (seg.includes('#') || seg.includes('+')))
      return `has a wildcard inside the level "${seg}" (a "+" or "#" must be a whole level)`;
  }
  return undefined;
}

/** Compiles a valid filter (check it with `topicFilterProblem` first). */
export function compileTopicFilter(filter: string): TopicFilter {
  const segments = filter.replace(SHARE, '').split('/');
  const wildcards = segments.filter((s) => s === '+' || s === '#').length;
  const leadingWildcard = segments[0] === '+' || segments[0] === '#';
  return {
    filter,
    wildcards,
    match(topic: string): string[] | undefined {
      // Per MQTT, topics starting with "$" never match a filter starting with a wildcard.
      if (leadingWildcard && topic.startsWith('$')) return undefined;
      const levels = topic.split('/');
      const captures: string[] = [];
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i];
        if (seg === '#') {
          captures.push(levels.slice(i).join('/'));
          return captures;
        }
        const level = levels[i];
        if (level === undefined) return undefined;
        if (seg === '+') captures.push(level);
        else if (seg !== level) return undefined;
      }
      return levels.length === segments.length ? captures : undefined;
    },
  };
}
