import { describe, expect, it } from 'vitest';
import { formatDelta, parsePlainDelta } from '../../broker/proxy/mask/plain-delta.ts';
import { seededRandom } from './fixtures.ts';

// The fast reader of Anthropic's delta serialisation must accept exactly what this regex (its
// first implementation) accepted, and read the same value: anything else goes the general path.
const REFERENCE =
  /^\{"type":"content_block_delta","index":(\d{1,9}),"delta":\{"type":"(text_delta|thinking_delta|input_json_delta)","(text|thinking|partial_json)":"((?:[^"\\]+|\\.)*)"\}\}$/;
const TYPES = { text: 'text_delta', thinking: 'thinking_delta', partial_json: 'input_json_delta' } as const;

function reference(data: string): ReturnType<typeof parsePlainDelta> {
  const m = REFERENCE.exec(data);
  if (m === null) return undefined;
  const [, index = '', type, field = '', raw = ''] = m;
  if (TYPES[field as keyof typeof TYPES] !== type) return undefined;
  if (!raw.includes('\\')) return { index: Number(index), field: field as keyof typeof TYPES, value: raw };
  try {
    return { index: Number(index), field: field as keyof typeof TYPES, value: JSON.parse(`"${raw}"`) as string };
  } catch {
    return undefined;
  }
}

const random = seededRandom(31);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const PIECES = ['a', ' ', 'sk-ant-', '"', '\\', '\\"', '\\\\', '\\n', '\\u00e9', '\\u', '\\x', '}}', '"}}', 'é', '🎉', '\n', '\t'];

function randomValue(): string {
  return Array.from({ length: Math.floor(random() * 8) }, () => pick(PIECES)).join('');
}

function randomData(): string {
  const field = pick(['text', 'thinking', 'partial_json'] as const);
  const type = random() < 0.9 ? TYPES[field] : pick(Object.values(TYPES));
  const index = pick(['0', '1', '12', '007', '123456789', '1234567890', '', '-1', 'x']);
  const good = `{"type":"content_block_delta","index":${index},"delta":{"type":"${type}","${field}":"${randomValue()}"}}`;
  const roll = random();
  if (roll < 0.7) return good;
  if (roll < 0.8) return good.replace(',"delta"', ' ,"delta"');
  if (roll < 0.9) return good.slice(0, Math.floor(random() * good.length));
  return `${good} `;
}

describe('parsePlainDelta', () => {
  it('reads what the SDK-exact serialisation holds', () => {
    const data = formatDelta(3, 'text', 'He said "sk-ant-…"\n');
    expect(parsePlainDelta(data)).toEqual({ index: 3, field: 'text', value: 'He said "sk-ant-…"\n' });
    expect(parsePlainDelta(formatDelta(0, 'partial_json', '{"cmd": "ls'))).toEqual({ index: 0, field: 'partial_json', value: '{"cmd": "ls' });
  });

  it('agrees with the reference regex on 20,000 random and damaged deltas', () => {
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const data = randomData();
      const expected = reference(data);
      expect(parsePlainDelta(data), data).toEqual(expected);
      if (expected !== undefined) accepted++;
    }
    expect(accepted).toBeGreaterThan(2_000); // both outcomes are well exercised
    expect(accepted).toBeLessThan(18_000);
  });
});
