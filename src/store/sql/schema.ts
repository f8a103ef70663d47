import type { Dialect } from '../../search/compile/dialect.js';

/**
 * The tables, written once for both databases. Each dialect names the column types
 * (dialect.ts); schema changes are numbered migrations (migrations.ts) made of the steps
 * below, so the current schema is what the migrations build, and both databases' DDL is
 * generated from the same steps. docs/storage.md explains every table with worked
 * examples.
 */

/**
 * Column types, by what they hold: `key` is text compared by equality or range (ids,
 * codes, folded strings: byte order on PostgreSQL, the "C" collation); `text` is text
 * only stored; `flag` is 0 or 1; `bigint` holds row ids and epoch milliseconds; `rowid`,
 * `seq` and `serial` are generated primary keys (`seq` never reuses a number).
 */
export type ColumnType = 'rowid' | 'seq' | 'serial' | 'key' | 'text' | 'int' | 'bigint' | 'flag' | 'real';

export interface Column {
  name: string;
  type: ColumnType;
  /** NOT NULL */
  required?: boolean;
  /** A primary key of its own (for non-generated keys). */
  primary?: boolean;
  default?: string;
}

export interface Index {
  name: string;
  table: string;
  /** Column names, or expressions such as `substr(norm, 1, 100)`. */
  on: string[];
  /** A partial index's condition. */
  where?: string;
  /**
   * Needed only by searches, not to write: a bulk load may drop it and build it once at
   * the end (Store.bulk).
   */
  searchOnly?: boolean;
}

export interface Table {
  name: string;
  columns: Column[];
  /** Column sets that must be unique. */
  unique?: string[][];
}

/** One step of a migration. */
export type Step =
  | { kind: 'table'; table: Table }
  | { kind: 'index'; index: Index }
  /** An index of an earlier migration that a later one replaces. */
  | { kind: 'drop-index'; name: string }
  /** The full-text index of `_text` and `_content`, whose shape is the dialect's own. */
  | { kind: 'text-index' }
  /** Statements of one database only, for what the steps above cannot say. */
  | { kind: 'raw'; sqlite?: string[]; postgres?: string[] };

/**
 * Everything that differs between the two databases, in one object per database
 * (sqlite/dialect.ts, postgres/dialect.ts): the search compiler's hooks, the DDL of
 * column types and of the full-text index, and the tables the full-text rows live in.
 */
export interface SqlDialect extends Dialect {
  /** The DDL of a column type. */
  columnType(type: ColumnType): string;
  /** The full-text index: its tables, and the indexes on them that only searches need. */
  textIndex: { tables: string[]; searchOnly: Array<{ name: string; ddl: string }> };
  /** The tables holding full-text rows, and the column naming a row's resource. */
  textTables: readonly string[];
  textKey: string;
  /** A query of the names (column `name`) of the store's indexes. */
  indexNames: string;
  /** The clause that locks selected rows until the transaction ends ('' where a single writer makes it needless). */
  forUpdate: string;
}

/** The DDL of one migration step, in `dialect`. */
export function stepDdl(step: Step, dialect: SqlDialect): string[] {
  switch (step.kind) {
    case 'table': {
      const { table } = step;
      const columns = table.columns.map((c) => {
        const parts = [c.name, dialect.columnType(c.type)];
        if (c.primary) parts.push('PRIMARY KEY');
        if (c.required) parts.push('NOT NULL');
        if (c.default !== undefined) parts.push(`DEFAULT ${c.default}`);
        return parts.join(' ');
      });
      const unique = (table.unique ?? []).map((cols) => `UNIQUE (${cols.join(', ')})`);
      return [`CREATE TABLE IF NOT EXISTS ${table.name} (${[...columns, ...unique].join(', ')})`];
    }
    case 'index':
      return [indexDdl(step.index)];
    case 'drop-index':
      return [`DROP INDEX IF EXISTS ${step.name}`];
    case 'text-index':
      return [...dialect.textIndex.tables, ...dialect.textIndex.searchOnly.map((i) => i.ddl)];
    case 'raw':
      return (dialect.name === 'sqlite' ? step.sqlite : step.postgres) ?? [];
  }
}

export function indexDdl(index: Index): string {
  return `CREATE INDEX IF NOT EXISTS ${index.name} ON ${index.table} (${index.on.join(', ')})${index.where ? ` WHERE ${index.where}` : ''}`;
}
