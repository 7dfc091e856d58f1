import { describe, expect, it } from 'vitest';
import { createMasker } from '../../broker/proxy/mask/index.ts';
import { scannerOf } from '../../broker/proxy/mask/masker.ts';
import { findOpenTail, type OpenCandidates } from '../../broker/proxy/mask/open-candidates.ts';
import { secretSamples, seededRandom } from './fixtures.ts';

// The anchor shortcut in `findOpenTail` must find exactly what scanning every position finds:
// the same earliest open tail and the same "a whole literal occurs before it".

const { samples, exactValue } = secretSamples();
const random = seededRandom(77);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const WORDS = ['the', 'release', 'adds', 'scoped', 'sk', 'skill', 'eyes', 'gh', 'github', 'hooks', 'xo', 'bedrock', 'secret', 'aws', 'pypi', 'npm', 'Akira', 'SG', 'café', '🎉'];
const SEPARATORS = [' ', '\n', ', ', '"', '. ', '-', '_'];

function randomText(): string {
  const parts: string[] = [];
  for (let n = 2 + Math.floor(random() * 8); n > 0; n--) {
    const sample = pick(samples).text;
    const roll = random();
    if (roll < 0.5) parts.push(pick(WORDS));
    else if (roll < 0.7) parts.push(sample);
    else parts.push(sample.slice(0, 1 + Math.floor(random() * Math.min(24, sample.length))));
    parts.push(pick(SEPARATORS));
  }
  return parts.join('').slice(0, 1 + Math.floor(random() * 400));
}

function everyPosition<R>(candidates: OpenCandidates<R>): OpenCandidates<R> {
  return { ...candidates, anchors: null, reach: 0 };
}

describe('findOpenTail anchors', () => {
  const open = scannerOf(createMasker({ exactValues: [exactValue] }))().open;

  it('the built-in literals and an exact value all have an anchor near their start', () => {
    expect(open.anchors).not.toBeNull();
    expect(open.reach).toBeGreaterThan(0);
    expect(open.reach).toBeLessThanOrEqual(16);
  });

  it('anchors on characters rare in prose: a plain sentence has none, so only its end is scanned', () => {
    const anchors = new RegExp(open.anchors!.source, 'g');
    expect('The release adds scoped credentials for continuous integration, rotates keys without downtime. It works.'.match(anchors)).toBeNull();
    expect('use sk-ant-… or ghp_…'.match(anchors)?.length).toBeGreaterThanOrEqual(2);
  });

  it('finds the same tail as a scan of every position, on 5000 random texts and every start offset', () => {
    let opened = 0;
    let literals = 0;
    for (let t = 0; t < 5000; t++) {
      const text = randomText();
      for (let from = 0; from <= text.length; from += 1 + Math.floor(random() * 8)) {
        const fast = findOpenTail(open, text, from);
        expect(fast, JSON.stringify({ text, from })).toEqual(findOpenTail(everyPosition(open), text, from));
        if (fast.start < text.length) opened++;
        if (fast.literalBefore) literals++;
      }
    }
    // The corpus must exercise both outcomes, or the comparison proves little.
    expect(opened).toBeGreaterThan(1000);
    expect(literals).toBeGreaterThan(1000);
  });

  it('holds a bare prefix at the end that has not reached its anchor yet', () => {
    for (const text of ['the bedroc', 'aws_secre', 'see hooks', 'ask', 'secretAcces']) {
      expect(findOpenTail(open, text, 0), text).toEqual(findOpenTail(everyPosition(open), text, 0));
      expect(findOpenTail(open, text, 0).start, text).toBeLessThan(text.length);
    }
  });

  it('scans every position when a literal has no anchor near its start', () => {
    const lowercase = scannerOf(createMasker({ exactValues: ['correcthorsebatterystaple'] }))().open;
    expect(lowercase.anchors).toBeNull();
    expect(findOpenTail(lowercase, 'we said correcthorsebat', 0).start).toBe('we said '.length);
    const caseInsensitive = scannerOf(createMasker({ builtinPatterns: false, patterns: [{ name: 'internal', regex: /internaltoken[a-z0-9]{10}/i }] }))().open;
    expect(caseInsensitive.anchors).toBeNull();
    expect(findOpenTail(caseInsensitive, 'an INTERNALTOK', 0).start).toBe(3);
  });
});
