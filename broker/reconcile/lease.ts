import type { Store } from '../store/store.ts';

export const LEASE_NAME = 'reconciler';

/** Thrown when a run finds its lease taken over (it stalled past the TTL): it must not revoke. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export interface Lease {
  /** Renews now and throws LeaseLostError if another holder has it: called before any change. */
  confirm(): Promise<void>;
  release(): Promise<void>;
}

/**
 * `takeLease` elects this process to run the reconciler, across every broker sharing the store,
 * or returns undefined when another holds it. The lease is renewed in the background at a third
 * of its TTL, so a long run keeps it and a crashed holder's lease lapses by itself.
 */
export async function takeLease(store: Store, holder: string, now: () => number, ttlMs: number): Promise<Lease | undefined> {
  if (!(await store.acquireLease(LEASE_NAME, holder, now(), ttlMs))) return undefined;
  let lost = false;
  const renew = async () => {
    lost ||= !(await store.acquireLease(LEASE_NAME, holder, now(), ttlMs));
  };
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(1000, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    async confirm() {
      await renew();
      if (lost) throw new LeaseLostError(`the reconciler lease passed to another broker while this run (${holder}) was working; nothing was changed`);
    },
    async release() {
      clearInterval(timer);
      if (!lost) await store.releaseLease(LEASE_NAME, holder);
    },
  };
}
