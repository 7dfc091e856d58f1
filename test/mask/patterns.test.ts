import { describe, expect, it } from 'vitest';
import { encodeExactValue } from '../../broker/proxy/mask/exact-values.ts';
import { BUILTIN_RULES, createMasker, maskMarker } from '../../broker/proxy/mask/index.ts';
import { leadingLiteral } from '../../broker/proxy/mask/open-candidates.ts';
import { seededRandom, secretSamples } from './fixtures.ts';

const { samples, exactValue } = secretSamples();
const masker = createMasker({ exactValues: [exactValue] });

describe('built-in patterns', () => {
  it('has a sample for every rule', () => {
    expect(new Set(samples.map((s) => s.rule))).toEqual(new Set([...BUILTIN_RULES.map((r) => r.name), 'known-secret']));
  });

  // §E.1-3: no leading \b (JSON escapes and ANSI codes put a word character before the key) and a
  // trailing look-ahead instead of gitleaks' delimiter group (a key before `,` `}` `)` is caught).
  const contexts: [string, (s: string) => string][] = [
    ['alone', (s) => s],
    ['in prose', (s) => `the value ${s} is live`],
    ['after a JSON-escaped newline', (s) => `line one\\n${s}`],
    ['after an ANSI colour code', (s) => `\u001b[32m${s}\u001b[0m`],
    ['before a comma', (s) => `[${s}, 1]`],
    ['before a closing brace', (s) => `{k: ${s}}`],
    ['in quotes', (s) => `"${s}"`],
  ];
  describe.each(samples)('$rule', (sample) => {
    it.each(contexts)('is masked %s', (_, wrap) => {
      const masked = masker.maskText(wrap(sample.text));
      expect(masked.text).toBe(wrap(sample.text.slice(0, sample.text.length - sample.secret.length) + maskMarker(sample.rule)));
      expect(masked.count).toBe(1);
    });
  });

  // After gitleaks' anthropic.go true/false positives: a wrong length or suffix is no api03 key,
  // but the family backstop (claude-code-action's redactor) still masks it.
  const body = 'x'.repeat(93);
  it.each([
    ['an api03 key', `sk-ant-api03-${body}AA`, 'anthropic-api-key'],
    ['an admin key', `sk-ant-admin01-${body}AA`, 'anthropic-admin-key'],
    ['an api03 key one character short', `sk-ant-api03-${body.slice(1)}AA`, 'anthropic-token'],
    ['an api03 key with the wrong suffix', `sk-ant-api03-${body}AB`, 'anthropic-token'],
    ['an api03 key running on', `sk-ant-api03-${body}AAx`, 'anthropic-token'],
    ['an OAuth token', `sk-ant-oat01-${'y'.repeat(40)}`, 'anthropic-token'],
  ])('names %s', (_, key, rule) => {
    expect(masker.maskText(`key=${key};`).text).toBe(`key=${maskMarker(rule)};`);
  });

  it.each([
    ['the Admin API partial hint', 'sk-ant-api03-R2D...igAA'],
    ['a library name', 'scikit-learn is sk-learn, see sk-ant-docs'],
    ['a short ghp_ string', 'ghp_short and gho_1234'],
    ['a git SHA and a UUID', 'commit 2f1c9a0d3b4e5f60718293a4b5c6d7e8f9012345 id 123e4567-e89b-12d3-a456-426614174000'],
    ['an AWS variable name with no value', 'The key is read from AWS_SECRET_ACCESS_KEY at start-up.'],
    ['a bare 40-character base64 value', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY'],
    ['a public key and a certificate', '-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\nMIIC\n'],
    ['one JWT segment', 'eyJhbGciOiJIUzI1NiJ9 alone'],
    ['markdown rules and prose', '---\nThe AKIA prefix marks AWS keys; sgt_ marks ours.\n---'],
  ])('leaves %s alone', (_, text) => {
    expect(masker.maskText(text)).toEqual({ text, count: 0 });
  });

  it("masks AWS's documented example key too (no allow-list: over-masking a sample is harmless)", () => {
    expect(masker.maskText('AKIAIOSFODNN7EXAMPLE').text).toBe(maskMarker('aws-access-key-id'));
  });

  it('masks a private key to the end of the text when its footer never comes', () => {
    const truncated = `here:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAAB`;
    expect(masker.maskText(truncated).text).toBe(`here:\n${maskMarker('private-key')}`);
  });

  it('never matches its own markers, so masking twice changes nothing', () => {
    const once = masker.maskText(samples.map((s) => s.text).join(' | '));
    expect(once.count).toBe(samples.length);
    expect(masker.maskText(once.text)).toEqual({ text: once.text, count: 0 });
  });
});

describe('exact values', () => {
  const random = seededRandom(7);
  const noise = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

  // security.md M-10 / §0 item 18: the runner masks base64 at three byte offsets because a secret
  // inside a larger encoded blob (`base64(user:password)`) encodes differently at each alignment.
  it.each([0, 1, 2, 3, 4, 5])('masks the value base64-encoded inside a blob after %i bytes', (offset) => {
    const blob = Buffer.concat([noise(offset), Buffer.from(exactValue), noise(7)]);
    for (const encoded of [blob.toString('base64'), blob.toString('base64url')]) {
      const masked = masker.maskText(`Authorization: Basic ${encoded}`);
      expect(masked.count).toBe(1);
      expect(masked.text).toContain(maskMarker('known-secret'));
    }
  });

  const tricky = `pa"ss<w>rd&'x y/1`;
  const withTricky = createMasker({ exactValues: [tricky] });
  it.each([
    ['as is', tricky],
    ['JSON-escaped', JSON.stringify(tricky).slice(1, -1)],
    ['URI-encoded', encodeURIComponent(tricky)],
    ['form-encoded', encodeURIComponent(tricky).replaceAll('%20', '+')],
    ['HTML-escaped', tricky.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')],
    ['as hex', Buffer.from(tricky).toString('hex')],
    ['base64url', Buffer.from(tricky).toString('base64url')],
  ])('masks a value %s', (_, form) => {
    expect(withTricky.maskText(`[${form}]`).text).toBe(`[${maskMarker('known-secret')}]`);
  });

  it('lists encodings longest first and drops ones too short to mask', () => {
    const encodings = encodeExactValue('abcdefgh');
    expect(encodings).toContain('abcdefgh');
    expect(encodings).toContain(Buffer.from('abcdefgh').toString('base64'));
    expect(encodings.every((e) => e.length >= 8)).toBe(true);
    expect([...encodings].sort((a, b) => b.length - a.length)).toEqual(encodings);
  });

  it('masks a value added later, e.g. a rotated upstream key', () => {
    const later = createMasker();
    const rotated = `rotated-key-${'k'.repeat(20)}`;
    expect(later.maskText(rotated).count).toBe(0);
    later.addExactValue(rotated);
    expect(later.maskText(`x ${rotated} y`).text).toBe(`x ${maskMarker('known-secret')} y`);
  });

  it('refuses a configured value too short to mask, and ignores one added at run time', () => {
    expect(() => createMasker({ exactValues: ['short'] })).toThrow(/at least 8 characters/);
    const later = createMasker();
    later.addExactValue('short');
    expect(later.maskText('a short word')).toEqual({ text: 'a short word', count: 0 });
  });
});

describe('operator rules', () => {
  it('masks with an operator rule, with or without the built-ins', () => {
    const acme = { name: 'acme-key', regex: /acme_[a-z0-9]{12}/g };
    const both = createMasker({ patterns: [acme] });
    const only = createMasker({ patterns: [acme], builtinPatterns: false });
    const text = `acme_abcdef123456 and ${samples[0]?.text ?? ''}`;
    expect(both.maskText(text).text).toBe('[MASKED:acme-key] and [MASKED:anthropic-api-key]');
    expect(only.maskText(text).text).toMatch(/^\[MASKED:acme-key\] and sk-ant-api03-/);
  });

  it('keeps an operator rule\'s flags and back-references', () => {
    const masker2 = createMasker({
      patterns: [
        { name: 'shouty', regex: /internal-[a-z]{6}/giu },
        { name: 'twice', regex: /(zz[0-9])-\1/g },
      ],
    });
    expect(masker2.maskText('INTERNAL-ABCDEF zz7-zz7 zz7-zz8').text).toBe('[MASKED:shouty] [MASKED:twice] zz7-zz8');
  });

  it('refuses bad rules with one message naming each', () => {
    const build = () =>
      createMasker({
        patterns: [
          { name: 'has space', regex: /x{3}/g },
          { name: 'empty', regex: /a*/g },
          { name: 'bad-charset', regex: /tok_[a-z]+/g, charset: '[a-' },
        ],
      });
    expect(build).toThrow(/has space[\s\S]*empty[\s\S]*matches the empty string[\s\S]*bad-charset/);
  });

  it.each([
    ['acme_[a-z0-9]{32}', 'acme_'],
    ['tok\\d+', 'tok'],
    ['\\.env=\\S+', '.env='],
    ['ab?c', 'a'],
    ['xy{3}', 'x'],
    ['(?:a|b)_key', ''],
    ['foo_[a-z]+|bar_[a-z]+', ''],
    ['^anchored', ''],
    ['\\bacme-[0-9]+', 'acme-'],
  ])('derives the streaming prefix of /%s/ as "%s"', (source, literal) => {
    expect(leadingLiteral(source)).toBe(literal);
  });
});
