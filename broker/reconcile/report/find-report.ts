import type { Store } from '../../store/store.ts';
import type { RevocationReport } from './report-schema.ts';

/** `findReport` reads a stored report by id, or the latest when `id` is undefined or "latest". */
export async function findReport(store: Store, id: string | undefined): Promise<RevocationReport | undefined> {
  const wanted = id === undefined || id === 'latest' ? (await store.listReports(1))[0]?.id : id;
  const stored = wanted === undefined ? undefined : await store.getReport(wanted);
  return stored && (JSON.parse(stored.body) as RevocationReport);
}
