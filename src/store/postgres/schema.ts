/**
 * The PostgreSQL schema: the same tables and columns as SQLite (../sqlite/schema.ts).
 * Text compared by range (string prefixes, uris) uses the "C" collation, so that
 * byte order equals code-point order and `>= prefix AND < next(prefix)` is exact.
 * The JSON is kept as text, exactly as served (not jsonb, which would reorder it).
 */
export const POSTGRES_SCHEMA = `
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS resource (
  rid          BIGSERIAL PRIMARY KEY,
  type         TEXT COLLATE "C" NOT NULL,
  id           TEXT COLLATE "C" NOT NULL,
  version      INTEGER NOT NULL,
  last_updated BIGINT  NOT NULL,
  deleted      SMALLINT NOT NULL DEFAULT 0,
  UNIQUE (type, id)
);

CREATE TABLE IF NOT EXISTS resource_version (
  seq          BIGSERIAL PRIMARY KEY,
  rid          BIGINT  NOT NULL,
  type         TEXT COLLATE "C" NOT NULL,
  id           TEXT COLLATE "C" NOT NULL,
  version      INTEGER NOT NULL,
  last_updated BIGINT  NOT NULL,
  method       TEXT    NOT NULL,
  json         TEXT,
  UNIQUE (rid, version)
);
CREATE INDEX IF NOT EXISTS resource_version_type ON resource_version (type, seq);
DROP INDEX IF EXISTS resource_version_instance;
CREATE INDEX IF NOT EXISTS resource_version_updated ON resource_version (last_updated);
CREATE INDEX IF NOT EXISTS resource_type_updated ON resource (type, last_updated);

CREATE TABLE IF NOT EXISTS type_count (type TEXT COLLATE "C" PRIMARY KEY, n BIGINT NOT NULL);

CREATE TABLE IF NOT EXISTS search_param (
  pid  SERIAL PRIMARY KEY,
  type TEXT COLLATE "C" NOT NULL,
  code TEXT COLLATE "C" NOT NULL,
  UNIQUE (type, code)
);

CREATE TABLE IF NOT EXISTS idx_token (rid BIGINT NOT NULL, pid INTEGER NOT NULL, system TEXT COLLATE "C", code TEXT COLLATE "C", text TEXT COLLATE "C");
CREATE INDEX IF NOT EXISTS idx_token_code ON idx_token (pid, code);
DROP INDEX IF EXISTS idx_token_system;
CREATE INDEX IF NOT EXISTS idx_token_rid ON idx_token (rid, pid);

CREATE TABLE IF NOT EXISTS idx_string (rid BIGINT NOT NULL, pid INTEGER NOT NULL, norm TEXT COLLATE "C" NOT NULL, exact TEXT COLLATE "C" NOT NULL);
CREATE INDEX IF NOT EXISTS idx_string_prefix ON idx_string (pid, substr(norm, 1, 100));
CREATE INDEX IF NOT EXISTS idx_string_rid ON idx_string (rid, pid);

CREATE TABLE IF NOT EXISTS idx_date (rid BIGINT NOT NULL, pid INTEGER NOT NULL, low BIGINT NOT NULL, high BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_date_low ON idx_date (pid, low);
CREATE INDEX IF NOT EXISTS idx_date_high ON idx_date (pid, high);
CREATE INDEX IF NOT EXISTS idx_date_rid ON idx_date (rid, pid);

CREATE TABLE IF NOT EXISTS idx_number (rid BIGINT NOT NULL, pid INTEGER NOT NULL, value DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS idx_number_value ON idx_number (pid, value);
CREATE INDEX IF NOT EXISTS idx_number_rid ON idx_number (rid, pid);

CREATE TABLE IF NOT EXISTS idx_quantity (rid BIGINT NOT NULL, pid INTEGER NOT NULL, value DOUBLE PRECISION NOT NULL, system TEXT COLLATE "C", code TEXT COLLATE "C", unit TEXT COLLATE "C", canon_value DOUBLE PRECISION, canon_unit TEXT COLLATE "C");
CREATE INDEX IF NOT EXISTS idx_quantity_value ON idx_quantity (pid, value);
CREATE INDEX IF NOT EXISTS idx_quantity_canon ON idx_quantity (pid, canon_unit, canon_value);
CREATE INDEX IF NOT EXISTS idx_quantity_rid ON idx_quantity (rid, pid);

CREATE TABLE IF NOT EXISTS idx_reference (rid BIGINT NOT NULL, pid INTEGER NOT NULL, target_type TEXT COLLATE "C", target_id TEXT COLLATE "C", url TEXT COLLATE "C" NOT NULL);
CREATE INDEX IF NOT EXISTS idx_reference_target ON idx_reference (pid, target_id);
DROP INDEX IF EXISTS idx_reference_url;
CREATE INDEX IF NOT EXISTS idx_reference_url_ext ON idx_reference (pid, url) WHERE url <> '';
CREATE INDEX IF NOT EXISTS idx_reference_rid ON idx_reference (rid, pid);

CREATE TABLE IF NOT EXISTS idx_uri (rid BIGINT NOT NULL, pid INTEGER NOT NULL, uri TEXT COLLATE "C" NOT NULL);
CREATE INDEX IF NOT EXISTS idx_uri_uri ON idx_uri (pid, uri);
CREATE INDEX IF NOT EXISTS idx_uri_rid ON idx_uri (rid, pid);

CREATE TABLE IF NOT EXISTS idx_composite (
  rid BIGINT NOT NULL, pid INTEGER NOT NULL,
  system1 TEXT COLLATE "C", code1 TEXT COLLATE "C",
  system2 TEXT COLLATE "C", code2 TEXT COLLATE "C", low2 DOUBLE PRECISION, high2 DOUBLE PRECISION, canon2 DOUBLE PRECISION, unit2 TEXT COLLATE "C", norm2 TEXT COLLATE "C"
);
CREATE INDEX IF NOT EXISTS idx_composite_code ON idx_composite (pid, code1, system1);
CREATE INDEX IF NOT EXISTS idx_composite_rid ON idx_composite (rid, pid);

CREATE TABLE IF NOT EXISTS idx_text (rid BIGINT PRIMARY KEY, narrative tsvector NOT NULL, content tsvector NOT NULL);
CREATE INDEX IF NOT EXISTS idx_text_narrative ON idx_text USING GIN (narrative);
CREATE INDEX IF NOT EXISTS idx_text_content ON idx_text USING GIN (content);

CREATE TABLE IF NOT EXISTS compartment (rid BIGINT NOT NULL, patient TEXT COLLATE "C" NOT NULL);
CREATE INDEX IF NOT EXISTS compartment_patient ON compartment (patient, rid);
CREATE INDEX IF NOT EXISTS compartment_rid ON compartment (rid);
`;
