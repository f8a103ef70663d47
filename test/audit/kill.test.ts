import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { ccri, cliEnv } from '../helpers/cli.js';
import { createTestSchema } from '../helpers/postgres.js';
import { storeKinds } from '../helpers/server.js';

/**
 * Issue 11: `kill -9` during a storm of reads and writes loses no audit: every response a
 * client received has its AuditEvent after the restart (matched by request id), and the
 * chain still verifies. A real `ccri serve` on a free port, on both stores.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function serve(env: Record<string, string | undefined>): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/cli/main.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--no-demo-data', '--base-url', 'http://storm.test/STU3'], {
    env: cliEnv({ ...env, CCRI_LOG_LEVEL: 'info', CCRI_NODE_NAME: 'storm' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => void child.kill('SIGKILL'));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ccri serve did not start:\n${out}`)), 60_000);
    const check = (chunk: Buffer) => {
      out += String(chunk);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, address: m[1]! });
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.on('exit', (code) => reject(new Error(`ccri serve exited with ${code}:\n${out}`)));
  });
}

for (const kind of await storeKinds()) {
  describe(`kill -9 during a storm loses no audit (${kind})`, () => {
    it('every answered request has its AuditEvent after the restart', async () => {
      let env: Record<string, string | undefined>;
      let where: string[];
      if (kind === 'postgres') {
        const schema = await createTestSchema('ccri_storm');
        cleanups.push(schema.drop);
        env = { DATABASE_URL: schema.url };
        where = ['--database-url', schema.url];
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'ccri-storm-'));
        cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
        env = { CCRI_DATA_DIR: dir };
        where = ['--data-dir', dir];
      }
      const { child, address } = await serve(env);
      // Our own server: its metadata names the base URL given to it.
      const meta = (await (await fetch(`${address}/STU3/metadata`)).json()) as { implementation: { url: string } };
      expect(meta.implementation.url).toBe('http://storm.test/STU3');

      const answered: string[] = [];
      let stop = false;
      let n = 0;
      const worker = async (w: number) => {
        while (!stop) {
          const i = n++;
          const id = `w${w}-${i}`;
          const request =
            i % 3 === 0
              ? fetch(`${address}/STU3/Patient/${id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id, gender: 'female' }) })
              : i % 3 === 1
                ? fetch(`${address}/STU3/Patient?gender=female&_count=5`)
                : fetch(`${address}/STU3/Patient/w${w}-${i - 2}`);
          try {
            const res = await request;
            await res.arrayBuffer();
            if (res.status < 500) answered.push(res.headers.get('x-request-id')!);
          } catch {
            // Cut off by the kill: never answered, so nothing is owed.
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => worker(w));
      // Kill once the storm has run a while (measured in answers, not time).
      while (answered.length < 400) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      expect(answered.length).toBeGreaterThanOrEqual(400);

      // After the restart (the commands open the store as a new process does): every answered request is in the trail.
      const exported = ccri(['audit', 'export', ...where]);
      expect(exported.status, exported.stderr).toBe(0);
      const recorded = new Set<string>();
      for (const line of exported.stdout.trim().split('\n')) {
        const e = JSON.parse(line) as { entity: Array<{ identifier?: { system: string; value: string } }> };
        const id = e.entity.find((x) => x.identifier?.system === 'urn:ccri:request-id')?.identifier?.value;
        if (id) recorded.add(id);
      }
      const missing = answered.filter((id) => !recorded.has(id));
      expect(missing, `${missing.length} of ${answered.length} answered requests have no AuditEvent`).toEqual([]);
      const verify = ccri(['audit', 'verify', ...where]);
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    }, 180_000);
  });
}
