import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, type ConfigOverrides } from '../../src/config.js';
import { createServer, type Server, type ServerOptions } from '../../src/server.js';

export interface ListeningServer extends Server {
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * A server listening on a free loopback port: on a fresh SQLite store, or the store the
 * overrides name (a `databaseUrl`, or a `dataDir` that is then not removed).
 */
export async function startListening(overrides: ConfigOverrides = {}, options: ServerOptions = {}): Promise<ListeningServer> {
  const own = overrides.dataDir === undefined;
  const dir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'ccri-listen-'));
  // The base URL must name the port the OS picks, so the app is created after a port is known.
  const probe = await import('node:net').then(
    (net) =>
      new Promise<number>((resolve) => {
        const srv = net.createServer().listen(0, '127.0.0.1', () => {
          const port = (srv.address() as AddressInfo).port;
          srv.close(() => resolve(port));
        });
      }),
  );
  const baseUrl = `http://127.0.0.1:${probe}/STU3`;
  const server = await createServer(loadConfig({ demoData: false, baseUrl, port: probe, ...overrides, dataDir: dir }, {}), { logger: false, ...options });
  await server.app.listen({ port: probe, host: '127.0.0.1' });
  return {
    ...server,
    baseUrl,
    async stop() {
      await server.close();
      if (own) rmSync(dir, { recursive: true, force: true });
    },
  };
}
