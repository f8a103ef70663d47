import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';
import { type ServeProcess, serveProcess } from '../helpers/serve-process.js';
import { memoryOf, planOf } from './harness.js';
import type { MemoryResource, MemorySearch } from './memory-search.js';
import { type Area, type Query, queryArbitrary, queryText } from './queries.js';
import { BASE } from './vocabulary.js';
import { type Obj, type World, worldArbitrary } from './world.js';

/**
 * The search differential against three nodes (issue 15, "Many nodes"): three `ccri serve`
 * processes on one PostgreSQL schema, and `ccri serve --workers 3` on one SQLite file. The
 * differential test's world is written through the nodes in turn (over HTTP, one request a
 * write), its queries are asked of them in turn and several at once, each page of a query on
 * the next node, and every answer is compared with the in-memory evaluator over what the
 * nodes answered they wrote. Then read-your-writes: a write on one node is read, searched and
 * version-checked at once on the others.
 */

const SEED = Number(process.env.SEARCH_DIFF_SEED ?? 20_250_611);
/** Queries per area (the store-level differential runs a hundred). */
const QUERIES = Number(process.env.NODES_DIFF_QUERIES ?? 30);
const AREAS: Area[] = ['strings', 'tokens', 'dates', 'quantities', 'references', 'sorting', 'mixed', 'system'];
/** Queries in flight at once. */
const CONCURRENCY = 6;

const withPostgres = await shouldRunPostgres();
const world: World = fc.sample(worldArbitrary(), { seed: SEED, numRuns: 1 })[0]!;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Every node is told the differential's base URL (references under it are local) and pages of up to 1,000, as the harness plans. */
const NODE_ENV = { CCRI_DEFAULT_COUNT: '1000', CCRI_MAX_COUNT: '1000', CCRI_VALIDATION: 'off', CCRI_LOG_LEVEL: 'error' };

async function started(args: string[], env: Record<string, string>): Promise<ServeProcess> {
  const s = await serveProcess(['--base-url', BASE, ...args], { ...NODE_ENV, ...env });
  cleanups.push(() => s.kill());
  // The server answering is the one started: its banner names this process.
  expect(/listening on http:\/\/127\.0\.0\.1:\d+ \(process (\d+)\)/.exec(s.output())?.[1]).toBe(String(s.child.pid));
  return s;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request on a connection of its own (so that `ccri serve --workers` hands each to the next worker). */
function http(address: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(address);
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: url.hostname, port: url.port, method, path, agent: false, headers: { accept: 'application/fhir+json', ...(text ? { 'content-type': 'application/fhir+json', prefer: 'return=representation' } : {}), ...headers } },
      (res) => {
        let out = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (out += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: out }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** Takes turns over the nodes' addresses. */
class Turns {
  private n = 0;
  constructor(readonly addresses: string[]) {}
  next(): string {
    return this.addresses[this.n++ % this.addresses.length]!;
  }
}

/**
 * Writes the world through the nodes in turn, each write a PUT or DELETE of its own. Returns the
 * evaluator over the current resources as the nodes answered them (a write a node refused, which
 * the base definitions may, is left out of it, and counted).
 */
async function load(turns: Turns): Promise<{ memory: MemorySearch; written: number; refused: string[] }> {
  const current = new Map<string, MemoryResource | null>();
  const created: string[] = [];
  const refused: string[] = [];
  let written = 0;
  for (const step of world.steps) {
    for (const w of step.writes) {
      const key = `${w.type}/${w.id}`;
      const path = `/STU3/${key}`;
      const res = w.resource ? await http(turns.next(), 'PUT', path, { ...pruned(w.resource), id: w.id }) : await http(turns.next(), 'DELETE', path);
      if (res.status >= 400) {
        refused.push(`${w.resource ? 'PUT' : 'DELETE'} ${key}: ${res.status} ${res.text.slice(0, 300)}`);
        continue;
      }
      written++;
      if (!w.resource) {
        if (current.has(key)) current.set(key, null);
        continue;
      }
      const resource = JSON.parse(res.text) as Obj & { meta: { lastUpdated: string } };
      // The stores' tie-break is the order in which resources were first created.
      if (!current.has(key)) created.push(key);
      current.set(key, { type: w.type, id: w.id, lastUpdated: Date.parse(resource.meta.lastUpdated), resource });
    }
  }
  const resources = created.map((k) => current.get(k)).filter((r): r is MemoryResource => !!r);
  return { memory: memoryOf(resources), written, refused };
}

/**
 * The world's resource as a client would send it: without the empty objects and arrays the
 * world generator leaves (an empty `meta` or `period`), which the base definitions refuse over
 * HTTP (ele-1). The evaluator is given what the nodes stored, so this changes no comparison.
 */
function pruned(value: Obj): Obj {
  const prune = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(prune).filter((x) => x !== undefined);
      return items.length ? items : undefined;
    }
    if (v && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, prune(x)] as const).filter(([, x]) => x !== undefined);
      return entries.length ? Object.fromEntries(entries) : undefined;
    }
    return v;
  };
  return (prune(value) ?? {}) as Obj;
}

interface Page {
  ids: string[];
  total?: number;
  more: boolean;
}

type Bundle = { total?: number; link?: Array<{ relation: string; url: string }>; entry?: Array<{ search?: { mode?: string }; resource: { resourceType: string; id: string } }> };

/** The path of a Bundle's next link on any node (the links name the shared base URL). */
function nextPath(b: Bundle): string | undefined {
  const url = b.link?.find((l) => l.relation === 'next')?.url;
  if (!url) return undefined;
  expect(url.startsWith(`${BASE}`)).toBe(true);
  return `/STU3${url.slice(BASE.length)}`;
}

function pageOf(b: Bundle): Page {
  const ids = (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => `${e.resource.resourceType}/${e.resource.id}`);
  return { ids, ...(b.total !== undefined ? { total: b.total } : {}), more: nextPath(b) !== undefined };
}

function pathOf(q: Query): string {
  const params = q.params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (q.types.length > 1) params.unshift(`_type=${q.types.join(',')}`);
  const where = q.compartment ? `/Patient/${encodeURIComponent(q.compartment)}/${q.types[0]}` : q.types.length === 1 ? `/${q.types[0]}` : '';
  return `/STU3${where}?${params.join('&')}`;
}

/** Asks a query of the nodes, its first page of one and each next page of the next; undefined when the evaluator refuses it too. */
async function ask(turns: Turns, q: Query, memory: MemorySearch): Promise<string | undefined> {
  let plan: ReturnType<typeof planOf>;
  try {
    plan = planOf(q);
  } catch {
    const res = await http(turns.next(), 'GET', pathOf(q));
    return res.status === 400 ? undefined : `${queryText(q)}: the parser refuses it, but a node answered ${res.status}`;
  }
  const expected = memory.search(plan);
  let res = await http(turns.next(), 'GET', pathOf(q));
  if (res.status !== 200) return `${queryText(q)}: ${res.status} ${res.text.slice(0, 300)}`;
  let bundle = JSON.parse(res.text) as Bundle;
  let got: Page = pageOf(bundle);
  for (let p = 1; p <= q.page; p++) {
    const link = nextPath(bundle);
    if (!link) {
      // A page past the last: no node is asked; it is empty.
      got = { ids: [], ...(got.total !== undefined ? { total: got.total } : {}), more: false };
      break;
    }
    res = await http(turns.next(), 'GET', link);
    if (res.status !== 200) return `${queryText(q)}: page ${p}: ${res.status} ${res.text.slice(0, 300)}`;
    bundle = JSON.parse(res.text) as Bundle;
    got = pageOf(bundle);
  }
  const problems: string[] = [];
  if (JSON.stringify(got.ids) !== JSON.stringify(expected.ids)) problems.push('ids differ');
  if (plan.total && got.total !== expected.total) problems.push(`total ${got.total} != ${expected.total}`);
  if (!plan.total && got.total !== undefined) problems.push('counted though _total=none');
  // Over HTTP `_count=0` asks for the count only: a page of nothing has no next link.
  const more = plan.count === 0 ? false : expected.more;
  if (got.more !== more) problems.push(`more=${got.more} != ${more}`);
  if (!problems.length) return undefined;
  return `${queryText(q)}: ${problems.join('; ')}\n  expected: total ${expected.total}, more ${expected.more}: ${expected.ids.join(' ')}\n  nodes:    total ${got.total}, more ${got.more}: ${got.ids.join(' ')}`;
}

/** Every query of every area, CONCURRENCY at a time, round the nodes. */
async function askAll(turns: Turns, memory: MemorySearch): Promise<{ asked: number; differences: string[] }> {
  const queries = AREAS.flatMap((area, a) => fc.sample(queryArbitrary(world, area), { seed: SEED + 7000 + a, numRuns: QUERIES }));
  const differences: string[] = [];
  let i = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let q = queries[i++]; q; q = queries[i++]) {
        const d = await ask(turns, q, memory);
        if (d) differences.push(d);
      }
    }),
  );
  return { asked: queries.length, differences };
}

/** A write on one node, then at once on the others: a read, a search, an If-Match update, and the stale If-Match refused. */
async function readYourWrites(turns: Turns): Promise<void> {
  const [a, b, c] = [turns.next(), turns.next(), turns.next()];
  const id = 'ryw';
  const path = `/STU3/Patient/${id}`;
  for (const [writer, reader, checker] of [[a, b, c], [b, c, a], [c, a, b]] as const) {
    const family = `Ryw${Math.random().toString(36).slice(2, 8)}`;
    const put = await http(writer, 'PUT', path, { resourceType: 'Patient', id, name: [{ family }] });
    expect([200, 201]).toContain(put.status);
    const etag = String(put.headers.etag);
    const read = await http(reader, 'GET', path);
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe(etag);
    expect((JSON.parse(read.text) as { name: Array<{ family: string }> }).name[0]!.family).toBe(family);
    const found = JSON.parse((await http(reader, 'GET', `/STU3/Patient?_id=${id}&family:exact=${family}`)).text) as Bundle;
    expect(found.total).toBe(1);
    const updated = await http(checker, 'PUT', path, { resourceType: 'Patient', id, name: [{ family: `${family}x` }] }, { 'if-match': etag });
    expect(updated.status).toBe(200);
    expect(updated.headers.etag).not.toBe(etag);
    const stale = await http(writer, 'PUT', path, { resourceType: 'Patient', id, name: [{ family }] }, { 'if-match': etag });
    expect(stale.status).toBe(412);
  }
}

async function run(turns: Turns): Promise<void> {
  const { memory, written, refused } = await load(turns);
  // Nearly every write of the world is one the base definitions accept; the few refused are left out of the evaluator too.
  expect(refused.length, refused.join('\n')).toBeLessThan(written / 20);
  const { asked, differences } = await askAll(turns, memory);
  expect(asked).toBe(AREAS.length * QUERIES);
  expect(differences, differences.slice(0, 5).join('\n\n')).toEqual([]);
  await readYourWrites(turns);
}

describe(`the search differential against three nodes (seed ${SEED})`, () => {
  it.skipIf(!withPostgres)('three ccri serve processes on one PostgreSQL schema', async () => {
    const schema = await createTestSchema('ccri_nodes_diff');
    cleanups.push(schema.drop);
    // Started together: one migrates, the others wait for the store's lock.
    const nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((name) => started([], { DATABASE_URL: schema.url, CCRI_NODE_NAME: name })));
    await run(new Turns(nodes.map((n) => n.address)));
    for (const n of nodes) expect(await n.stop()).toBe(0);
  }, 300_000);

  it('ccri serve --workers 3 on one SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-nodes-diff-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const s = await started(['--workers', '3', '--data-dir', dir], { CCRI_NODE_NAME: 'sqlite' });
    // The banner's lines after the first may come a moment later.
    while (!/Workers: 3 processes sharing the port/.test(s.output())) await new Promise((r) => setTimeout(r, 20));
    await run(new Turns([s.address, s.address, s.address]));
    expect(await s.stop()).toBe(0);
  }, 300_000);
});
