// Renders a revocation report as HTML and screenshots it with headless Chromium, to look at the
// page a security review gets. Screenshots stay outside the repository (default: the temp folder).
//
//   npx tsx scripts/screenshot-report.ts                       # a demo report
//   npx tsx scripts/screenshot-report.ts --report latest.json  # a report written by the reconciler
//   npx tsx scripts/screenshot-report.ts --out /tmp/report.png --width 1280 --height 2400
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderHtml } from '../broker/reconcile/report/render-html.ts';
import type { RevocationReport } from '../broker/reconcile/report/report-schema.ts';
import { findChromium, runChromium } from './chromium.ts';
import { buildDemoReport } from './demo-report.ts';

const { values } = parseArgs({
  options: {
    report: { type: 'string' },
    out: { type: 'string', default: join(tmpdir(), 'skillgate-revocation-report.png') },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '2400' },
  },
});

const browser = findChromium();
if (!browser) {
  console.error('chromium is not installed: apt-get update && apt-get install -y chromium (or set CHROMIUM=/path/to/chrome)');
  process.exit(1);
}
const report = values.report === undefined ? await buildDemoReport() : (JSON.parse(readFileSync(values.report, 'utf8')) as RevocationReport);
const html = join(mkdtempSync(join(tmpdir(), 'skillgate-report-html-')), `${report.id}.html`);
writeFileSync(html, renderHtml(report));
await runChromium(browser, html, [`--window-size=${values.width},${values.height}`, '--hide-scrollbars', `--screenshot=${values.out}`]);
console.log(`${html}\n${values.out}`);
