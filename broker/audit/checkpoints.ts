import type { Store } from '../store/store.ts';
import { formatCheckpoint } from './audit-record.ts';

/** How often the head of the trail is logged, when it moved. */
export const CHECKPOINT_EVERY_MS = 60_000;

/** The part of a pino logger the checkpoints need. */
export interface CheckpointLog {
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * `logAuditCheckpoints` writes the head of the audit trail (`audit_checkpoint: "<seq>:<hash>"`) to
 * the log every `everyMs` while it moves, and once more when stopped. The chain proves that no
 * stored record changed; only a link kept outside the store proves that none was cut off its end
 * (security.md R-06): ship the log off the host, and `skillgate audit verify --checkpoint` checks
 * that the trail still reaches any line of it. Returns the function that stops it (logging a last one).
 */
export function logAuditCheckpoints(store: Store, log: CheckpointLog, everyMs = CHECKPOINT_EVERY_MS): () => Promise<void> {
  let last: string | undefined;
  const write = async () => {
    const head = await store.auditHead().catch(() => undefined);
    if (head === undefined) return;
    const checkpoint = formatCheckpoint(head);
    if (checkpoint === last) return;
    last = checkpoint;
    log.info({ audit_checkpoint: checkpoint }, 'audit checkpoint: keep this line outside the broker; skillgate audit verify --checkpoint proves the trail still reaches it');
  };
  const timer = setInterval(() => void write(), everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await write();
  };
}
