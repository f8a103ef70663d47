import { raw, sql } from '../../search/compile/builder.js';
import type { ColumnType, SqlDialect } from '../sql/schema.js';

const TYPES: Record<ColumnType, string> = {
  rowid: 'BIGSERIAL PRIMARY KEY',
  seq: 'BIGSERIAL PRIMARY KEY',
  serial: 'SERIAL PRIMARY KEY',
  // Text compared by range (string prefixes, uris) uses the "C" collation, so that byte
  // order equals code-point order and `>= prefix AND < next(prefix)` is exact.
  key: 'TEXT COLLATE "C"',
  text: 'TEXT',
  int: 'INTEGER',
  bigint: 'BIGINT',
  flag: 'SMALLINT',
  real: 'DOUBLE PRECISION',
};

/** A PostgreSQL array literal of `values`, each quoted (`{"a","b\\"c"}`). */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** Words reach here folded to letters and digits (search/normalise.ts), so no query syntax can hide in them. */
const safe = (w: string) => w.replace(/[^\p{L}\p{N}]/gu, '');

/**
 * PostgreSQL: keys in the "C" collation; the JSON kept as text, exactly as served (not
 * jsonb, which would reorder it); the full-text index is one table of two tsvectors with
 * GIN indexes (docs/storage.md).
 */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  columnType: (type) => TYPES[type],
  textIndex: {
    tables: ['CREATE TABLE IF NOT EXISTS idx_text (rid BIGINT PRIMARY KEY, narrative tsvector NOT NULL, content tsvector NOT NULL)'],
    searchOnly: ['narrative', 'content'].map((f) => ({ name: `idx_text_${f}`, ddl: `CREATE INDEX IF NOT EXISTS idx_text_${f} ON idx_text USING GIN (${f})` })),
  },
  textTables: ['idx_text'],
  textKey: 'rid',
  indexNames: 'SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()',
  forUpdate: ' FOR UPDATE',
  // An array: an index condition where the column drives, a hashed test where it probes (a
  // subquery of jsonb_array_elements_text was scanned whole for every candidate).
  anyOf: (values) => sql`= ANY(${arrayLiteral(values)}::text[])`,
  textMatch: (field, words) => sql`SELECT rid FROM idx_text WHERE ${raw(field)} @@ to_tsquery('simple', ${words.map((w) => `${safe(w)}:*`).join(' & ')})`,
};
