import { describe, expect, it } from 'vitest';
import { createMasker, createStreamMasker } from '../../broker/proxy/mask/index.ts';
import { accumulate, blockStart, blockStop, chunk, fragments, MESSAGE_END, MESSAGE_START, parseEvents, runMasker, secretSamples, seededRandom, sse, textMessage } from './fixtures.ts';

// The stream masker's contract, checked on random inputs: whatever the pieces and the TCP chunks,
// what the client accumulates equals masking the whole text at once. Texts mix prose, secrets,
// secrets cut short, bare prefixes and awkward characters, so hold-back is exercised everywhere.

const { samples, exactValue } = secretSamples();
const masker = createMasker({ exactValues: [exactValue] });
const random = seededRandom(2024);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const WORDS = ['the', 'key', 'is', 'sk', 'skill', 'Akira', 'eyes', 'github', 'hooks', 'xo', 'a', 'SG', 'café', '🎉', 'ghp', 'AWS', '---', '-----', 'BEGIN'];
const PREFIXES = ['sk-', 'sk-ant-', 'sk-ant-api03-', 'AKIA', 'eyJ', 'ghp_', 'xoxb-', '-----BEGIN', '-----BEGIN RSA PRIVATE KEY-----', 'AWS_SECRET_ACCESS_KEY=', 'hooks.slack.com/', 'sgt_'];
const SEPARATORS = [' ', '\n', ', ', '"', ' (', ') ', '. ', '\\n'];

function randomText(): string {
  const parts: string[] = [];
  const n = 3 + Math.floor(random() * 10);
  for (let i = 0; i < n; i++) {
    const roll = random();
    const sample = pick(samples).text;
    if (roll < 0.35) parts.push(pick(WORDS));
    else if (roll < 0.6) parts.push(sample);
    else if (roll < 0.8) parts.push(sample.slice(0, 1 + Math.floor(random() * sample.length)));
    else parts.push(pick(PREFIXES));
    parts.push(pick(SEPARATORS));
  }
  return parts.join('');
}

function randomCuts(length: number, count: number): number[] {
  return Array.from({ length: count }, () => 1 + Math.floor(random() * Math.max(1, length - 1))).sort((a, b) => a - b);
}

function split(text: string, count: number): string[] {
  const cuts = [0, ...randomCuts(text.length, count), text.length];
  return cuts.slice(1).map((end, i) => text.slice(cuts[i], end));
}

describe('stream masking on random inputs', () => {
  it('text deltas accumulate to the masked whole text, in any pieces and chunks', () => {
    const problems: string[] = [];
    for (let round = 0; round < 1500; round++) {
      const text = randomText();
      const pieces = split(text, Math.floor(random() * 8));
      const bytes = Buffer.from(textMessage(pieces));
      const out = runMasker(createStreamMasker(masker), chunk(bytes, randomCuts(bytes.length, Math.floor(random() * 6))));
      const got = accumulate(parseEvents(out))[0]?.text;
      const expected = masker.maskText(text).text;
      if (got !== expected) problems.push(JSON.stringify({ pieces, got, expected }));
    }
    expect(problems.slice(0, 3)).toEqual([]);
  });

  // Beyond maxHoldBack a stream cannot wait for the regex's verdict: it fails closed and may mask
  // more than whole-text masking, but must never show a secret that whole-text masking hides.
  it('shows nothing that whole-text masking hides, with the smallest hold-back and long runs', () => {
    const small = createMasker({ exactValues: [exactValue], maxHoldBack: 256 });
    const FILL = ['', '', 'x', 'abc123', '-', '_', '.', ' ', 'Q'.repeat(300), 'z'.repeat(600)];
    const problems: string[] = [];
    for (let round = 0; round < 2000; round++) {
      const used = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(samples));
      const text = used.map((s) => pick(FILL) + s.text + pick(FILL)).join(pick([' ', '\n', ', ', '"']));
      const hiddenWhole = JSON.stringify(small.maskText(text).text);
      const out = runMasker(createStreamMasker(small), [textMessage(split(text, Math.floor(random() * 12)))]).toString();
      for (const s of used) {
        const leaked = fragments(s.secret).filter((f) => !hiddenWhole.includes(f) && out.includes(f));
        if (leaked.length > 0) problems.push(`${s.rule}: ${leaked[0] ?? ''}`);
      }
    }
    expect(problems.slice(0, 3)).toEqual([]);
  });

  it('tool input parses to the masked value, in any pieces', () => {
    const problems: string[] = [];
    for (let round = 0; round < 800; round++) {
      const input = { [randomText()]: randomText(), list: [randomText(), 42, { deep: randomText() }], flag: true };
      const json = JSON.stringify(input);
      const pieces = ['', ...split(json, Math.floor(random() * 10))];
      const stream =
        MESSAGE_START +
        blockStart(0, { type: 'tool_use', id: 'toolu_1', name: 'run', input: {} }) +
        pieces.map((p) => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: p } })).join('') +
        blockStop(0) +
        MESSAGE_END;
      const out = runMasker(createStreamMasker(masker), [stream]);
      const joined = accumulate(parseEvents(out))[0]?.partial_json ?? '';
      const expected = masker.maskJson(input).value;
      let got: unknown;
      try {
        got = JSON.parse(joined);
      } catch {
        got = `unparseable: ${joined}`;
      }
      if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(JSON.stringify({ pieces, got, expected }));
    }
    expect(problems.slice(0, 3)).toEqual([]);
  });
});
