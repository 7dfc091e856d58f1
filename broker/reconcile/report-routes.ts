import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { BrokerError } from '../errors.ts';
import type { createOperatorAuth } from '../http/operator-auth.ts';
import type { Store } from '../store/store.ts';
import { findReport } from './report/find-report.ts';
import { REPORT_HTML_CSP, renderHtml } from './report/render-html.ts';
import { renderMarkdown } from './report/render-markdown.ts';

const ListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false });
const ReportParams = Type.Object({ id: Type.String({ pattern: '^(latest|rpt_[0-9A-Za-z]{16})$' }) });
const ReportQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('md'), Type.Literal('html')])) }, { additionalProperties: false });

/**
 * `registerReportRoutes` serves the reconciler's revocation reports to operators:
 * `GET /v1/reports` (newest first, summaries), `GET /v1/reports/latest` and `/v1/reports/{id}`
 * as JSON (schema/revocation-report.schema.json), Markdown or a self-contained HTML page.
 */
export function registerReportRoutes(app: FastifyInstance, deps: { store: Store; requireOperator: ReturnType<typeof createOperatorAuth> }): void {
  // onRequest, not preHandler: a caller without the credential learns nothing from validation errors.
  const onRequest = async (request: Parameters<typeof deps.requireOperator>[0]) => void deps.requireOperator(request);

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/reports',
    { schema: { summary: 'Revocation reports, newest first (operator)', tags: ['reports'], querystring: ListQuery }, onRequest },
    async (request) => {
      const reports = await deps.store.listReports(request.query.limit ?? 100);
      return { data: reports.map((r) => ({ id: r.id, started_at: new Date(r.startedAt).toISOString(), finished_at: new Date(r.finishedAt).toISOString(), summary: r.summary })) };
    },
  );

  app.get<{ Params: Static<typeof ReportParams>; Querystring: Static<typeof ReportQuery> }>(
    '/v1/reports/:id',
    { schema: { summary: 'One revocation report, or the latest: JSON, Markdown (format=md) or HTML (format=html) (operator)', tags: ['reports'], params: ReportParams, querystring: ReportQuery }, onRequest },
    async (request, reply) => {
      const report = await findReport(deps.store, request.params.id);
      if (!report) {
        throw new BrokerError('not_found', 'report_not_found', request.params.id === 'latest' ? 'no revocation report yet; the reconciler has not run' : `no report with id ${request.params.id}`);
      }
      const format = request.query.format ?? 'json';
      if (format === 'md') return reply.type('text/markdown; charset=utf-8').send(renderMarkdown(report));
      if (format === 'html') return reply.type('text/html; charset=utf-8').header('content-security-policy', REPORT_HTML_CSP).header('x-content-type-options', 'nosniff').send(renderHtml(report));
      return report;
    },
  );
}
