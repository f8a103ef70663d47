/**
 * The SQLite schema. docs/storage.md explains every table with worked examples;
 * the PostgreSQL schema (../postgres/schema.ts) has the same tables and columns.
 */
export const SCHEMA_VERSION = 1;

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS resource (
  rid          INTEGER PRIMARY KEY,
  type         TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  deleted      INTEGER NOT NULL DEFAULT 0,
  UNIQUE (type, id)
);

CREATE TABLE IF NOT EXISTS resource_version (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  rid          INTEGER NOT NULL,
  type         TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  method       TEXT    NOT NULL,
  json         TEXT,
  UNIQUE (rid, version)
);
CREATE INDEX IF NOT EXISTS resource_version_type ON resource_version (type, seq);
DROP INDEX IF EXISTS resource_version_instance;
CREATE INDEX IF NOT EXISTS resource_version_updated ON resource_version (last_updated);
CREATE INDEX IF NOT EXISTS resource_type_updated ON resource (type, last_updated);

CREATE TABLE IF NOT EXISTS type_count (type TEXT PRIMARY KEY, n INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS search_param (
  pid  INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  code TEXT NOT NULL,
  UNIQUE (type, code)
);

CREATE TABLE IF NOT EXISTS idx_token (rid INTEGER NOT NULL, pid INTEGER NOT NULL, system TEXT, code TEXT, text TEXT);
CREATE INDEX IF NOT EXISTS idx_token_code ON idx_token (pid, code);
DROP INDEX IF EXISTS idx_token_system;
CREATE INDEX IF NOT EXISTS idx_token_rid ON idx_token (rid, pid);

CREATE TABLE IF NOT EXISTS idx_string (rid INTEGER NOT NULL, pid INTEGER NOT NULL, norm TEXT NOT NULL, exact TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_string_prefix ON idx_string (pid, substr(norm, 1, 100));
CREATE INDEX IF NOT EXISTS idx_string_rid ON idx_string (rid, pid);

CREATE TABLE IF NOT EXISTS idx_date (rid INTEGER NOT NULL, pid INTEGER NOT NULL, low INTEGER NOT NULL, high INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idx_date_low ON idx_date (pid, low);
CREATE INDEX IF NOT EXISTS idx_date_high ON idx_date (pid, high);
CREATE INDEX IF NOT EXISTS idx_date_rid ON idx_date (rid, pid);

CREATE TABLE IF NOT EXISTS idx_number (rid INTEGER NOT NULL, pid INTEGER NOT NULL, value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS idx_number_value ON idx_number (pid, value);
CREATE INDEX IF NOT EXISTS idx_number_rid ON idx_number (rid, pid);

CREATE TABLE IF NOT EXISTS idx_quantity (rid INTEGER NOT NULL, pid INTEGER NOT NULL, value REAL NOT NULL, system TEXT, code TEXT, unit TEXT, canon_value REAL, canon_unit TEXT);
CREATE INDEX IF NOT EXISTS idx_quantity_value ON idx_quantity (pid, value);
CREATE INDEX IF NOT EXISTS idx_quantity_canon ON idx_quantity (pid, canon_unit, canon_value);
CREATE INDEX IF NOT EXISTS idx_quantity_rid ON idx_quantity (rid, pid);

CREATE TABLE IF NOT EXISTS idx_reference (rid INTEGER NOT NULL, pid INTEGER NOT NULL, target_type TEXT, target_id TEXT, url TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_reference_target ON idx_reference (pid, target_id);
DROP INDEX IF EXISTS idx_reference_url;
CREATE INDEX IF NOT EXISTS idx_reference_url_ext ON idx_reference (pid, url) WHERE url <> '';
CREATE INDEX IF NOT EXISTS idx_reference_rid ON idx_reference (rid, pid);

CREATE TABLE IF NOT EXISTS idx_uri (rid INTEGER NOT NULL, pid INTEGER NOT NULL, uri TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_uri_uri ON idx_uri (pid, uri);
CREATE INDEX IF NOT EXISTS idx_uri_rid ON idx_uri (rid, pid);

CREATE TABLE IF NOT EXISTS idx_composite (
  rid INTEGER NOT NULL, pid INTEGER NOT NULL,
  system1 TEXT, code1 TEXT,
  system2 TEXT, code2 TEXT, low2 REAL, high2 REAL, canon2 REAL, unit2 TEXT, norm2 TEXT
);
CREATE INDEX IF NOT EXISTS idx_composite_code ON idx_composite (pid, code1, system1);
CREATE INDEX IF NOT EXISTS idx_composite_rid ON idx_composite (rid, pid);

DROP TABLE IF EXISTS idx_text;
CREATE VIRTUAL TABLE IF NOT EXISTS idx_text_narrative USING fts5(words, content='', contentless_delete=1, detail=none);
CREATE VIRTUAL TABLE IF NOT EXISTS idx_text_content USING fts5(words, content='', contentless_delete=1, detail=none);

CREATE TABLE IF NOT EXISTS compartment (rid INTEGER NOT NULL, patient TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS compartment_patient ON compartment (patient, rid);
CREATE INDEX IF NOT EXISTS compartment_rid ON compartment (rid);
`;
