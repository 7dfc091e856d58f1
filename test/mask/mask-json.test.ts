import { describe, expect, it } from 'vitest';
import { createMasker, maskMarker } from '../../broker/proxy/mask/index.ts';
import { secretSamples } from './fixtures.ts';

const { samples, exactValue } = secretSamples();
const masker = createMasker({ exactValues: [exactValue] });
const secretOf = (rule: string): string => samples.find((s) => s.rule === rule)?.text ?? '';
const apiKey = secretOf('anthropic-api-key');
const ghToken = secretOf('github-pat');
const API = maskMarker('anthropic-api-key');
const GH = maskMarker('github-pat');

describe('maskJson', () => {
  it('masks every string leaf and key, at any depth, without touching the input', () => {
    const input = {
      id: 'msg_01',
      content: [{ type: 'tool_use', input: { token: ghToken, [apiKey]: [1, true, null, `x ${apiKey}`] } }],
      usage: { output_tokens: 3 },
    };
    const copy = structuredClone(input);
    const masked = masker.maskJson(input);
    expect(masked).toEqual({
      value: { id: 'msg_01', content: [{ type: 'tool_use', input: { token: GH, [API]: [1, true, null, `x ${API}`] } }], usage: { output_tokens: 3 } },
      count: 3,
    });
    expect(input).toEqual(copy);
  });

  it('returns the same value when nothing matched', () => {
    const input = { a: ['plain', { b: 'text' }], n: 1 };
    const masked = masker.maskJson(input);
    expect(masked.value).toBe(input);
    expect(masked.count).toBe(0);
  });

  it('keeps a "__proto__" key as data, never as a prototype', () => {
    const input: unknown = JSON.parse(`{"__proto__":{"polluted":"${ghToken}"},"a":1}`);
    const { value } = masker.maskJson(input);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(JSON.stringify(value)).toBe(`{"__proto__":{"polluted":"${GH}"},"a":1}`);
  });
});

describe('maskJsonBody', () => {
  it('masks an Anthropic error envelope and keeps it one (§3.9, security.md C-37)', () => {
    const envelope = { type: 'error', error: { type: 'invalid_request_error', message: `invalid x-api-key ${apiKey}` }, request_id: 'req_011' };
    const { body, count } = masker.maskJsonBody(Buffer.from(JSON.stringify(envelope)));
    expect(count).toBe(1);
    expect(JSON.parse(body.toString())).toEqual({ ...envelope, error: { ...envelope.error, message: `invalid x-api-key ${API}` } });
  });

  it('decodes before matching, so JSON escapes cannot hide a secret', () => {
    const hidden = JSON.stringify({ text: apiKey }).replace('sk-ant', '\\u0073k-ant').replaceAll('/', '\\/');
    expect(hidden).toContain('\\u0073k-ant');
    const { body } = masker.maskJsonBody(Buffer.from(hidden));
    expect(JSON.parse(body.toString())).toEqual({ text: API });
  });

  it('returns the very same bytes when nothing matched', () => {
    const raw = Buffer.from('{ "spaced" : "json",\n "n": 1.0 }');
    expect(masker.maskJsonBody(raw).body).toBe(raw);
    const binary = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0xff, 0x00, 0x9c]);
    expect(masker.maskJsonBody(binary).body).toBe(binary);
  });

  it('masks batch results line by line, keeping other lines and line endings (security.md M-08)', () => {
    const clean = '{"custom_id":"a","result":{"type":"succeeded"}}';
    const dirty = JSON.stringify({ custom_id: 'b', result: { message: { content: [{ type: 'text', text: exactValue }] } } });
    const { body, count } = masker.maskJsonBody(Buffer.from(`${clean}\r\n${dirty}\r\n`));
    expect(count).toBe(1);
    expect(body.toString()).toBe(`${clean}\r\n${dirty.replace(exactValue, maskMarker('known-secret'))}\r\n`);
  });

  it('masks a body that is not JSON as text', () => {
    const { body, count } = masker.maskJsonBody(Buffer.from(`upstream said: ${apiKey} {oops`));
    expect(count).toBe(1);
    expect(body.toString()).toBe(`upstream said: ${API} {oops`);
  });
});
