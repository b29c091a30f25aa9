-- Version 8: IoT sensors (`store/iot.rs`): registered devices, their events and conflicting
-- repeats, rain episodes, alerts and the hazards alerts raise; and the reference data the rules
-- read: work permits and duty leaders.
CREATE TABLE iot_devices (
    device_id       TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    credit_code     TEXT NOT NULL REFERENCES enterprises (credit_code),
    location        TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    rain_threshold  INTEGER,
    registered_at   INTEGER NOT NULL,
    revoked_at      INTEGER,
    clock_offset_ms INTEGER,
    last_batch_at   INTEGER
);
CREATE INDEX iot_devices_by_enterprise ON iot_devices (credit_code);
CREATE TABLE iot_events (
    device_id   TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    at          INTEGER NOT NULL,
    device_at   INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    value       INTEGER,
    interval_s  INTEGER,
    digest      TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (device_id, event_id)
) WITHOUT ROWID;
CREATE INDEX iot_events_by_time ON iot_events (device_id, at);
CREATE TABLE iot_event_conflicts (
    device_id   TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    digest      TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, event_id, digest)
);
CREATE TABLE rain_episodes (
    device_id   TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    last_wet_at INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    reached_at  INTEGER,
    PRIMARY KEY (device_id, started_at)
);
CREATE TABLE iot_alerts (
    alert_id        TEXT PRIMARY KEY,
    rule            TEXT NOT NULL,
    credit_code     TEXT NOT NULL REFERENCES enterprises (credit_code),
    region_code     TEXT NOT NULL,
    device_id       TEXT,
    occurred_at     INTEGER NOT NULL,
    raised_at       INTEGER NOT NULL,
    title           TEXT NOT NULL,
    detail          TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT
);
CREATE INDEX iot_alerts_by_region ON iot_alerts (region_code, raised_at);
CREATE INDEX iot_alerts_by_enterprise ON iot_alerts (credit_code, raised_at);
CREATE INDEX iot_alerts_by_device ON iot_alerts (device_id, rule, occurred_at);
CREATE INDEX iot_alerts_by_seq ON iot_alerts (seq);
CREATE TABLE iot_hazards (
    hazard_id    TEXT PRIMARY KEY,
    credit_code  TEXT NOT NULL REFERENCES enterprises (credit_code),
    device_id    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    description  TEXT NOT NULL,
    found_at     INTEGER NOT NULL,
    deadline     TEXT,
    rectified_at INTEGER,
    rectified_by TEXT
);
CREATE INDEX iot_hazards_by_device ON iot_hazards (device_id, rectified_at);
CREATE INDEX iot_hazards_by_enterprise ON iot_hazards (credit_code);
CREATE TABLE work_permits (
    credit_code TEXT NOT NULL REFERENCES enterprises (credit_code),
    number      TEXT NOT NULL,
    work_type   TEXT NOT NULL,
    level       TEXT,
    area        TEXT NOT NULL,
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    PRIMARY KEY (credit_code, number)
);
CREATE INDEX work_permits_by_time ON work_permits (credit_code, work_type, valid_from);
CREATE TABLE duty_leaders (
    credit_code TEXT NOT NULL REFERENCES enterprises (credit_code),
    person_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    position    TEXT NOT NULL,
    PRIMARY KEY (credit_code, person_id)
);
