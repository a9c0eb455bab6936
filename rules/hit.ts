import type { RuleConfig } from '../config/schema.ts';
import type { Evidence } from './types.ts';

/**
 * What a detector emits: a rule's condition raised or cleared for one subject
 * (a tag's asset, or a source for silentFor), at scheduler time `at`.
 */
export interface RuleHit {
  kind: 'raise' | 'clear';
  rule: RuleConfig;
  /** The asset the ticket is about (the source id for silentFor). */
  asset: string;
  area: string | null;
  at: number;
  evidence: Evidence;
}
