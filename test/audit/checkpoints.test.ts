// The broker logs the head of its audit trail (security.md R-06): a line kept off the host that
// `audit verify --checkpoint` later checks the trail against. Real store, real pino logger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { parseCheckpoint } from '../../broker/audit/audit-record.ts';
import { logAuditCheckpoints } from '../../broker/audit/checkpoints.ts';
import { openSqliteStore } from '../../broker/store/sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'skillgate-checkpoints-'));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('logs the head when it moved (not when it did not), and once more when stopped; each line verifies', async () => {
  const store = openSqliteStore(join(dir, 'skillgate.db'));
  const lines: { audit_checkpoint?: string }[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => done(void lines.push(JSON.parse(chunk.toString()) as { audit_checkpoint?: string })) });
  const logger = pino({ level: 'info' }, sink);
  const checkpoints = () => lines.map((l) => l.audit_checkpoint).filter((c) => c !== undefined);

  const stop = logAuditCheckpoints(store, logger, 20);
  await sleep(80);
  expect(checkpoints()).toEqual([]); // an empty trail has no head
  await store.appendAudit({ type: 'token.revoke', at: Date.now(), session: 'tok_1' });
  await sleep(80);
  // Two records in one group commit: the head moves from 1 to 3 at once.
  await Promise.all(['tok_2', 'tok_3'].map((session) => store.appendAudit({ type: 'token.revoke', at: Date.now(), session })));
  await sleep(80);
  await stop();

  const seen = checkpoints().map((c) => parseCheckpoint(c)!);
  expect(seen.map((c) => c.seq)).toEqual([1, 3]);
  for (const checkpoint of seen) expect(await store.verifyAudit(checkpoint)).toMatchObject({ ok: true, records: 3 });
  await store.close();
});
