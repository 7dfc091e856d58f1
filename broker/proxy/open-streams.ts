/** Why the broker itself ends a stream before the upstream does. */
export type StreamCut = 'shutdown' | 'revoked';

/**
 * The SSE responses in flight, by the token that opened them, so the broker can end them itself
 * with a terminal `event: error` (the SDK raises it) instead of cutting the connection mid-event:
 * all of them when a shutdown outlives its grace period, a token's when it is revoked.
 */
export interface OpenStreams {
  /** Registers a stream's terminate function; returns the function that unregisters it. */
  add(tokenId: string, terminate: (why: StreamCut) => void): () => void;
  /** Ends every open stream; returns how many there were. */
  terminateAll(): number;
  /** Ends the open streams of one token; returns how many there were. */
  terminateToken(tokenId: string): number;
  /** The tokens with a stream open. */
  tokenIds(): string[];
  readonly size: number;
}

export function createOpenStreams(): OpenStreams {
  const open = new Map<(why: StreamCut) => void, string>();
  const end = (why: StreamCut, which: (tokenId: string) => boolean): number => {
    let count = 0;
    for (const [terminate, tokenId] of [...open]) {
      if (!which(tokenId)) continue;
      open.delete(terminate);
      terminate(why);
      count++;
    }
    return count;
  };
  return {
    add(tokenId, terminate) {
      open.set(terminate, tokenId);
      return () => open.delete(terminate);
    },
    terminateAll: () => end('shutdown', () => true),
    terminateToken: (id) => end('revoked', (tokenId) => tokenId === id),
    tokenIds: () => [...new Set(open.values())],
    get size() {
      return open.size;
    },
  };
}
