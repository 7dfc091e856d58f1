import { badField, isObject, onlyKnownKeys, type GuardContext } from './context.ts';
import { checkMessagesParams } from './messages.ts';

const BATCH_FIELDS: ReadonlySet<string> = new Set(['requests']);
const ITEM_FIELDS: ReadonlySet<string> = new Set(['custom_id', 'params']);

/**
 * `checkBatch` guards `POST /v1/messages/batches` (C-17): a batch is many Messages requests run
 * later, so every `requests[].params` passes the same checks as a `POST /v1/messages` body, and
 * one refused item refuses the batch, naming the item.
 */
export function checkBatch(body: Record<string, unknown>, ctx: GuardContext): void {
  onlyKnownKeys(body, BATCH_FIELDS, ctx);
  const requests = body['requests'];
  if (!Array.isArray(requests) || requests.length === 0) throw badField(ctx, 'requests', 'a non-empty array of {custom_id, params}');
  requests.forEach((item: unknown, i) => {
    const at = `requests[${i}]`;
    if (!isObject(item)) throw badField(ctx, at, 'an object {custom_id, params}');
    onlyKnownKeys(item, ITEM_FIELDS, ctx, `${at}.`);
    if (typeof item['custom_id'] !== 'string') throw badField(ctx, `${at}.custom_id`, 'a string');
    const params = item['params'];
    if (!isObject(params)) throw badField(ctx, `${at}.params`, 'an object of Messages parameters');
    checkMessagesParams(params, 'batch_item', { ...ctx, at: `${ctx.at}${at}.params.` });
  });
}
