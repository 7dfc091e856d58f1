/**
 * Names of what the main step hands the post step through `core.saveState`; the runner gives them
 * back to the post step as `STATE_<name>` variables.
 */
export const STATE = { token: 'token', sessionId: 'session-id', brokerUrl: 'broker-url', expiresAt: 'expires-at' } as const;
