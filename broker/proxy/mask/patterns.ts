/**
 * The built-in secret patterns (security.md §E.2), ported to JavaScript with the §E.1 notes applied:
 * - no leading `\b` before a vendor prefix: JSON escapes (`\nsk-ant-…`) and ANSI codes put a word
 *   character right before the key, and the prefix anchors the match anyway;
 * - gitleaks' trailing delimiter group becomes a negative look-ahead, so only the secret is replaced
 *   and a key followed by `,` `}` `)` is still caught;
 * - gitleaks' `(?i)` groups become explicit character classes (Node 20 has no inline modifiers).
 *   Vendor prefixes stay case-sensitive: real tokens use the canonical case;
 * - fixed upper bounds (`{10,99}`, `{43,56}`) become open-ended, so an over-long run is masked
 *   whole instead of leaving its tail behind.
 * Entropy gates and allow-lists (`…EXAMPLE`) are not ported: over-masking a sample is harmless.
 * The generic high-entropy rule is left out on purpose (§E.2: "NOT for rewriting model output").
 */

/** A masking rule: every match of `regex` is replaced by `[MASKED:<name>]`. */
export interface MaskRule {
  /** Shown in the replacement; letters, digits, `.`, `_`, `-`. */
  name: string;
  /** Flags are kept except `g`/`y`, which the masker sets itself. */
  regex: RegExp;
  /**
   * Streaming hint: literal text every match starts with. Lets the stream masker hold back only a
   * tail that could grow into a match. Derived from the regex source when omitted; a rule without a
   * usable literal prefix makes every text stream hold back its last `maxHoldBack` characters.
   */
  prefixes?: readonly string[];
  /**
   * Streaming hint: a regex character class of what may follow a prefix inside a match (and decide
   * a trailing look-ahead), e.g. `[A-Za-z0-9_-]`. Default `\S`: a match cannot span whitespace.
   */
  charset?: string;
}

/** A built-in rule may also describe how an open candidate continues and what ends a swallowed match. */
export interface BuiltinRule extends MaskRule {
  prefixes: readonly string[];
  charset: string;
  /** Source of what may follow a prefix in a candidate still growing at the end of the text; default `charset*`. */
  open?: string;
  /**
   * Class of what ends a match, repeated without bound (default `charset`): a match that outgrew the
   * hold-back went out masked and swallows exactly this much more, as the regex itself would.
   */
  tail?: string;
  /** …or swallows up to and including this terminator (private keys). */
  until?: RegExp;
}

const KEY = '[A-Za-z0-9_-]';
const ALNUM = '[A-Za-z0-9]';
const WORD = '[A-Za-z0-9_]';
const B64 = '[A-Za-z0-9+/]';

// gitleaks allows `-` in the label; then a footer's label could run across `-----` into the next
// header, and where a match ends would depend on text that has not arrived yet. Real labels
// (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP … BLOCK) have no dash.
const PEM_LABEL = '[ A-Z0-9_]{0,100}PRIVATE KEY(?: BLOCK)?-----';
const PEM_END = `-----END${PEM_LABEL}`;

// gitleaks `jwt-base64`: base64 of `{"alg":`, `{"typ":`, … — a JWT that was base64-encoded again.
const JWT_BASE64_HEADS = [
  'aGJHY2lPaU', 'aGNIVWlPaU', 'aGNIWWlPaU', 'aGRXUWlPaU', 'aU5qUWlP', 'amNtbDBJanBi', 'amRIa2lPaU',
  'bGNHc2lPbn', 'bGJtTWlPaU', 'cWEzVWlPaU', 'cWQyc2lPb', 'cGMzTWlPaU', 'cGRpSTZJ', 'cmFXUWlP',
  'clpYbGZiM0J6SWpwY', 'cmRIa2lPaUp', 'dWIyNWpaU0k2', 'd01tTWlP', 'd01uTWlPaU', 'd2NIUWlPaU', 'emRXSWlPaU',
  'emRuUWlP', 'MFlXY2lPaU', 'MGVYQWlPaUp', 'MWNtd2l', 'MWMyVWlPaUp', 'MlpYSWlPaU', 'MlpYSnphVzl1SWpv',
  'NElqb2', 'NE5XTWlP', 'NE5YUWlPaU', 'NE5YUWpVekkxTmlJNkl', 'NE5YVWlPaU', 'NmFYQWlPaU',
];

function rule(name: string, source: string, prefixes: readonly string[], charset: string, extra: Partial<BuiltinRule> = {}): BuiltinRule {
  return { name, regex: new RegExp(source, 'g'), prefixes, charset, ...extra };
}

/**
 * `BUILTIN_RULES` lists the built-in rules in priority order: where two rules match at the same
 * position the earlier one names the replacement (specific keys before their family's backstop).
 */
export const BUILTIN_RULES: readonly BuiltinRule[] = [
  // ---------- Anthropic ----------
  rule('anthropic-api-key', `sk-ant-api03-${KEY}{93}AA(?!${KEY})`, ['sk-ant-api03-'], KEY),
  rule('anthropic-admin-key', `sk-ant-admin01-${KEY}{93}AA(?!${KEY})`, ['sk-ant-admin01-'], KEY),
  // claude-code-action's backstop: OAuth (`oat01`/`ort01`), request tokens and future families.
  rule('anthropic-token', `sk-ant-${KEY}{20,}`, ['sk-ant-'], KEY),

  // ---------- OpenAI ----------
  rule('openai-api-key', `sk-(?:proj|svcacct|admin)-${KEY}{20,}|sk-${ALNUM}{20}T3BlbkFJ${ALNUM}{20}(?!${ALNUM})`, ['sk-'], KEY),

  // ---------- AWS ----------
  rule('aws-access-key-id', `(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?!${WORD})`, ['A3T', 'AKIA', 'ASIA', 'ABIA', 'ACCA'], WORD),
  // The 40-character secret is only recognisable next to its name (trufflehog, gitleaks generic),
  // so the name goes into the match: a look-behind would be tried at every position of every text.
  rule(
    'aws-secret-access-key',
    `(?:aws_secret_access_key|AWS_SECRET_ACCESS_KEY|SecretAccessKey|secretAccessKey)["']?\\s{0,3}[:=]\\s{0,3}["']?${B64}{40}(?!${B64})`,
    ['aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY', 'SecretAccessKey', 'secretAccessKey'],
    B64,
    { open: `["']?\\s{0,3}(?:[:=]\\s{0,3}["']?${B64}*)?` },
  ),
  // `=` joins the class (gitleaks: `={0,2}` after it) so that a match ends in one class a stream can keep swallowing.
  rule('aws-bedrock-key', 'ABSK[A-Za-z0-9+/=]{109,}', ['ABSK'], '[A-Za-z0-9+/=]'),
  rule('aws-bedrock-short-key', 'bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=_-]*', ['bedrock-api-key-'], '[A-Za-z0-9+/=_-]'),

  // ---------- GitHub / GitLab ----------
  rule('github-pat', `ghp_${WORD}{36,}`, ['ghp_'], WORD),
  rule('github-oauth', `gho_${WORD}{36,}`, ['gho_'], WORD),
  rule('github-app-token', `gh[us]_${WORD}{36,}`, ['ghu_', 'ghs_'], WORD),
  rule('github-refresh-token', `ghr_${WORD}{36,}`, ['ghr_'], WORD),
  rule('github-fine-grained-pat', `github_pat_${WORD}{22,}`, ['github_pat_'], WORD),
  rule('gitlab-pat', `glpat-${KEY}{20,}`, ['glpat-'], KEY),

  // ---------- Slack ----------
  rule('slack-bot-token', 'xoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9-]*', ['xoxb-'], '[A-Za-z0-9-]'),
  rule('slack-user-token', 'xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,}', ['xoxp-', 'xoxe-'], '[A-Za-z0-9-]'),
  rule('slack-app-token', `xapp-[0-9]-${ALNUM}+-[0-9]+-${ALNUM}+`, ['xapp-'], '[A-Za-z0-9-]', { tail: ALNUM }),
  rule('slack-config-token', `xoxe\\.xox[bp]-[0-9]-${ALNUM}{163,}`, ['xoxe.xoxb-', 'xoxe.xoxp-'], '[A-Za-z0-9-]', { tail: ALNUM }),
  rule('slack-config-refresh-token', `xoxe-[0-9]-${ALNUM}{146,}`, ['xoxe-'], '[A-Za-z0-9-]', { tail: ALNUM }),
  // claude-code-action's catch-all for the legacy and workspace families.
  rule('slack-token', 'xox[abeoprs]-[A-Za-z0-9-]{10,}', ['xoxa-', 'xoxb-', 'xoxe-', 'xoxo-', 'xoxp-', 'xoxr-', 'xoxs-'], '[A-Za-z0-9-]'),
  // The scheme is left in place so a stream that already sent `https://` masks the same way.
  rule('slack-webhook-url', `hooks\\.slack\\.com/(?:services|workflows|triggers)/${B64}{43,}`, ['hooks.slack.com/'], B64),

  // ---------- Stripe / other SaaS ----------
  rule('stripe-key', `(?:sk|rk)_(?:test|live|prod)_${ALNUM}{10,}`, ['sk_test_', 'sk_live_', 'sk_prod_', 'rk_test_', 'rk_live_', 'rk_prod_'], ALNUM),
  rule('gcp-api-key', `AIza${KEY}{35,}`, ['AIza'], KEY),
  rule('huggingface-token', 'hf_[A-Za-z]{34,}', ['hf_'], '[A-Za-z]'),
  rule('npm-token', `npm_${ALNUM}{36,}`, ['npm_'], ALNUM),
  rule('pypi-upload-token', `pypi-AgEIcHlwaS5vcmc${KEY}{50,}`, ['pypi-AgEIcHlwaS5vcmc'], KEY),
  rule('sendgrid-token', 'SG\\.[A-Za-z0-9=_.-]{66,}', ['SG.'], '[A-Za-z0-9=_.-]'),

  // ---------- Private keys ----------
  // From the header to the matching footer, or to the end of the text when the footer never comes:
  // a truncated key is still a key. Streams never hold a whole PEM: once the header is seen and the
  // block outgrows the hold-back, the rest is swallowed up to the footer.
  rule('private-key', `-----BEGIN${PEM_LABEL}[\\s\\S]*?(?:${PEM_END}|$)`, ['-----BEGIN'], '[\\s\\S]', {
    open: `[ A-Z0-9_]{0,100}(?:PRIVATE KEY(?: BLOCK)?(?:-{0,4}|-----(?:(?!${PEM_END})[\\s\\S])*))?`,
    until: new RegExp(PEM_END),
  }),

  // ---------- JWTs (OIDC tokens, GitHub's ACTIONS_RUNTIME_TOKEN, other bearer tokens) ----------
  // A header and anything after its dot: an unsigned or truncated token is masked too, and so are
  // payload and signature when a stream had to release an over-long header. The part after the dot
  // is one class (dots included) so that a match ends in one class a stream can keep swallowing.
  rule('jwt', `eyJ${KEY}{10,}\\.[A-Za-z0-9_.-]{10,}`, ['eyJ'], '[A-Za-z0-9_.-]'),
  rule('jwt-base64', `ZXlK(?:${JWT_BASE64_HEADS.join('|')})[A-Za-z0-9+/=_-]{40,}`, ['ZXlK'], '[A-Za-z0-9+/=_-]'),

  // ---------- skillgate's own tokens ----------
  rule('skillgate-token', `sgt_${KEY}{20,}`, ['sgt_'], KEY),
];
