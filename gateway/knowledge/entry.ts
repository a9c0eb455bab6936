import { AndonError } from '../../model/errors.ts';
import type { KnowledgeEntry } from '../../model/ticket.ts';

/** What a knowledge entry's labels may be (config knowledge). */
export interface LabelPolicy {
  labels: readonly string[];
  freeLabels: boolean;
}

const MAX_TEXT = 4000;
const MAX_LABELS = 20;
const TEXTS = ['symptom', 'diagnosis', 'solution'] as const;

const invalid = (message: string, path: string) => new AndonError('ANDON_TICKET_INVALID_FIELD', message, { path });

/**
 * The knowledge entry of a resolve (`knowledge: { symptom, diagnosis, solution, labels }`), checked: texts of at
 * most 4,000 characters, at least one of them, labels from `knowledge.labels` (others only with `freeLabels`:
 * else ANDON_KNOWLEDGE_UNKNOWN_LABEL). Undefined or null: no entry.
 */
export function parseKnowledge(value: unknown, policy: LabelPolicy): KnowledgeEntry | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('knowledge must be an object { symptom, diagnosis, solution, labels }', 'knowledge');
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (!(TEXTS as readonly string[]).includes(k) && k !== 'labels') throw invalid(`knowledge has no field ${k} (symptom, diagnosis, solution, labels)`, `knowledge.${k}`);
  }
  const entry: KnowledgeEntry = { symptom: null, diagnosis: null, solution: null, labels: [] };
  for (const k of TEXTS) {
    const t = v[k];
    if (t === undefined || t === null || t === '') continue;
    if (typeof t !== 'string') throw invalid(`knowledge.${k} must be text`, `knowledge.${k}`);
    if (t.length > MAX_TEXT) throw invalid(`knowledge.${k} is longer than ${MAX_TEXT} characters`, `knowledge.${k}`);
    entry[k] = t;
  }
  if (v.labels !== undefined && v.labels !== null) {
    if (!Array.isArray(v.labels) || v.labels.some((l) => typeof l !== 'string' || l.trim() === '' || l.length > 64 || /[\r\n,;]/.test(l))) {
      throw invalid('knowledge.labels must be a list of labels (text of 1 to 64 characters, no line breaks, commas or semicolons)', 'knowledge.labels');
    }
    const labels = [...new Set(v.labels as string[])];
    if (labels.length > MAX_LABELS) throw invalid(`knowledge.labels: at most ${MAX_LABELS}`, 'knowledge.labels');
    const unknown = policy.freeLabels ? [] : labels.filter((l) => !policy.labels.includes(l));
    if (unknown.length > 0) {
      throw new AndonError(
        'ANDON_KNOWLEDGE_UNKNOWN_LABEL',
        `label${unknown.length > 1 ? 's' : ''} ${unknown.map((l) => `"${l}"`).join(', ')} not in knowledge.labels (${policy.labels.join(', ') || 'none configured'})`,
        { path: 'knowledge.labels' },
      );
    }
    entry.labels = labels;
  }
  if (entry.symptom === null && entry.diagnosis === null && entry.solution === null && entry.labels.length === 0) {
    throw new AndonError('ANDON_TICKET_FIELD_REQUIRED', 'knowledge needs at least one of symptom, diagnosis, solution, labels', { path: 'knowledge' });
  }
  return entry;
}
