import type { Scope } from '../config/schema.ts';

/** The scope a proxied request needs; every request is classified into exactly one. */
export type Operation = Exclude<Scope, 'audit:read'>;

/** What `classifyRequest` learns from method + path + query + headers, before any body is read. */
export interface ClassifiedRequest {
  operation: Operation;
  /** The matched route template, e.g. `DELETE /v1/skills/{skill_id}`; also the metrics label. */
  route: string;
  /** Path and query for the upstream request, rebuilt from the template, validated ids and allowlisted query parameters. */
  upstreamPath: string;
  /** Validated path parameters (`skill_id`, `version`, `file_id`, `batch_id`, `model_id`). */
  params: Readonly<Record<string, string>>;
  /** True for the beta variant (`?beta=true` or an `anthropic-beta` value of the Skills/Files betas). */
  beta: boolean;
  /** The body the route takes: JSON (guarded field by field), multipart (skill/file uploads), or none. */
  body: 'json' | 'multipart' | 'none';
  /** True when the response is an SSE stream or may be one (`stream: true` is only known after the body is read). */
  mayStream: boolean;
}
