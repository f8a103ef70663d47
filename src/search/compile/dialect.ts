import { raw, type Sql, sql } from './builder.js';

/**
 * What differs between SQLite and PostgreSQL in the SQL we generate: only the
 * full-text index behind `_text` and `_content` (FTS5 in SQLite, tsvector in
 * PostgreSQL). Everything else is written once (compile.ts, conditions.ts).
 */
export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** Rows of `idx_text` whose `field` holds every word as a prefix. */
  textMatch(field: 'narrative' | 'content', words: string[]): Sql;
  /** Inserts the words of one resource (already folded, space-separated). */
  textInsert(rid: number, narrative: string, content: string): Sql;
  textDelete(rid: number): Sql;
}

/** Words reach here folded to letters and digits (search/normalise.ts), so no query syntax can hide in them. */
const safe = (w: string) => w.replace(/[^\p{L}\p{N}]/gu, '');

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  textMatch: (field, words) => sql`SELECT rowid AS rid FROM idx_text WHERE idx_text MATCH ${`${field} : (${words.map((w) => `"${safe(w)}"*`).join(' AND ')})`}`,
  textInsert: (rid, narrative, content) => sql`INSERT INTO idx_text (rowid, narrative, content) VALUES (${rid}, ${narrative}, ${content})`,
  textDelete: (rid) => sql`DELETE FROM idx_text WHERE rowid = ${rid}`,
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  textMatch: (field, words) =>
    sql`SELECT rid FROM idx_text WHERE ${raw(field)} @@ to_tsquery('simple', ${words.map((w) => `${safe(w)}:*`).join(' & ')})`,
  textInsert: (rid, narrative, content) =>
    sql`INSERT INTO idx_text (rid, narrative, content) VALUES (${rid}, to_tsvector('simple', ${narrative}), to_tsvector('simple', ${content}))`,
  textDelete: (rid) => sql`DELETE FROM idx_text WHERE rid = ${rid}`,
};

export function dialectFor(name: 'sqlite' | 'postgres'): Dialect {
  return name === 'sqlite' ? sqliteDialect : postgresDialect;
}
