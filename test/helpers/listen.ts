import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, type ConfigOverrides } from '../../src/config.js';
import { createServer, type Server } from '../../src/server.js';

export interface ListeningServer extends Server {
  baseUrl: string;
  stop(): Promise<void>;
}

/** A server on a fresh SQLite store, listening on a free loopback port. */
export async function startListening(overrides: ConfigOverrides = {}): Promise<ListeningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-listen-'));
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
  const server = await createServer(loadConfig({ dataDir: dir, demoData: false, baseUrl, port: probe, ...overrides }, {}), { logger: false });
  await server.app.listen({ port: probe, host: '127.0.0.1' });
  return {
    ...server,
    baseUrl,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
