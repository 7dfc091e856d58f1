import type { BrokerEvent, Store } from '../store/store.ts';

/**
 * `recordEvent` is the one way anything the broker does is written down: exchanges (granted or
 * denied), revocations, and later proxy calls and approvals. Events carry hashes and verified
 * claims, never a token. The audit issue turns this into a durable, hash-chained record.
 */
export async function recordEvent(store: Store, event: BrokerEvent): Promise<void> {
  await store.appendEvent(event);
}
