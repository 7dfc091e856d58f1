import { badField, isObject, quote, refuse, type GuardContext } from './context.ts';
import { toolAllowed, toolRule } from './tools.ts';

/**
 * `checkMcpServers` enforces `mcp_servers`: naming a server lets Anthropic connect to it and hand
 * its tools to the model, so any entry needs `grant.tools.mcp: allow` and its `url` must be listed
 * exactly in `grant.mcpServers` (403 `mcp_server_not_allowed`). Messages name the server by its
 * index and `name`, never by URL: URLs and `authorization_token` may carry credentials.
 */
export function checkMcpServers(servers: unknown, ctx: GuardContext): void {
  if (servers === undefined) return;
  if (!Array.isArray(servers)) throw badField(ctx, 'mcp_servers', 'an array');
  servers.forEach((server: unknown, i) => {
    const at = `mcp_servers[${i}]`;
    if (!isObject(server) || typeof server['url'] !== 'string') throw badField(ctx, at, 'an object with a url');
    const label = typeof server['name'] === 'string' ? `${at} (${quote(server['name'])})` : at;
    if (!toolAllowed(ctx.grant, 'mcp')) {
      throw refuse(ctx, 'mcp_server_not_allowed', label, toolRule(ctx.grant, 'mcp'), 'set tools.mcp: allow and list the server URL in grant.mcp_servers');
    }
    if (!(ctx.grant.mcpServers ?? []).includes(server['url'])) {
      throw refuse(ctx, 'mcp_server_not_allowed', `${label} url`, 'grant.mcp_servers does not list it', 'add the exact server URL to grant.mcp_servers');
    }
  });
}
