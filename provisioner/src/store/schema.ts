// One schema for SQLite and PostgreSQL: only types and statements both understand
// (TEXT, BIGINT, INSERT … ON CONFLICT). Times are epoch milliseconds.
export const SCHEMA_VERSION = 1;

export const SCHEMA: string[] = [
  `CREATE TABLE IF NOT EXISTS databases (
    uuid TEXT PRIMARY KEY,
    enterprise_code_sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    subscription TEXT NOT NULL,
    iot_box_lines BIGINT NOT NULL,
    updated_at BIGINT NOT NULL)`,
  // One row per label and key: a box that sends a CSR owns its key (key_pem NULL);
  // a box that sends none gets the service's key (key_fp 'service').
  // Who owns a label: one (database, box) each; box_key '' for a per-database label.
  `CREATE TABLE IF NOT EXISTS labels (
    label TEXT PRIMARY KEY,
    db_uuid TEXT NOT NULL,
    box_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (db_uuid, box_key))`,
  `CREATE TABLE IF NOT EXISTS certificates (
    label TEXT NOT NULL,
    key_fp TEXT NOT NULL,
    db_uuid TEXT NOT NULL,
    subject_cn TEXT NOT NULL,
    cert_pem TEXT NOT NULL,
    key_pem TEXT,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    PRIMARY KEY (label, key_fp))`,
  `CREATE TABLE IF NOT EXISTS issuances (
    label TEXT NOT NULL,
    db_uuid TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    was_new BIGINT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS issuances_time ON issuances (issued_at)`,
  `CREATE INDEX IF NOT EXISTS issuances_label ON issuances (label, issued_at)`,
  `CREATE INDEX IF NOT EXISTS issuances_db ON issuances (db_uuid, issued_at)`,
  // The A record <ip-dashes>.<label> per box (box_key = box_id), or per IP when the box sent no id.
  `CREATE TABLE IF NOT EXISTS host_records (
    label TEXT NOT NULL,
    box_key TEXT NOT NULL,
    ip TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (label, box_key))`,
  // TXT records that must go: written before the record is created, removed once it is deleted.
  `CREATE TABLE IF NOT EXISTS dns_cleanup (
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (name, content))`,
  `CREATE TABLE IF NOT EXISTS acme_accounts (
    directory_url TEXT PRIMARY KEY,
    key_pem TEXT NOT NULL,
    account_url TEXT)`,
  // One order per label at a time, across instances sharing a PostgreSQL database.
  `CREATE TABLE IF NOT EXISTS order_leases (
    label TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at BIGINT NOT NULL)`,
];
