import type { Sql } from './builder.js';

/**
 * What the search compiler asks of a database: only the full-text index behind `_text`
 * and `_content` differs (FTS5 in SQLite, tsvector in PostgreSQL); everything else is
 * written once (compile.ts, conditions.ts). Each database's dialect object
 * (store/sqlite/dialect.ts, store/postgres/dialect.ts) implements this with the rest of
 * what differs.
 */
export interface Dialect {
  name: 'sqlite' | 'postgres';
  /**
   * A test the search SQL adds to every scan it writes (the top query and the subqueries
   * that build candidate lists), over the scanned row's `rid`, where the database has no
   * statement timeout of its own: SQLite's stops the statement past the query time limit.
   * Always true.
   */
  guard?: (rid: Sql) => Sql;
  /**
   * The test that a column is one of `values`, written after
   * the column (`IN (…)`, `= ANY(…)`), with the values bound as one: the lists of a chain's or
   * `_has`'s inner search (thousands of values) then make a statement whose text does not
   * change with their length (SQLite caches a statement per text: 1.7 MB for one of 10,000
   * placeholders), and that looks a value up rather than scanning the list.
   */
  anyOf(values: readonly string[]): Sql;
  /** The rids whose narrative or content (`field`) holds every word as a prefix. */
  textMatch(field: 'narrative' | 'content', words: string[]): Sql;
}
