import { raw, type Sql, sql } from './builder.js';

/**
 * What differs between SQLite and PostgreSQL in the SQL we generate: only the
 * full-text index behind `_text` and `_content` (FTS5 in SQLite, tsvector in
 * PostgreSQL). Everything else is written once (compile.ts, conditions.ts).
 */
export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** The rids whose narrative or content (`field`) holds every word as a prefix. */
  textMatch(field: 'narrative' | 'content', words: string[]): Sql;
}

/** Words reach here folded to letters and digits (search/normalise.ts), so no query syntax can hide in them. */
const safe = (w: string) => w.replace(/[^\p{L}\p{N}]/gu, '');

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  // One FTS5 table per field (storage.md): `idx_text_narrative`, `idx_text_content`.
  textMatch: (field, words) => sql`SELECT rowid AS rid FROM ${raw(`idx_text_${field}`)} WHERE ${raw(`idx_text_${field}`)} MATCH ${words.map((w) => `"${safe(w)}"*`).join(' AND ')}`,
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  textMatch: (field, words) =>
    sql`SELECT rid FROM idx_text WHERE ${raw(field)} @@ to_tsquery('simple', ${words.map((w) => `${safe(w)}:*`).join(' & ')})`,
};

export function dialectFor(name: 'sqlite' | 'postgres'): Dialect {
  return name === 'sqlite' ? sqliteDialect : postgresDialect;
}
