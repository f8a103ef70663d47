import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigOverrides } from '../../src/config.js';
import type { TokenIssuer } from '../../src/auth/issuer.js';
import type { Logger } from '../../src/interactions/types.js';
import { createServer, type Server } from '../../src/server.js';
import { createTestSchema, shouldRunPostgres } from './postgres.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface TestServer extends Server {
  /** Where its store is: the SQLite data directory, or the PostgreSQL URL (its own schema). */
  location: { dataDir?: string; databaseUrl?: string };
  request(method: string, url: string, options?: { body?: unknown; headers?: Record<string, string> }): Promise<TestResponse>;
  cleanup(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  json: any;
}

/** A server on a fresh store of the given kind, driven through app.inject(). */
export async function startTestServer(kind: StoreKind, overrides: ConfigOverrides = {}, clock?: () => number, logger?: Logger, issuer?: TokenIssuer): Promise<TestServer> {
  let cleanupStore: () => Promise<void>;
  const o: ConfigOverrides = { demoData: false, cursorSecret: 'test-secret', ...overrides };
  if (kind === 'postgres') {
    const schema = await createTestSchema();
    o.databaseUrl = schema.url;
    cleanupStore = schema.drop;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-http-'));
    o.dataDir = dir;
    cleanupStore = async () => rmSync(dir, { recursive: true, force: true });
  }
  const server = await createServer(loadConfig(o, {}), { logger: logger ?? false, ...(clock ? { clock } : {}), ...(issuer ? { issuer } : {}) });
  return {
    ...server,
    location: o.databaseUrl ? { databaseUrl: o.databaseUrl } : { dataDir: o.dataDir! },
    async request(method, url, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      let payload: string | undefined;
      if (options.body !== undefined) {
        payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
        headers['content-type'] ??= 'application/fhir+json';
      }
      const res = await server.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
      let json: unknown;
      try {
        json = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, headers: res.headers, text: res.body, json };
    },
    async cleanup() {
      await server.close();
      await cleanupStore();
    },
  };
}

/** The store kinds to run suites on: SQLite always, PostgreSQL when reachable (always under CI=true). */
export async function storeKinds(): Promise<StoreKind[]> {
  return (await shouldRunPostgres()) ? ['sqlite', 'postgres'] : ['sqlite'];
}
