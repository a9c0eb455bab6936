import { describe, expect, it } from 'vitest';
import { Circuit as CentralHealth } from '../delivery/circuit.ts';

const health = () => new CentralHealth({ base: 1_000, max: 60_000, threshold: 3, random: () => 0.99 });

describe('central health', () => {
  it('opens the circuit after the threshold of failures in a row and holds new requests', () => {
    const h = health();
    h.failed(0, undefined);
    h.failed(0, undefined);
    expect(h.open).toBe(false);
    expect(h.allows(0, 0)).toBe(true);
    h.failed(0, undefined);
    expect(h.open).toBe(true);
    expect(h.allows(10, 0)).toBe(false);
    expect(h.heldUntil(10)).toBeGreaterThan(10);
  });

  it('a manual retry makes an open circuit probe at once', () => {
    const h = health();
    for (let i = 0; i < 5; i++) h.failed(0, undefined);
    expect(h.allows(100, 0)).toBe(false);
    h.probeNow(100);
    expect(h.allows(100, 0)).toBe(true);
    expect(h.allows(100, 1)).toBe(false); // still one probe at a time
  });

  it('a manual retry does not cut short a wait central asked for (Retry-After)', () => {
    const h = health();
    for (let i = 0; i < 3; i++) h.failed(0, undefined);
    h.failed(0, 30_000);
    h.probeNow(100);
    expect(h.allows(100, 0)).toBe(false);
    expect(h.heldUntil(100)).toBe(30_000);
  });

  it('an answer from central closes the circuit', () => {
    const h = health();
    for (let i = 0; i < 3; i++) h.failed(0, undefined);
    h.answered();
    expect(h.open).toBe(false);
  });
});
