import type { Column, Index, Step, Table } from './schema.js';

/**
 * The schema's history: migration n brings a store from version n-1 to n. A new store
 * runs them all; an existing one those above its `schema_version`, once, under the
 * store's lock (sql-store.ts), so that nodes starting together do not race. A store
 * whose version is above the last one here was written by a newer release: it is
 * refused rather than misread. Never edit a migration that has been released: add one.
 */
export interface Migration {
  version: number;
  /** What it changes, for the log. */
  describe: string;
  steps: Step[];
}

const col = (name: string, type: Column['type'], more: Partial<Column> = {}): Column => ({ name, type, ...more });
const required = { required: true };
/** An index row table: the resource row, the parameter, then the table's own columns. */
const indexTable = (kind: string, columns: Column[]): Table => ({ name: `idx_${kind}`, columns: [col('rid', 'bigint', required), col('pid', 'int', required), ...columns] });
const searchIndex = (name: string, table: string, on: string[], where?: string): Step => ({ kind: 'index', index: { name, table, on, searchOnly: true, ...(where ? { where } : {}) } });
const index = (name: string, table: string, on: string[]): Step => ({ kind: 'index', index: { name, table, on } });
/** Writes delete a resource's index rows by (rid, pid): these are needed to write. */
const byRid = (kind: string): Step => index(`idx_${kind}_rid`, `idx_${kind}`, ['rid', 'pid']);

const COPY_COUNTS = ['INSERT INTO type_count_part (type, part, n) SELECT type, 0, n FROM type_count', 'DROP TABLE type_count'];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    describe: 'resources, their versions, search indexes and compartments',
    steps: [
      { kind: 'table', table: { name: 'store_meta', columns: [col('key', 'text', { primary: true }), col('value', 'text', required)] } },
      {
        kind: 'table',
        table: {
          name: 'resource',
          columns: [col('rid', 'rowid'), col('type', 'key', required), col('id', 'key', required), col('version', 'int', required), col('last_updated', 'bigint', required), col('deleted', 'flag', { required: true, default: '0' })],
          unique: [['type', 'id']],
        },
      },
      {
        kind: 'table',
        table: {
          name: 'resource_version',
          columns: [
            col('seq', 'seq'), col('rid', 'bigint', required), col('type', 'key', required), col('id', 'key', required), col('version', 'int', required),
            col('last_updated', 'bigint', required), col('method', 'text', required), col('json', 'text'),
          ],
          unique: [['rid', 'version']],
        },
      },
      // Indexes on keys that only grow: a bulk load appends to them rather than rebuilding them.
      index('resource_version_type', 'resource_version', ['type', 'seq']),
      index('resource_version_updated', 'resource_version', ['last_updated']),
      index('resource_type_updated', 'resource', ['type', 'last_updated']),
      { kind: 'table', table: { name: 'type_count', columns: [col('type', 'key', { primary: true }), col('n', 'bigint', required)] } },
      { kind: 'table', table: { name: 'search_param', columns: [col('pid', 'serial'), col('type', 'key', required), col('code', 'key', required)], unique: [['type', 'code']] } },
      { kind: 'table', table: indexTable('token', [col('system', 'key'), col('code', 'key'), col('text', 'key')]) },
      searchIndex('idx_token_code', 'idx_token', ['pid', 'code']),
      byRid('token'),
      { kind: 'table', table: indexTable('string', [col('norm', 'key', required), col('exact', 'key', required)]) },
      searchIndex('idx_string_prefix', 'idx_string', ['pid', 'substr(norm, 1, 100)']),
      byRid('string'),
      { kind: 'table', table: indexTable('date', [col('low', 'bigint', required), col('high', 'bigint', required)]) },
      searchIndex('idx_date_low', 'idx_date', ['pid', 'low']),
      searchIndex('idx_date_high', 'idx_date', ['pid', 'high']),
      byRid('date'),
      { kind: 'table', table: indexTable('number', [col('value', 'real', required)]) },
      searchIndex('idx_number_value', 'idx_number', ['pid', 'value']),
      byRid('number'),
      {
        kind: 'table',
        table: indexTable('quantity', [col('value', 'real', required), col('system', 'key'), col('code', 'key'), col('unit', 'key'), col('canon_value', 'real'), col('canon_unit', 'key')]),
      },
      searchIndex('idx_quantity_value', 'idx_quantity', ['pid', 'value']),
      searchIndex('idx_quantity_canon', 'idx_quantity', ['pid', 'canon_unit', 'canon_value']),
      byRid('quantity'),
      { kind: 'table', table: indexTable('reference', [col('target_type', 'key'), col('target_id', 'key'), col('url', 'key', required)]) },
      searchIndex('idx_reference_target', 'idx_reference', ['pid', 'target_id']),
      // Only external references keep their URL (a local one's is ''): a partial index holds those alone.
      searchIndex('idx_reference_url_ext', 'idx_reference', ['pid', 'url'], "url <> ''"),
      byRid('reference'),
      { kind: 'table', table: indexTable('uri', [col('uri', 'key', required)]) },
      searchIndex('idx_uri_uri', 'idx_uri', ['pid', 'uri']),
      byRid('uri'),
      {
        kind: 'table',
        table: indexTable('composite', [
          col('system1', 'key'), col('code1', 'key'), col('system2', 'key'), col('code2', 'key'), col('low2', 'real'), col('high2', 'real'), col('canon2', 'real'), col('unit2', 'key'), col('norm2', 'key'),
        ]),
      },
      searchIndex('idx_composite_code', 'idx_composite', ['pid', 'code1', 'system1']),
      byRid('composite'),
      { kind: 'text-index' },
      { kind: 'table', table: { name: 'compartment', columns: [col('rid', 'bigint', required), col('patient', 'key', required)] } },
      searchIndex('compartment_patient', 'compartment', ['patient', 'rid']),
      index('compartment_rid', 'compartment', ['rid']),
    ],
  },
  {
    version: 2,
    describe: "the embedded authorization server's records (src/auth/server): its entries, users and keys",
    steps: [
      // What oidc-provider keeps (sessions, codes, grants, refresh tokens, clients, replay markers) and this
      // server's own records beside them (signing keys, launch contexts), one row per (model, id).
      {
        kind: 'table',
        table: {
          name: 'auth_entry',
          columns: [
            col('model', 'key', required), col('id', 'key', required), col('payload', 'text', required), col('grant_id', 'key'), col('uid', 'key'),
            col('user_code', 'key'), col('expires_at', 'bigint'), col('consumed_at', 'bigint'),
          ],
          unique: [['model', 'id']],
        },
      },
      index('auth_entry_grant', 'auth_entry', ['grant_id']),
      index('auth_entry_uid', 'auth_entry', ['model', 'uid']),
      index('auth_entry_user_code', 'auth_entry', ['model', 'user_code']),
      index('auth_entry_expires', 'auth_entry', ['expires_at']),
      {
        kind: 'table',
        table: {
          name: 'auth_user',
          columns: [col('username', 'key', { primary: true }), col('password_hash', 'text', required), col('patient', 'key'), col('practitioner', 'key'), col('created', 'bigint', required)],
        },
      },
    ],
  },
  {
    version: 3,
    describe: 'the audit trail: a hash chain per node of AuditEvents, and how far each chain is indexed for search',
    steps: [
      // Position n of a chain: the AuditEvent's id, when it was recorded (epoch ms), its JSON as hashed, and the hash of that JSON chained to position n-1's.
      {
        kind: 'table',
        table: {
          name: 'audit_chain',
          columns: [col('chain', 'key', required), col('n', 'bigint', required), col('event', 'key', required), col('recorded', 'bigint', required), col('json', 'text', required), col('hash', 'key', required)],
          unique: [['chain', 'n']],
        },
      },
      // Each chain's last position and hash; `start` and `start_prev` say where it begins after a prune.
      {
        kind: 'table',
        table: {
          name: 'audit_head',
          columns: [col('chain', 'key', { primary: true }), col('n', 'bigint', required), col('hash', 'key', required), col('start', 'bigint', required), col('start_prev', 'key', required)],
        },
      },
      // How far each chain's events have been copied into the resource tables, where they are searched (a row of its own, so that indexing never waits for appends).
      { kind: 'table', table: { name: 'audit_indexed', columns: [col('chain', 'key', { primary: true }), col('n', 'bigint', required)] } },
      ],
    },
  {
    version: 4,
    describe: 'bulk data export jobs ($export), shared by every node',
    steps: [
      {
        kind: 'table',
        table: {
          name: 'export_job',
          columns: [
            col('id', 'key', { primary: true }), col('status', 'key', required), col('base', 'text', required), col('owner', 'key', required), col('request', 'text', required),
            col('params', 'text', required), col('transaction_time', 'bigint', required), col('created', 'bigint', required), col('updated', 'bigint', required),
            col('heartbeat', 'bigint'), col('node', 'key'), col('attempts', 'int', { required: true, default: '0' }), col('progress', 'text'), col('output', 'text'),
            col('error', 'text'), col('expires', 'bigint'),
          ],
        },
      },
      index('export_job_status', 'export_job', ['status', 'created']),
    ],
  },
  {
    version: 5,
    describe: 'indexes in the order of searches sorted by _lastUpdated, either way (keyset paging)',
    steps: [
      // A sorted search's order ends with the rid, ascending, whichever way its key goes: these hold
      // both, so a page of `_sort=_lastUpdated` or `-_lastUpdated` is read in order from its position,
      // even among the thousands of resources a bulk load's transaction gives one instant. (The date
      // index is not widened so: with the rid in it, SQLite without statistics took it, covering, for
      // the probes of date conditions, over the (rid, pid) index.)
      index('resource_type_updated_rid', 'resource', ['type', 'last_updated', 'rid']),
      index('resource_type_updated_desc', 'resource', ['type', 'last_updated DESC', 'rid']),
      { kind: 'drop-index', name: 'resource_type_updated' },
    ],
  },
  {
    version: 6,
    describe: 'the token index holds the system and the rid: a search on a token reads its matches from the index alone',
    steps: [
      // (pid, code) alone sent every match to the table for its rid (and its system, when asked):
      // Observation?code=364075005, 12,825 matches of 123,000 resources, spent 43 ms of its 50 there.
      searchIndex('idx_token_code_rid', 'idx_token', ['pid', 'code', 'system', 'rid']),
      { kind: 'drop-index', name: 'idx_token_code' },
    ],
  },
  {
    version: 7,
    describe: 'the count of resources per type in parts, so that concurrent writes of one type on PostgreSQL need not take turns',
    steps: [
      // A transaction adds to one part of each type it counts (write-batch.ts, addCounts), and a count is
      // the sum of its type's parts. With one row per type, every create of a type locked that row to its
      // commit on PostgreSQL: ten clients' creates of Patients took turns, about 300 a second.
      {
        kind: 'table',
        table: { name: 'type_count_part', columns: [col('type', 'key', required), col('part', 'int', required), col('n', 'bigint', required)], unique: [['type', 'part']] },
      },
      { kind: 'raw', sqlite: COPY_COUNTS, postgres: COPY_COUNTS },
    ],
  },
];

/** The schema version this release writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The indexes only searches need (a bulk load may build them at the end), but those a later migration dropped. */
export function searchOnlyIndexes(): Index[] {
  const steps = MIGRATIONS.flatMap((m) => m.steps);
  const dropped = new Set(steps.flatMap((s) => (s.kind === 'drop-index' ? [s.name] : [])));
  return steps.flatMap((s) => (s.kind === 'index' && s.index.searchOnly && !dropped.has(s.index.name) ? [s.index] : []));
}
