-- Version 8: IoT sensors (`store/iot.rs`): registered devices, their events and conflicting
-- repeats, rain episodes, alerts and the hazards alerts raise; and the reference data the rules
-- read: work permits and duty leaders.
CREATE TABLE iot_devices (
    device_id       TEXT COLLATE "C" PRIMARY KEY,
    kind            TEXT COLLATE "C" NOT NULL,
    credit_code     TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    location        TEXT NOT NULL,
    key_hash        TEXT COLLATE "C" NOT NULL UNIQUE,
    rain_threshold  BIGINT,
    registered_at   BIGINT NOT NULL,
    revoked_at      BIGINT,
    clock_offset_ms BIGINT,
    last_batch_at   BIGINT
);
CREATE INDEX iot_devices_by_enterprise ON iot_devices (credit_code);
CREATE TABLE iot_events (
    device_id   TEXT COLLATE "C" NOT NULL,
    event_id    TEXT COLLATE "C" NOT NULL,
    at          BIGINT NOT NULL,
    device_at   BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    value       BIGINT,
    interval_s  BIGINT,
    digest      TEXT COLLATE "C" NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (device_id, event_id)
);
CREATE INDEX iot_events_by_time ON iot_events (device_id, at);
CREATE TABLE iot_event_conflicts (
    device_id   TEXT COLLATE "C" NOT NULL,
    event_id    TEXT COLLATE "C" NOT NULL,
    digest      TEXT COLLATE "C" NOT NULL,
    body        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, event_id, digest)
);
CREATE TABLE rain_episodes (
    device_id   TEXT COLLATE "C" NOT NULL,
    started_at  BIGINT NOT NULL,
    last_wet_at BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    reached_at  BIGINT,
    PRIMARY KEY (device_id, started_at)
);
CREATE TABLE iot_alerts (
    alert_id        TEXT COLLATE "C" PRIMARY KEY,
    rule            TEXT COLLATE "C" NOT NULL,
    credit_code     TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    region_code     TEXT COLLATE "C" NOT NULL,
    device_id       TEXT COLLATE "C",
    occurred_at     BIGINT NOT NULL,
    raised_at       BIGINT NOT NULL,
    title           TEXT NOT NULL,
    detail          TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT
);
CREATE INDEX iot_alerts_by_region ON iot_alerts (region_code, raised_at);
CREATE INDEX iot_alerts_by_enterprise ON iot_alerts (credit_code, raised_at);
CREATE INDEX iot_alerts_by_device ON iot_alerts (device_id, rule, occurred_at);
CREATE INDEX iot_alerts_by_seq ON iot_alerts (seq);
CREATE TABLE iot_hazards (
    hazard_id    TEXT COLLATE "C" PRIMARY KEY,
    credit_code  TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    device_id    TEXT COLLATE "C" NOT NULL,
    subject      TEXT COLLATE "C" NOT NULL,
    description  TEXT NOT NULL,
    found_at     BIGINT NOT NULL,
    deadline     TEXT,
    rectified_at BIGINT,
    rectified_by TEXT
);
CREATE INDEX iot_hazards_by_device ON iot_hazards (device_id, rectified_at);
CREATE INDEX iot_hazards_by_enterprise ON iot_hazards (credit_code);
CREATE TABLE work_permits (
    credit_code TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    number      TEXT COLLATE "C" NOT NULL,
    work_type   TEXT COLLATE "C" NOT NULL,
    level       TEXT COLLATE "C",
    area        TEXT NOT NULL,
    valid_from  BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    PRIMARY KEY (credit_code, number)
);
CREATE INDEX work_permits_by_time ON work_permits (credit_code, work_type, valid_from);
CREATE TABLE duty_leaders (
    credit_code TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    person_id   TEXT COLLATE "C" NOT NULL,
    name        TEXT NOT NULL,
    position    TEXT NOT NULL,
    PRIMARY KEY (credit_code, person_id)
);
