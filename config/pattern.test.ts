import { describe, expect, it } from 'vitest';
import { compilePattern, patternProblem, regexPattern } from './pattern.ts';

/** Which of `tags` the pattern matches. */
const matching = (pattern: string, tags: string[]) => {
  expect(patternProblem(pattern)).toBeUndefined();
  const matches = compilePattern(pattern);
  return tags.filter((t) => matches(t));
};

describe('compilePattern', () => {
  it('a pattern without wildcards matches exactly that tag, case-sensitive', () => {
    expect(
      matching('packaging/sealer-01/state', [
        'packaging/sealer-01/state',
        'packaging/sealer-01',
        'packaging/sealer-01/state/raw',
        'x/packaging/sealer-01/state',
        'packaging/sealer-01/stat',
        'Packaging/sealer-01/state',
      ]),
    ).toEqual(['packaging/sealer-01/state']);
  });

  it('* matches exactly one non-empty segment', () => {
    expect(
      matching('utilities/*/voltage', [
        'utilities/feeder-3/voltage',
        'utilities/f/voltage',
        'utilities/voltage',
        'utilities//voltage',
        'utilities/a/b/voltage',
        'utilities/feeder-3/voltage/avg',
      ]),
    ).toEqual(['utilities/feeder-3/voltage', 'utilities/f/voltage']);
  });

  it('a lone * matches single-segment tags only (a source id)', () => {
    expect(matching('*', ['packaging-plc', 'mes', 'a/b', ''])).toEqual(['packaging-plc', 'mes']);
  });

  it('** at the start matches zero or more leading segments', () => {
    expect(
      matching('**/temperature', [
        'temperature',
        'oven-01/temperature',
        'baking/oven-01/temperature',
        'baking/oven-01/temperature/raw',
        'baking/oven-01/temperatures',
        'baking/oven-01/air-temperature',
      ]),
    ).toEqual(['temperature', 'oven-01/temperature', 'baking/oven-01/temperature']);
  });

  it('** at the end matches zero or more trailing segments', () => {
    expect(
      matching('packaging/sealer-01/**', [
        'packaging/sealer-01',
        'packaging/sealer-01/state',
        'packaging/sealer-01/alarm/E21',
        'packaging/sealer-012/state',
        'packaging/sealer-0',
        'x/packaging/sealer-01/state',
      ]),
    ).toEqual(['packaging/sealer-01', 'packaging/sealer-01/state', 'packaging/sealer-01/alarm/E21']);
  });

  it('** in the middle matches zero or more segments between fixed ones', () => {
    expect(matching('plant/**/alarm', ['plant/alarm', 'plant/a/alarm', 'plant/a/b/c/alarm', 'plant/a/alarm/x', 'plantalarm', 'other/a/alarm'])).toEqual([
      'plant/alarm',
      'plant/a/alarm',
      'plant/a/b/c/alarm',
    ]);
  });

  it('* and ** combine: packaging/*/alarm/**', () => {
    expect(
      matching('packaging/*/alarm/**', [
        'packaging/sealer-01/alarm/E21',
        'packaging/sealer-01/alarm',
        'packaging/sealer-01/alarm/a/b',
        'packaging/alarm/E21',
        'packaging/a/b/alarm/E21',
        'utilities/sealer-01/alarm/E21',
      ]),
    ).toEqual(['packaging/sealer-01/alarm/E21', 'packaging/sealer-01/alarm', 'packaging/sealer-01/alarm/a/b']);
  });

  it('a lone ** matches every tag', () => {
    expect(matching('**', ['a', 'a/b', 'a/b/c/d'])).toEqual(['a', 'a/b', 'a/b/c/d']);
  });

  it('* inside a segment (E*) matches any text within that segment only', () => {
    expect(
      matching('packaging/*/alarm/E*', [
        'packaging/sealer-01/alarm/E21',
        'packaging/sealer-01/alarm/E',
        'packaging/sealer-01/alarm/W21',
        'packaging/sealer-01/alarm/xE21',
        'packaging/sealer-01/alarm/E21/ack',
        'packaging/sealer-01/alarm/e21',
      ]),
    ).toEqual(['packaging/sealer-01/alarm/E21', 'packaging/sealer-01/alarm/E']);
    expect(matching('line/*-01/state', ['line/sealer-01/state', 'line/-01/state', 'line/sealer-02/state', 'line/a/b-01/state'])).toEqual([
      'line/sealer-01/state',
      'line/-01/state',
    ]);
  });

  it('regex characters in a pattern are literal', () => {
    expect(matching('plant.a/*', ['plant.a/x', 'plantXa/x'])).toEqual(['plant.a/x']);
    expect(matching('(a)/E$*', ['(a)/E$1', 'a/E1', '(a)/E1'])).toEqual(['(a)/E$1']);
  });

  it('never matches a part of a tag', () => {
    const m = compilePattern('sealer-01/*');
    expect(m('packaging/sealer-01/state')).toBe(false);
    expect(m('sealer-01/state/x')).toBe(false);
    expect(m('sealer-01/state')).toBe(true);
  });
});

describe('compilePattern without a RegExp (a/b/** and **/s1/…/sk)', () => {
  // Every tag of up to 4 segments over these (empty ones included, so leading, trailing and double "/"),
  // against patterns of both shapes and near misses: the fast matchers answer as the RegExp does.
  const SEGMENTS = ['a', 'b', 'pv-1', 'pv-', 'E1x', 'x', 'xx', ''];
  const tags: string[] = [];
  const grow = (prefix: string[], n: number) => {
    if (prefix.length > 0) tags.push(prefix.join('/'));
    if (n === 0) return;
    for (const seg of SEGMENTS) grow([...prefix, seg], n - 1);
  };
  grow([], 4);
  const PATTERNS = ['a/**', 'a/b/**', 'pv-1/a/b/**', '**/pv-*', '**/a', '**/*', '**/a/*', '**/*/pv-*', '**/E*x', '**/*x', '**/x*x', '**/a/b/pv-1', 'a/*/**', '**/a/**', 'a/**/b', '**'];

  it.each(PATTERNS)('%s', (pattern) => {
    expect(patternProblem(pattern)).toBeUndefined();
    const fast = compilePattern(pattern);
    const slow = regexPattern(pattern);
    const differ = tags.filter((t) => fast(t) !== slow(t));
    expect(differ).toEqual([]);
    // and the pattern does match some of them and not others: the comparison is not vacuous
    expect(tags.some((t) => slow(t))).toBe(true);
    if (pattern !== '**') expect(tags.some((t) => !slow(t))).toBe(true);
  });
});

describe('patternProblem', () => {
  it.each(['a', 'a/b/c', '*', '**', 'a/*/c', '**/temperature', 'a/**', 'packaging/*/alarm/**', 'a/E*', 'a/*-01/b'])('accepts %s', (p) => {
    expect(patternProblem(p)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['/a/b', /start or end/],
    ['a/b/', /start or end/],
    ['a//b', /empty segment/],
    ['a/#', /MQTT/],
    ['a/+/b', /MQTT/],
    ['a**', /bad segment "a\*\*"/],
    ['a/**b', /bad segment "\*\*b"/],
    ['a/***', /bad segment/],
    ['a/E*x*', /bad segment/],
    ['a/b c', /bad segment/],
  ])('refuses %j', (p, why) => {
    expect(patternProblem(p)).toMatch(why);
  });
});
