import type { Store } from '../store/store.ts';
import type { OpenStreams } from './open-streams.ts';

/** How often open streams are checked against revocations (security.md R-09: cut within 2 s). */
export const REVOCATION_CHECK_MS = 500;

/**
 * `watchRevokedStreams` ends the open streams of a token that gets revoked — by this broker, the
 * CLI, the reconciler or another replica sharing the store: while any stream is open it polls the
 * store's revocation epoch and, when it moves, looks up the tokens that have streams open. Returns
 * the function that stops watching. A store that cannot be read is retried at the next tick (the
 * next request on such a token is refused by authentication anyway).
 */
export function watchRevokedStreams(store: Store, streams: OpenStreams, everyMs = REVOCATION_CHECK_MS): () => void {
  let epoch: number | undefined;
  let checked = new Set<string>();
  let checking = false;
  const check = async () => {
    if (checking || streams.size === 0) return;
    checking = true;
    try {
      const current = await store.revocationEpoch();
      const open = streams.tokenIds();
      // After a revocation every token with a stream is looked up; otherwise only those new since
      // the last look (revoked between their authentication and their stream opening).
      for (const id of current === epoch ? open.filter((t) => !checked.has(t)) : open) {
        const token = await store.getToken(id);
        if (token === undefined || token.revokedAt !== undefined) streams.terminateToken(id);
      }
      epoch = current;
      checked = new Set(open);
    } catch {
      // Unreadable store: try again next tick.
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
