import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ccri, cliEnv } from '../helpers/cli.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';
import { ccriAsync } from '../helpers/serve-process.js';

/**
 * `ccri serve --workers 2` (issue 15, "Many nodes"): two processes sharing one port, on
 * SQLite and on PostgreSQL. Which worker answered a request is read from the audit trail
 * afterwards: each worker writes its own chain (`<node name>-w<i>`), and each request's
 * event names the request id this test chose.
 */

const postgres = await shouldRunPostgres();
const root = mkdtempSync(join(tmpdir(), 'ccri-workers-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(root, { recursive: true, force: true });
});

const NODE = 'wk';
const FHIR_JSON = 'application/fhir+json';

interface Started {
  child: ChildProcess;
  port: number;
  /** The worker processes the banner names, by worker number. */
  workers: Map<number, number>;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `ccri serve --workers 2 --port 0` and waits for the banner, which must name the process started. */
function start(args: string[], env: Record<string, string>, options: { group?: boolean } = {}): Promise<Started> {
  // group: in a process group of its own, as a terminal's Ctrl-C or systemd's stop signals every process of it.
  const child = spawn(process.execPath, [CLI, 'serve', '--workers', '2', '--port', '0', '--host', '127.0.0.1', ...args], { env: cliEnv({ CCRI_NODE_NAME: NODE, ...env }), detached: options.group === true });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 120 s:\n${out}`)), 120_000);
    const check = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+) \(process (\d+)\)\nStore: .*\nWorkers: 2 processes sharing the port, each a node of its own: (\d+) \(wk-w1\), (\d+) \(wk-w2\)\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      if (Number(m[2]) !== child.pid) return reject(new Error(`the banner names process ${m[2]}, not the one started (${child.pid})`));
      resolve({ child, port: Number(m[1]), workers: new Map([[1, Number(m[3])], [2, Number(m[4])]]), output: () => out, exited });
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`exited with ${code} before its banner:\n${out}`)));
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/**
 * One HTTP request with the request id given. Without an agent it goes on a connection of its
 * own, which the primary hands to the next worker in turn.
 */
function call(port: number, method: string, path: string, requestId: string, options: { body?: unknown; headers?: Record<string, string>; agent?: Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      { host: '127.0.0.1', port, method, path, agent: options.agent ?? false, headers: { accept: FHIR_JSON, 'x-request-id': requestId, ...(body ? { 'content-type': FHIR_JSON } : {}), ...options.headers } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += String(d)));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Which node's chain recorded each request id (`ccri audit export`). */
async function answeredBy(env: Record<string, string>): Promise<Map<string, string>> {
  const r = await ccriAsync(['audit', 'export'], env);
  expect(r.status, r.stderr).toBe(0);
  const by = new Map<string, string>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const event = JSON.parse(line) as { source: { site: string }; entity?: Array<{ identifier?: { system?: string; value?: string } }> };
    const id = event.entity?.find((e) => e.identifier?.system === 'urn:ccri:request-id')?.identifier?.value;
    if (id) by.set(id, event.source.site);
  }
  return by;
}

const nodesOf = (by: Map<string, string>, ids: string[]) => new Set(ids.map((id) => by.get(id) ?? `(no event for ${id})`));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once nothing listens on the port any more. */
async function refused(port: number): Promise<void> {
  for (;;) {
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    if (outcome === 'ECONNREFUSED') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once `pattern` matches in what the server printed. */
async function printed(s: Started, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const m = pattern.exec(s.output());
    if (m) return m;
    if (s.child.exitCode !== null) throw new Error(`the server exited:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exercise(kind: string, store: Record<string, string>, demoData: boolean): Promise<void> {
  const s = await start(demoData ? [] : ['--no-demo-data'], store);
  const { port } = s;
  // Both workers start on an empty store at once: one migrates and loads the demo data, the other waits and finds it done.
  if (demoData) {
    // The banner is one write, but a pipe may still deliver it in pieces: wait for the demo users' lines.
    await printed(s, /Demo users for signing in[^\n]*\n(?: {2}\S+ \/ [^\n]*\n){2}/);
    expect(s.output().match(/Demo users for signing in/g)).toHaveLength(1);
    const history = await call(port, 'GET', '/STU3/Patient/2/_history', `${kind}-demo`);
    expect(history.status).toBe(200);
    expect(history.body.entry).toHaveLength(1);
  }

  // Written through one kept-alive connection; read, searched and version-checked through fresh ones.
  const writer = new Agent({ keepAlive: true, maxSockets: 1 });
  const identifier = { system: 'urn:ccri:test', value: `${kind}-workers` };
  const created = await call(port, 'POST', '/STU3/Patient', `${kind}-create`, { agent: writer, body: { resourceType: 'Patient', identifier: [identifier], name: [{ family: 'Worker' }] } });
  expect(created.status).toBe(201);
  const id = String(created.body.id);
  const readers: string[] = [];
  let version = 1;
  for (let i = 0; i < 6; i++) {
    const read = await call(port, 'GET', `/STU3/Patient/${id}`, `${kind}-read-${i}`);
    readers.push(`${kind}-read-${i}`);
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe(`W/"${version}"`);
    const found = await call(port, 'GET', `/STU3/Patient?identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}&name=Worker${version}`, `${kind}-search-${i}`);
    readers.push(`${kind}-search-${i}`);
    expect(found.status).toBe(200);
    expect(found.body.total).toBe(version === 1 ? 0 : 1);
    // An update on whichever worker takes the next connection, checked against the version the other one answered.
    if (version > 1) {
      const stale = await call(port, 'PUT', `/STU3/Patient/${id}`, `${kind}-stale-${i}`, { headers: { 'if-match': `W/"${version - 1}"` }, body: { resourceType: 'Patient', id, identifier: [identifier] } });
      expect(stale.status).toBe(412);
    }
    const updated = await call(port, 'PUT', `/STU3/Patient/${id}`, `${kind}-update-${i}`, { headers: { 'if-match': `W/"${version}"` }, body: { resourceType: 'Patient', id, identifier: [identifier], name: [{ family: `Worker${version + 1}` }] } });
    expect(updated.status).toBe(200);
    version++;
    expect(updated.headers.etag).toBe(`W/"${version}"`);
    readers.push(`${kind}-update-${i}`);
  }

  // A paging link made by one worker, followed on the other.
  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 5 }, (_, i) => ({ resource: { resourceType: 'Patient', id: `${kind}-pager-${i}`, name: [{ family: 'Pager' }] }, request: { method: 'PUT', url: `Patient/${kind}-pager-${i}` } })) };
  expect((await call(port, 'POST', '/STU3', `${kind}-pager`, { agent: writer, body: bundle })).status).toBe(200);
  const first = await call(port, 'GET', '/STU3/Patient?family=Pager&_count=2', `${kind}-page-0`);
  expect(first.status).toBe(200);
  const next = (b: Record<string, unknown>) => {
    const url = (b.link as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next')?.url;
    if (!url) return undefined;
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  };
  const ids = (b: Record<string, unknown>) => ((b.entry ?? []) as Array<{ resource: { id: string } }>).map((e) => e.resource.id);
  const pages = [ids(first.body)];
  const followers: string[] = [];
  for (let link = next(first.body), p = 1; link; p++) {
    // The same link twice, on two connections: the primary hands them to the workers in turn.
    const [a, b] = [await call(port, 'GET', link, `${kind}-page-${p}a`), await call(port, 'GET', link, `${kind}-page-${p}b`)];
    followers.push(`${kind}-page-${p}a`, `${kind}-page-${p}b`);
    expect(a.status).toBe(200);
    expect(ids(b.body)).toEqual(ids(a.body));
    pages.push(ids(a.body));
    link = next(a.body);
  }
  expect(pages.flat().sort()).toEqual(Array.from({ length: 5 }, (_, i) => `${kind}-pager-${i}`).sort());

  let by = await answeredBy(store);
  expect(nodesOf(by, readers)).toEqual(new Set(['wk-w1', 'wk-w2']));
  expect(by.get(`${kind}-create`)).toMatch(/^wk-w[12]$/);
  const pageMaker = by.get(`${kind}-page-0`);
  expect([...nodesOf(by, followers)].some((n) => n !== pageMaker)).toBe(true);

  // A worker killed with SIGKILL is replaced, as the same node (its chain goes on).
  const killed = s.workers.get(1)!;
  process.kill(killed, 'SIGKILL');
  await printed(s, new RegExp(`worker 1 \\(process ${killed}\\) was killed by SIGKILL; starting another`));
  const replacement = Number((await printed(s, /worker 1 is serving again \(process (\d+), node wk-w1\)/))[1]);
  expect(replacement).not.toBe(killed);
  expect(alive(killed)).toBe(false);
  expect(alive(replacement)).toBe(true);
  const after: string[] = [];
  for (let i = 0; i < 4; i++) {
    const read = await call(port, 'GET', `/STU3/Patient/${id}`, `${kind}-after-${i}`);
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe(`W/"${version}"`);
    after.push(`${kind}-after-${i}`);
  }
  by = await answeredBy(store);
  expect(nodesOf(by, after)).toEqual(new Set(['wk-w1', 'wk-w2']));

  // SIGTERM with a request in flight: its headers are in (the worker said 100 Continue), its body not yet.
  const entry = Array.from({ length: 50 }, (_, i) => ({ resource: { resourceType: 'Patient', id: `${kind}-last-${i}`, name: [{ family: 'Last' }] }, request: { method: 'PUT', url: `Patient/${kind}-last-${i}` } }));
  const inFlight = new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/STU3', agent: false, headers: { 'content-type': FHIR_JSON, accept: FHIR_JSON, expect: '100-continue', 'x-request-id': `${kind}-last` } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += String(d)));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.once('continue', () => {
      s.child.kill('SIGTERM');
      // The body goes once the workers have stopped listening (the port refuses connections): the server is stopping.
      void refused(port).then(
        () => req.end(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry })),
        (err: unknown) => req.destroy(err as Error),
      );
    });
    req.flushHeaders();
  });
  const last = await inFlight;
  expect(last.status).toBe(200);
  expect(last.body.entry).toHaveLength(50);
  expect(await s.exited).toBe(0);
  expect(s.output()).toContain('ccri stopped (SIGTERM).');
  expect(alive(replacement)).toBe(false);
  expect(alive(s.workers.get(2)!)).toBe(false);

  // Every chain verifies, each worker's among them.
  const verified = await ccriAsync(['audit', 'verify'], store);
  expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  expect(verified.stdout).toMatch(/^ok wk-w1: /m);
  expect(verified.stdout).toMatch(/^ok wk-w2: /m);
  writer.destroy();
}

describe('ccri serve --workers 2', () => {
  it('a port in use: every worker fails to listen, and the whole server stops with the message and exit 1', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
    const { port } = other.address() as AddressInfo;
    try {
      const r = ccri(['serve', '--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--no-demo-data', '--data-dir', join(root, 'in-use')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toMatch(/ccri: worker [12] \(process \d+\) exited with code 1 before the server was serving: stopping\./);
      expect(r.stdout).not.toContain('listening on');
    } finally {
      other.close();
    }
  }, 90_000);

  it('Ctrl-C, which signals the primary and the workers alike, stops them all gracefully', async () => {
    const s = await start(['--no-demo-data'], { CCRI_DATA_DIR: join(root, 'sigint') }, { group: true });
    expect((await call(s.port, 'GET', '/STU3/metadata', 'sigint-probe')).status).toBe(200);
    process.kill(-s.child.pid!, 'SIGINT');
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('ccri stopped (SIGINT).');
    expect(s.output()).not.toContain('did not stop cleanly');
    for (const pid of s.workers.values()) expect(alive(pid)).toBe(false);
  }, 120_000);

  it('CCRI_WORKERS out of range is refused before anything starts', () => {
    const r = ccri(['serve', '--no-demo-data', '--data-dir', join(root, 'none')], { env: { CCRI_WORKERS: '65' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("CCRI_WORKERS must be a whole number from 1 to 64, not '65'");
  });

  it('on SQLite: one demo data load, reads and searches and version checks across the workers, a paging link continued on the other, a killed worker replaced, a graceful stop', async () => {
    await exercise('sqlite', { CCRI_DATA_DIR: join(root, 'sqlite') }, true);
  }, 240_000);

  it.skipIf(!postgres)('on PostgreSQL: the same', async () => {
    const schema = await createTestSchema('ccri_workers');
    cleanups.push(schema.drop);
    await exercise('postgres', { DATABASE_URL: schema.url }, false);
  }, 240_000);
});
