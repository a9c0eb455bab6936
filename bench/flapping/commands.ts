import type { DetectCommand } from '../../rules/types.ts';

/**
 * A raise of `asset`'s alarm `fault` at `at` in area stamping, as the rules make one: its key, title
 * and tag are strings of its own (bench/flapping's two scripts).
 */
export const alarmRaise = (asset: string, fault: string, at: number): DetectCommand => ({
  type: 'detect',
  at,
  key: `${asset}/${fault}`,
  asset,
  area: 'stamping',
  line: 'line-2',
  fault,
  category: 'hardware',
  rule: 'press-alarm',
  priority: 'P2',
  title: `${asset}: ${fault}`,
  assignedGroup: null,
  notify: [],
  evidence: { tag: `stamping/${asset}/alarm/${fault}`, value: true, ts: at },
  flags: [],
});
