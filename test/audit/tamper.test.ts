import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sqliteFile } from '../../src/store/open.js';
import { ccri } from '../helpers/cli.js';
import { startTestServer, storeKinds, type StoreKind, type TestServer } from '../helpers/server.js';

/**
 * Issue 11: tampering with the audit trail directly in the database is found by
 * `ccri audit verify` (the built program, exit 1, naming where), on both stores: an edited
 * event, a removed one, two swapped, one inserted, and the end cut off (found with a head
 * noted earlier by `ccri audit head`).
 */

/** Runs SQL on the store of `s` (closed by then), as someone with access to the database would. */
async function tamper(s: TestServer, statements: string[]): Promise<void> {
  if (s.location.dataDir) {
    const db = new Database(sqliteFile(s.location.dataDir));
    try {
      db.transaction(() => statements.forEach((q) => db.prepare(q).run()))();
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: s.location.databaseUrl });
  await client.connect();
  try {
    for (const q of statements) await client.query(q);
  } finally {
    await client.end();
  }
}

/** Rows of a query on the store of `s` (closed by then). */
async function query<T>(s: TestServer, sql: string): Promise<T[]> {
  if (s.location.dataDir) {
    const db = new Database(sqliteFile(s.location.dataDir), { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: s.location.databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

const store = (s: TestServer) => (s.location.dataDir ? ['--data-dir', s.location.dataDir] : ['--database-url', s.location.databaseUrl!]);

/** A store with an audit trail of a few requests; the server is closed, the store kept for the case. */
async function trail(kind: StoreKind): Promise<{ s: TestServer; head: string; drop: () => Promise<void> }> {
  const s = await startTestServer(kind, { nodeName: 'tamper-node' });
  await s.request('PUT', '/STU3/Patient/p1', { body: { resourceType: 'Patient', id: 'p1', gender: 'female' } });
  for (let i = 0; i < 6; i++) await s.request('GET', '/STU3/Patient/p1');
  const heads = await s.store.audit().heads();
  expect(heads).toHaveLength(1);
  const head = `${heads[0]!.chain}:${heads[0]!.n}:${heads[0]!.hash}`;
  expect(heads[0]!.n).toBe(7);
  // Every event copied for search (a search would do it; closing does it too).
  await s.store.audit().index();
  // Closed so that the commands and the tampering have the database to themselves; dropped at the end.
  await s.close();
  return { s, head, drop: () => s.cleanup().catch(() => undefined) };
}

/** The stored JSON of the event at position n, as SQL that names it. */
const eventRow = (n: number) => `(SELECT r.rid FROM resource r JOIN audit_chain c ON c.event = r.id WHERE r.type = 'AuditEvent' AND c.chain = 'tamper-node' AND c.n = ${n})`;

for (const kind of await storeKinds()) {
  describe(`ccri audit verify finds tampering (${kind})`, () => {
    it('passes an untouched trail, and prints its head', async () => {
      const { s, head, drop } = await trail(kind);
      const run = ccri(['audit', 'verify', '--head', head, ...store(s)]);
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('ok tamper-node: events 1 to 7 verify');
      expect(ccri(['audit', 'head', ...store(s)]).stdout.trim()).toBe(head);
      await drop();
    });

    it('chains each record as docs/audit.md says: SHA-256 of the previous hash, a newline and the record, from 64 zeros', async () => {
      // Computed here from the stored rows, apart from the server's own code: what someone verifying the trail with other tools would do.
      const { s, head, drop } = await trail(kind);
      const rows = await query<{ n: number | string; json: string; hash: string }>(s, "SELECT n, json, hash FROM audit_chain WHERE chain = 'tamper-node' ORDER BY n");
      expect(rows.map((r) => Number(r.n))).toEqual([1, 2, 3, 4, 5, 6, 7]);
      let prev = '0'.repeat(64);
      for (const r of rows) {
        const expected = createHash('sha256').update(`${prev}\n${r.json}`, 'utf8').digest('hex');
        expect(r.hash, `event ${r.n}`).toBe(expected);
        prev = expected;
      }
      expect(head.endsWith(`:7:${prev}`)).toBe(true);
      await drop();
    });

    const cases: Array<{ name: string; sql: string[]; found: RegExp; withHead?: boolean }> = [
      {
        // The chain keeps each event's record (its facts): a read that answered 200 said to have been refused.
        name: 'an edited field',
        sql: [`UPDATE audit_chain SET json = replace(json, '"status":200', '"status":403') WHERE chain = 'tamper-node' AND n = 3`],
        found: /FAIL tamper-node at event 3: .*does not match its hash/,
      },
      {
        name: 'an edited field of the searchable copy',
        sql: [`UPDATE resource_version SET json = replace(json, '"outcome":"0"', '"outcome":"4"') WHERE rid = ${eventRow(3)}`],
        found: /FAIL tamper-node at event 3: the searchable copy of event 3 .* differs from the record/,
      },
      { name: 'a removed event (its chain row)', sql: ['DELETE FROM audit_chain WHERE chain = \'tamper-node\' AND n = 4'], found: /FAIL tamper-node at event 4: event 4 is missing/ },
      { name: 'a removed searchable copy', sql: [`DELETE FROM resource_version WHERE rid = ${eventRow(5)}`], found: /FAIL tamper-node at event 5: the searchable copy of event 5 .* is missing/ },
      {
        name: 'two events swapped',
        sql: [
          "UPDATE audit_chain SET n = 1000 WHERE chain = 'tamper-node' AND n = 2",
          "UPDATE audit_chain SET n = 2 WHERE chain = 'tamper-node' AND n = 3",
          "UPDATE audit_chain SET n = 3 WHERE chain = 'tamper-node' AND n = 1000",
        ],
        found: /FAIL tamper-node at event 2: .*does not match its hash/,
      },
      {
        name: 'an event inserted in the middle (the rest moved up)',
        sql: [
          "UPDATE audit_chain SET n = n + 1000 WHERE chain = 'tamper-node' AND n >= 4",
          "UPDATE audit_chain SET n = n - 999 WHERE chain = 'tamper-node' AND n >= 1004",
          "INSERT INTO audit_chain (chain, n, event, recorded, json, hash) SELECT chain, 4, event, recorded, json, hash FROM audit_chain WHERE chain = 'tamper-node' AND n = 2",
          "UPDATE audit_head SET n = 8 WHERE chain = 'tamper-node'",
        ],
        found: /FAIL tamper-node at event 4: .*does not match its hash/,
      },
      {
        name: 'an event added at the end',
        sql: ["INSERT INTO audit_chain (chain, n, event, recorded, json, hash) SELECT chain, 8, event, recorded, json, hash FROM audit_chain WHERE chain = 'tamper-node' AND n = 7"],
        found: /FAIL tamper-node at event 8: .*does not match its hash/,
      },
      { name: 'the end cut off, the head left', sql: ["DELETE FROM audit_chain WHERE chain = 'tamper-node' AND n >= 6"], found: /FAIL tamper-node at event 6: the chain ends at 5, but its head says 7/ },
      {
        name: 'the end cut off and the head rewritten to match (found with the noted head)',
        sql: [
          "DELETE FROM audit_chain WHERE chain = 'tamper-node' AND n >= 6",
          "UPDATE audit_head SET n = 5, hash = (SELECT hash FROM audit_chain WHERE chain = 'tamper-node' AND n = 5) WHERE chain = 'tamper-node'",
        ],
        found: /FAIL tamper-node at event 7: the chain no longer holds the noted head \(it ends at 5\)/,
        withHead: true,
      },
    ];

    for (const c of cases) {
      it(`finds ${c.name}`, async () => {
        const { s, head, drop } = await trail(kind);
        await tamper(s, c.sql);
        const run = ccri(['audit', 'verify', ...(c.withHead ? ['--head', head] : []), ...store(s)]);
        expect(run.status, run.stdout + run.stderr).toBe(1);
        expect(run.stdout).toMatch(c.found);
        if (c.withHead) expect(ccri(['audit', 'verify', ...store(s)]).status).toBe(0);
        await drop();
      });
    }

    it('prunes old events, records the prune, and the chain still verifies', async () => {
      const { s, head, drop } = await trail(kind);
      const env = { env: { CCRI_NODE_NAME: 'tamper-node' } };
      const prune = ccri(['audit', 'prune', '--before', new Date().toISOString(), ...store(s)], env);
      expect(prune.status, prune.stderr).toBe(0);
      expect(prune.stdout).toMatch(/Removed 7 audit events/);
      const verify = ccri(['audit', 'verify', '--head', head, ...store(s)]);
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout, verify.stdout).toContain('ok tamper-node: events 8 to 8 verify');
      expect(verify.stdout).toContain('the noted head 7 was pruned');
      const exported = ccri(['audit', 'export', ...store(s)], env);
      expect(exported.status).toBe(0);
      const events = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as { subtype: Array<{ code: string }>; outcomeDesc?: string });
      expect(events.map((e) => e.subtype[0]!.code)).toEqual(['audit-prune']);
      // The export was recorded too.
      expect(ccri(['audit', 'head', ...store(s)]).stdout.trim()).toMatch(/^tamper-node:9:[0-9a-f]{64}$/);
      await drop();
    });

    it('refuses bad arguments clearly', async () => {
      const { s, drop } = await trail(kind);
      const badHead = ccri(['audit', 'verify', '--head', 'nonsense', ...store(s)]);
      expect(badHead.status).toBe(1);
      expect(badHead.stderr).toContain('is not a head as `ccri audit head` prints it');
      const future = ccri(['audit', 'prune', '--before', '2999-01-01', ...store(s)]);
      expect(future.status).toBe(1);
      expect(future.stderr).toContain('in the future');
      const badTime = ccri(['audit', 'export', '--since', 'yesterday', ...store(s)]);
      expect(badTime.stderr).toContain('--since must be a date');
      await drop();
    });
  });
}
