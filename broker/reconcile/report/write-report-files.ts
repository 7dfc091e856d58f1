import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderHtml } from './render-html.ts';
import { renderMarkdown } from './render-markdown.ts';
import type { RevocationReport } from './report-schema.ts';

/**
 * `writeReportFiles` puts a report into `directory` as ID.json, ID.md and ID.html, and the same
 * three as latest.*. Each file is written beside its final name and renamed into place, so a
 * reader never sees half a report.
 */
export async function writeReportFiles(directory: string, report: RevocationReport): Promise<string[]> {
  await mkdir(directory, { recursive: true, mode: 0o750 });
  const renderings = { json: `${JSON.stringify(report, null, 2)}\n`, md: renderMarkdown(report), html: renderHtml(report) };
  const written: string[] = [];
  for (const [ext, text] of Object.entries(renderings)) {
    for (const name of [`${report.id}.${ext}`, `latest.${ext}`]) {
      const path = join(directory, name);
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, text, { mode: 0o640 });
      await rename(temporary, path);
      written.push(path);
    }
  }
  return written;
}
