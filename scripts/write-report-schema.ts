// Writes the published JSON Schema of the revocation report (schema/revocation-report.schema.json).
// A test fails when the committed file differs from the schema reports are built against.
import { writeFileSync } from 'node:fs';
import { reportJsonSchema } from '../broker/reconcile/report/report-schema.ts';

writeFileSync(new URL('../schema/revocation-report.schema.json', import.meta.url), reportJsonSchema());
console.log('wrote schema/revocation-report.schema.json');
