/**
 * Batch objects name a `results_url` on the upstream's origin; a caller must fetch results
 * through the proxy (where they are authorized and masked), so the origin is swapped for ours.
 */
export function rewriteResultsUrl(body: unknown, upstreamOrigin: string, publicUrl: string): unknown {
  const rewriteOne = (item: unknown) => {
    const batch = item as { results_url?: unknown };
    if (batch && typeof batch.results_url === 'string' && batch.results_url.startsWith(`${upstreamOrigin}/`)) {
      batch.results_url = publicUrl + batch.results_url.slice(upstreamOrigin.length);
    }
  };
  const page = body as { data?: unknown };
  if (page && Array.isArray(page.data)) page.data.forEach(rewriteOne);
  else rewriteOne(body);
  return body;
}
