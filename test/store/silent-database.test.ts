import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';

/**
 * A PostgreSQL address that takes the connection and never answers (a hung server, a
 * firewall that swallows the handshake): opening the store fails with a reason, within the
 * connect timeout, rather than waiting without end on the store's lock connection.
 */
describe('a database that never answers', () => {
  const sockets: Socket[] = [];
  let server: Server;
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server?.close(r));
  });

  it('fails the store opening with a reason within the connect timeout', async () => {
    server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const started = Date.now();
    const opening = openStore({ ...defaultStoreOptions(), databaseUrl: `postgres://nobody@127.0.0.1:${port}/none` });
    await expect(opening).rejects.toThrow(/timeout/i);
    // The connection reached this server: the refusal is its silence, not a closed port.
    expect(sockets.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 40_000);
});
