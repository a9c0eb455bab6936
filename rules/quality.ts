import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { Reading } from './types.ts';

/**
 * Quality gating: bad or uncertain readings neither raise nor clear.
 *
 *   --g--b--u--g--|   ->   --g--------g--|
 */
export const goodQuality = (): MonoTypeOperatorFunction<Reading> => filter((r) => r.quality === 'good');
