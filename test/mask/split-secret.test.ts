import { describe, expect, it } from 'vitest';
import { createMasker, createStreamMasker } from '../../broker/proxy/mask/index.ts';
import { accumulate, fragments, parseEvents, runMasker, sdkFinalMessage, secretSamples, textMessage } from './fixtures.ts';

// security.md M-02: per-event regex redaction misses a secret split across deltas. Every known
// secret (one per built-in rule, an exact value) is split at every position across two events and
// at every pair of positions across three, inside a realistic text_delta stream. Each run must
// leak no fragment of the secret and accumulate (as the SDK does) to exactly the masked full text.

const { samples, exactValue } = secretSamples();
const masker = createMasker({ exactValues: [exactValue] });
const BEFORE = 'Here it is: ';
const AFTER = ' (rotate it).';

/** Streams `pieces` (one delta each, one write per event) and returns the problems found. */
function problemsOf(pieces: readonly string[], expected: string, leaks: readonly string[]): string[] {
  const events = textMessage(pieces).split(/(?<=\n\n)/);
  const out = runMasker(createStreamMasker(masker), events);
  const raw = out.toString();
  const problems = leaks.filter((leak) => raw.includes(leak)).map((leak) => `leaked "${leak}"`);
  const text = accumulate(parseEvents(out))[0]?.text;
  if (text !== expected) problems.push(`accumulated ${JSON.stringify(text)}`);
  return problems.length === 0 ? [] : [`split ${JSON.stringify(pieces)}: ${problems.join('; ')}`];
}

describe.each(samples)('a $rule split across events', (sample) => {
  const full = `Sure. ${BEFORE}${sample.text}${AFTER} Done.`;
  const expected = masker.maskText(full).text;
  const expectedBare = masker.maskText(`${BEFORE}${sample.text}${AFTER}`).text;
  const leaks = fragments(sample.secret);
  const t = sample.text;

  it('is masked whole, and the unmasked stream would leak it', () => {
    expect(expected).toBe(`Sure. ${BEFORE}${t.slice(0, t.length - sample.secret.length)}[MASKED:${sample.rule}]${AFTER} Done.`);
    expect(leaks.length).toBeGreaterThan(0);
    expect(leaks.every((leak) => textMessage([full]).includes(leak))).toBe(true);
  });

  it('at every position across two events', () => {
    const problems: string[] = [];
    for (let i = 1; i < t.length; i++) {
      problems.push(...problemsOf(['Sure. ', BEFORE + t.slice(0, i), t.slice(i) + AFTER, ' Done.'], expected, leaks));
    }
    expect(problems).toEqual([]);
  });

  it('at every pair of positions across three events', () => {
    const problems: string[] = [];
    for (let i = 1; i < t.length - 1; i++) {
      for (let j = i + 1; j < t.length; j++) {
        problems.push(...problemsOf([BEFORE + t.slice(0, i), t.slice(i, j), t.slice(j) + AFTER], expectedBare, leaks));
      }
    }
    expect(problems).toEqual([]);
  });

  it('accumulates to the masked text in the real SDK', async () => {
    const cuts = [1, Math.floor(t.length / 3), Math.floor(t.length / 2), t.length - 1];
    for (const cut of cuts) {
      const stream = textMessage(['Sure. ', BEFORE + t.slice(0, cut), t.slice(cut) + AFTER, ' Done.']);
      const message = await sdkFinalMessage(runMasker(createStreamMasker(masker), [stream]));
      expect(message.content).toEqual([{ type: 'text', text: expected }]);
    }
  });
});
