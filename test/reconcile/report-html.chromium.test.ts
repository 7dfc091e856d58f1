// The HTML report opens in headless Chromium (Debian's `chromium`; .ci/run installs it) with its
// CSP intact: the tables are there and the page's own script ran. Without Chromium this fails.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renderHtml } from '../../broker/reconcile/report/render-html.ts';
import type { RevocationReport } from '../../broker/reconcile/report/report-schema.ts';
import { findChromium, runChromium } from '../../scripts/chromium.ts';
import { buildDemoReport } from '../../scripts/demo-report.ts';

let dir: string;
let report: RevocationReport;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-report-dom-'));
  report = await buildDemoReport();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('renders the report tables and chart in headless Chromium', async () => {
  const browser = findChromium();
  if (!browser) throw new Error('chromium is not installed: run apt-get update && apt-get install -y chromium (.ci/run does), or set CHROMIUM');
  const path = join(dir, 'report.html');
  writeFileSync(path, renderHtml(report));
  const dom = await runChromium(browser, path, ['--dump-dom']);
  for (const id of ['summary-table', 'reasons-table', 'checks-table', 'revocations-table', 'expired-table', 'recommendations-table']) {
    expect(dom).toMatch(new RegExp(`<table id="${id}" class="sortable">`));
  }
  expect(dom).toContain('<svg id="revocations-chart"');
  expect(dom.match(/<rect class="revoked"/g)?.length).toBeGreaterThanOrEqual(2);
  expect(dom).toContain('<td>policy_removed</td>');
  // The sorting script ran, so the CSP hash admits it.
  expect(dom).toMatch(/<html[^>]*data-sortable="ready"/);
});
