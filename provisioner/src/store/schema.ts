// One schema for SQLite and PostgreSQL: only types and statements both understand
// (TEXT, BIGINT, INSERT … ON CONFLICT). Times are epoch milliseconds.
export const SCHEMA_VERSION = 2;

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
  // An order in progress: its budget slot, taken in the same exclusive section as the decision
  // to order (so simultaneous requests and instances cannot overspend), and the one-order-per-
  // label-at-a-time lease. Turned into an issuance or deleted when the order ends; the row of an
  // instance that died stops counting at expires_at. (Replaces order_leases, no longer used.)
  `CREATE TABLE IF NOT EXISTS order_reservations (
    label TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    db_uuid TEXT NOT NULL,
    was_new BIGINT NOT NULL,
    reserved_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL)`,
  // Refused attempts (wrong code, unknown database…), keyed "source:<addr>" or "database:<uuid>".
  `CREATE TABLE IF NOT EXISTS refused_attempts (
    scope_key TEXT NOT NULL,
    at BIGINT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS refused_attempts_key ON refused_attempts (scope_key, at)`,
  `CREATE INDEX IF NOT EXISTS refused_attempts_at ON refused_attempts (at)`,
  // Sources that were served a certificate for a database (exempt from its per-database limit).
  `CREATE TABLE IF NOT EXISTS known_sources (
    db_uuid TEXT NOT NULL,
    source TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (db_uuid, source))`,
];
