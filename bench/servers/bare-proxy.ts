// Bench child: the floor for any proxy that must read the body — parse and re-serialise the JSON,
// forward with undici, pipe the answer back unchanged (no auth, no checks, no masking).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.argv[2]!;
const pool = new Pool(upstream, { connections: 256 });
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  const up = await pool.request({
    path: req.url ?? '/',
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'anthropic-version': String(req.headers['anthropic-version']), 'x-api-key': String(req.headers['x-api-key']) },
  });
  res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
  up.body.pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.once('SIGTERM', () => process.exit(0));
