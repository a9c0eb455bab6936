/**
 * Values as people read them: what a connector does to a number before it
 * becomes a signal. Pure functions, shared by the connectors.
 */

/**
 * A float32 as the shortest decimal that reads back as the same float32:
 * a meter's 196.4 arrives as 196.39999389648438 (the float32 nearest 196.4,
 * widened to a double) and goes on as 196.4. A float32 carries 6 to 9
 * significant digits; nothing it holds is lost, only the widening's noise.
 * Non-finite values pass through.
 */
export function float32Value(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.fround(x);
  for (let digits = 6; digits < 9; digits++) {
    const shorter = Number(f.toPrecision(digits));
    if (Math.fround(shorter) === f) return shorter;
  }
  return Number(f.toPrecision(9));
}

/**
 * Arithmetic noise of raw × scale + offset (1234 × 0.1 = 123.40000000000001)
 * removed: 15 significant digits are exact for any double.
 */
export const tidy = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(15)) : x);

/** `x` rounded to `decimals` places, halves away from zero (2.345 → 2.35, -2.5 → -3 at 0). */
export function roundTo(x: number, decimals: number): number {
  if (!Number.isFinite(x)) return x;
  const p = 10 ** decimals;
  // The product tidied first, so 1.005 rounds to 1.01 as written, not down with its binary neighbour 1.00499...
  const v = Math.round(tidy(Math.abs(x) * p)) / p;
  return x < 0 && v !== 0 ? -v : v;
}

/** The value with its unit, for people: `196.4 V`, `true`, `"RUN"`; no unit, just the value. */
export function withUnit(value: unknown, unit: string | undefined): string {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : JSON.stringify(value) ?? String(value);
  return unit ? `${text} ${unit}` : text;
}
