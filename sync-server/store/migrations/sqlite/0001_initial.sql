-- Version 1: the first schema: regions, accounts and tokens, enterprises, templates, records with
-- their hazards and numbers, quarantine, number leases and the void register, the signed audit
-- log. Every change takes the next value of the `seq` counter, which the devices' cursors follow.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0);
CREATE TABLE regions (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    parent TEXT REFERENCES regions (code)
);
CREATE TABLE users (
    login            TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL,
    scope            TEXT NOT NULL,
    cert             TEXT UNIQUE,
    cert_valid_until TEXT,
    password_hash    TEXT NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0,
    seq              INTEGER NOT NULL
);
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    login      TEXT NOT NULL REFERENCES users (login),
    device_id  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_by_login ON tokens (login, device_id);
CREATE TABLE enterprises (
    credit_code          TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    address              TEXT NOT NULL,
    industry             TEXT NOT NULL,
    region_code          TEXT NOT NULL REFERENCES regions (code),
    legal_representative TEXT NOT NULL,
    phone                TEXT NOT NULL,
    seq                  INTEGER NOT NULL
);
CREATE INDEX enterprises_by_seq ON enterprises (seq);
CREATE TABLE templates (
    id      TEXT NOT NULL,
    version INTEGER NOT NULL,
    source  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE agency (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    toml TEXT NOT NULL,
    seq  INTEGER NOT NULL
);
CREATE TABLE records (
    id                TEXT PRIMARY KEY,
    doc               BLOB NOT NULL,
    heads             TEXT NOT NULL,
    version           INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    inspection_kind   TEXT NOT NULL,
    template_id       TEXT NOT NULL,
    template_version  INTEGER NOT NULL,
    enterprise_code   TEXT NOT NULL,
    enterprise_name   TEXT NOT NULL,
    region_code       TEXT NOT NULL,
    industry          TEXT NOT NULL,
    status            TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    submitted_at      INTEGER,
    created_by_device TEXT NOT NULL,
    answered_count    INTEGER NOT NULL,
    hazard_count      INTEGER NOT NULL,
    amends            TEXT,
    uploaded_by       TEXT NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX records_by_seq ON records (seq);
CREATE INDEX records_by_region ON records (region_code, started_at);
CREATE INDEX records_by_enterprise ON records (enterprise_code, started_at);
CREATE INDEX records_by_amends ON records (amends) WHERE amends IS NOT NULL;
CREATE TABLE record_inspectors (
    record_id TEXT NOT NULL REFERENCES records (id),
    cert      TEXT NOT NULL,
    PRIMARY KEY (record_id, cert)
);
CREATE INDEX record_inspectors_by_cert ON record_inspectors (cert);
CREATE TABLE hazards (
    record_id   TEXT NOT NULL REFERENCES records (id),
    item        TEXT NOT NULL,
    class       TEXT NOT NULL,
    description TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    deadline    TEXT,
    PRIMARY KEY (record_id, item)
);
CREATE TABLE audit_log (
    idx           INTEGER PRIMARY KEY,
    record_id     TEXT NOT NULL UNIQUE REFERENCES records (id),
    heads         TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    locked_at     INTEGER NOT NULL,
    previous_hash TEXT NOT NULL,
    entry_hash    TEXT NOT NULL,
    signature     TEXT NOT NULL
);
CREATE TABLE quarantine (
    record_id     TEXT NOT NULL REFERENCES records (id),
    changes_hash  TEXT NOT NULL,
    changes       BLOB NOT NULL,
    uploader      TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    PRIMARY KEY (record_id, changes_hash)
);
CREATE TABLE number_leases (
    agency    TEXT NOT NULL,
    doc_type  TEXT NOT NULL,
    year      INTEGER NOT NULL,
    first     INTEGER NOT NULL,
    last      INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    login     TEXT NOT NULL,
    leased_at INTEGER NOT NULL,
    PRIMARY KEY (agency, doc_type, year, first)
);
CREATE INDEX number_leases_by_device ON number_leases (device_id);
CREATE TABLE numbers (
    agency    TEXT NOT NULL,
    doc_type  TEXT NOT NULL,
    year      INTEGER NOT NULL,
    serial    INTEGER NOT NULL,
    number    TEXT NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('issued', 'voided')),
    record_id TEXT,
    reason    TEXT,
    device_id TEXT NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (agency, doc_type, year, serial)
);
