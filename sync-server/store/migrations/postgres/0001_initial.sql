-- Version 1: the first schema: regions, accounts and tokens, enterprises, templates, records with
-- their hazards and numbers, quarantine, number leases and the void register, the signed audit
-- log. Every change takes the next value of the `seq` counter, which the devices' cursors follow.
--
-- Text columns compare byte by byte (COLLATE "C"), so lists come in the order SQLite gives them.
CREATE TABLE counters (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0);
CREATE TABLE regions (
    code   TEXT COLLATE "C" PRIMARY KEY,
    name   TEXT COLLATE "C" NOT NULL,
    parent TEXT COLLATE "C" REFERENCES regions (code)
);
CREATE TABLE users (
    login            TEXT COLLATE "C" PRIMARY KEY,
    name             TEXT COLLATE "C" NOT NULL,
    role             TEXT COLLATE "C" NOT NULL,
    scope            TEXT COLLATE "C" NOT NULL,
    cert             TEXT COLLATE "C" UNIQUE,
    cert_valid_until TEXT COLLATE "C",
    password_hash    TEXT COLLATE "C" NOT NULL,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    seq              BIGINT NOT NULL
);
CREATE TABLE tokens (
    hash       TEXT COLLATE "C" PRIMARY KEY,
    kind       TEXT COLLATE "C" NOT NULL,
    login      TEXT COLLATE "C" NOT NULL REFERENCES users (login),
    device_id  TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX tokens_by_login ON tokens (login, device_id);
CREATE TABLE enterprises (
    credit_code          TEXT COLLATE "C" PRIMARY KEY,
    name                 TEXT COLLATE "C" NOT NULL,
    address              TEXT COLLATE "C" NOT NULL,
    industry             TEXT COLLATE "C" NOT NULL,
    region_code          TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    legal_representative TEXT COLLATE "C" NOT NULL,
    phone                TEXT COLLATE "C" NOT NULL,
    seq                  BIGINT NOT NULL
);
CREATE INDEX enterprises_by_seq ON enterprises (seq);
CREATE TABLE templates (
    id      TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    source  TEXT COLLATE "C" NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE agency (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    toml TEXT COLLATE "C" NOT NULL,
    seq  BIGINT NOT NULL
);
CREATE TABLE records (
    id                TEXT COLLATE "C" PRIMARY KEY,
    doc               BYTEA NOT NULL,
    heads             TEXT COLLATE "C" NOT NULL,
    version           BIGINT NOT NULL,
    seq               BIGINT NOT NULL,
    kind              TEXT COLLATE "C" NOT NULL,
    inspection_kind   TEXT COLLATE "C" NOT NULL,
    template_id       TEXT COLLATE "C" NOT NULL,
    template_version  BIGINT NOT NULL,
    enterprise_code   TEXT COLLATE "C" NOT NULL,
    enterprise_name   TEXT COLLATE "C" NOT NULL,
    region_code       TEXT COLLATE "C" NOT NULL,
    industry          TEXT COLLATE "C" NOT NULL,
    status            TEXT COLLATE "C" NOT NULL,
    started_at        BIGINT NOT NULL,
    submitted_at      BIGINT,
    created_by_device TEXT COLLATE "C" NOT NULL,
    answered_count    BIGINT NOT NULL,
    hazard_count      BIGINT NOT NULL,
    amends            TEXT COLLATE "C",
    uploaded_by       TEXT COLLATE "C" NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX records_by_seq ON records (seq);
CREATE INDEX records_by_region ON records (region_code, started_at);
CREATE INDEX records_by_enterprise ON records (enterprise_code, started_at);
CREATE INDEX records_by_amends ON records (amends) WHERE amends IS NOT NULL;
CREATE TABLE record_inspectors (
    record_id TEXT COLLATE "C" NOT NULL REFERENCES records (id),
    cert      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (record_id, cert)
);
CREATE INDEX record_inspectors_by_cert ON record_inspectors (cert);
CREATE TABLE hazards (
    record_id   TEXT COLLATE "C" NOT NULL REFERENCES records (id),
    item        TEXT COLLATE "C" NOT NULL,
    class       TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    legal_basis TEXT COLLATE "C" NOT NULL,
    deadline    TEXT COLLATE "C",
    PRIMARY KEY (record_id, item)
);
CREATE TABLE audit_log (
    idx           BIGINT PRIMARY KEY,
    record_id     TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES records (id),
    heads         TEXT COLLATE "C" NOT NULL,
    content_hash  TEXT COLLATE "C" NOT NULL,
    locked_at     BIGINT NOT NULL,
    previous_hash TEXT COLLATE "C" NOT NULL,
    entry_hash    TEXT COLLATE "C" NOT NULL,
    signature     TEXT COLLATE "C" NOT NULL
);
CREATE TABLE quarantine (
    record_id     TEXT COLLATE "C" NOT NULL REFERENCES records (id),
    changes_hash  TEXT COLLATE "C" NOT NULL,
    changes       BYTEA NOT NULL,
    uploader      TEXT COLLATE "C" NOT NULL,
    device_id     TEXT COLLATE "C" NOT NULL,
    received_at   BIGINT NOT NULL,
    PRIMARY KEY (record_id, changes_hash)
);
CREATE TABLE number_leases (
    agency    TEXT COLLATE "C" NOT NULL,
    doc_type  TEXT COLLATE "C" NOT NULL,
    year      INTEGER NOT NULL,
    first     BIGINT NOT NULL,
    last      BIGINT NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    login     TEXT COLLATE "C" NOT NULL,
    leased_at BIGINT NOT NULL,
    PRIMARY KEY (agency, doc_type, year, first)
);
CREATE INDEX number_leases_by_device ON number_leases (device_id);
CREATE TABLE numbers (
    agency    TEXT COLLATE "C" NOT NULL,
    doc_type  TEXT COLLATE "C" NOT NULL,
    year      INTEGER NOT NULL,
    serial    BIGINT NOT NULL,
    number    TEXT COLLATE "C" NOT NULL,
    state     TEXT COLLATE "C" NOT NULL CHECK (state IN ('issued', 'voided')),
    record_id TEXT COLLATE "C",
    reason    TEXT COLLATE "C",
    device_id TEXT COLLATE "C" NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (agency, doc_type, year, serial)
);
