import { createServer, type AddressInfo } from 'node:net';

/** `freePort` asks the OS for a free port on 127.0.0.1 (for servers a test starts in another process). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
