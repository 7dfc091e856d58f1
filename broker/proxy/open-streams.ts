/**
 * The SSE responses in flight, so a shutdown can end the ones that outlive its grace period with
 * a terminal `event: error` (the SDK raises it) instead of cutting the connection mid-event.
 */
export interface OpenStreams {
  /** Registers a stream's terminate function; returns the function that unregisters it. */
  add(terminate: () => void): () => void;
  /** Ends every open stream; returns how many there were. */
  terminateAll(): number;
  readonly size: number;
}

export function createOpenStreams(): OpenStreams {
  const open = new Set<() => void>();
  return {
    add(terminate) {
      open.add(terminate);
      return () => open.delete(terminate);
    },
    terminateAll() {
      const count = open.size;
      for (const terminate of [...open]) terminate();
      open.clear();
      return count;
    },
    get size() {
      return open.size;
    },
  };
}
