import { raw, sql } from '../../search/compile/builder.js';
import type { ColumnType, SqlDialect } from '../sql/schema.js';

const TYPES: Record<ColumnType, string> = {
  rowid: 'INTEGER PRIMARY KEY',
  seq: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  serial: 'INTEGER PRIMARY KEY',
  key: 'TEXT',
  text: 'TEXT',
  int: 'INTEGER',
  bigint: 'INTEGER',
  flag: 'INTEGER',
  real: 'REAL',
};

/** Words reach here folded to letters and digits (search/normalise.ts), so no query syntax can hide in them. */
const safe = (w: string) => w.replace(/[^\p{L}\p{N}]/gu, '');

/** The function the search SQL calls as it scans (Dialect.guard): it stops a statement past its deadline (driver.ts). */
export const GUARD_FUNCTION = 'ccri_live';

/**
 * SQLite: text compares by code point as it is; the full-text index is two contentless
 * FTS5 tables without word positions (one for the narrative, one for all the text), keyed
 * by the resource's rid as their rowid (docs/storage.md).
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  // The function is called for one row in 64 (by rid): a call into JavaScript per row cost
  // 8-15% of a scan-heavy search; the modulo and the OR, evaluated by SQLite, cost nothing.
  guard: (rid) => sql`(${rid} % 64 <> 0 OR ${raw(GUARD_FUNCTION)}() = 1)`,
  columnType: (type) => TYPES[type],
  textIndex: {
    tables: ['narrative', 'content'].map((f) => `CREATE VIRTUAL TABLE IF NOT EXISTS idx_text_${f} USING fts5(words, content='', contentless_delete=1, detail=none)`),
    searchOnly: [],
  },
  textTables: ['idx_text_narrative', 'idx_text_content'],
  textKey: 'rowid',
  indexNames: "SELECT name FROM sqlite_master WHERE type = 'index'",
  forUpdate: '',
  // A subquery: SQLite builds an index of it once, and looks each candidate up in it.
  anyOf: (values) => sql`IN (SELECT value FROM json_each(${JSON.stringify(values)}))`,
  textMatch: (field, words) => sql`SELECT rowid AS rid FROM ${raw(`idx_text_${field}`)} WHERE ${raw(`idx_text_${field}`)} MATCH ${words.map((w) => `"${safe(w)}"*`).join(' AND ')}`,
};
