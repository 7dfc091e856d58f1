/** The header the proxy reads a caller's justification from (shown to approvers). */
export const JUSTIFICATION_HEADER = 'X-Skillgate-Justification';

/**
 * `anthropicEnv` returns the variables later steps need to reach Claude through the proxy: the
 * SDKs and Claude Code read ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY (x-api-key, or Bearer from SDK
 * 1.x) or ANTHROPIC_AUTH_TOKEN (Bearer); the proxy takes the token from either header. A
 * justification rides in ANTHROPIC_CUSTOM_HEADERS, which both add to every request, appended to
 * whatever headers the job already sets there.
 */
export function anthropicEnv(opts: { baseUrl: string; token: string; justification?: string; existingCustomHeaders?: string }): Record<string, string> {
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_API_KEY: opts.token,
    ANTHROPIC_AUTH_TOKEN: opts.token,
  };
  if (opts.justification !== undefined) {
    const kept = (opts.existingCustomHeaders ?? '')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.toLowerCase().startsWith(`${JUSTIFICATION_HEADER.toLowerCase()}:`));
    env['ANTHROPIC_CUSTOM_HEADERS'] = [...kept, `${JUSTIFICATION_HEADER}: ${opts.justification}`].join('\n');
  }
  return env;
}
