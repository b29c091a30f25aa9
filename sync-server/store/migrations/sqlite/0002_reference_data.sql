-- Version 2: the supervisors' reference data (`store/reference.rs`). Dates are `YYYY-MM-DD` text
-- (dates in China), instants milliseconds, as in version 1.
CREATE TABLE permits (
    permit_type TEXT NOT NULL,
    number      TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    credit_code TEXT NOT NULL REFERENCES enterprises (credit_code),
    issued_by   TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    PRIMARY KEY (permit_type, number, valid_from)
);
CREATE INDEX permits_by_enterprise ON permits (credit_code);
CREATE INDEX permits_by_valid_until ON permits (valid_until);
CREATE TABLE hazard_sources (
    credit_code TEXT NOT NULL REFERENCES enterprises (credit_code),
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL,
    filed_on    TEXT NOT NULL,
    PRIMARY KEY (credit_code, name)
);
CREATE TABLE staff_certificates (
    credit_code        TEXT NOT NULL REFERENCES enterprises (credit_code),
    certificate_number TEXT NOT NULL,
    certificate_type   TEXT NOT NULL,
    role               TEXT NOT NULL,
    name               TEXT NOT NULL,
    valid_until        TEXT NOT NULL,
    PRIMARY KEY (credit_code, certificate_number, certificate_type)
);
CREATE INDEX staff_certificates_by_valid_until ON staff_certificates (valid_until);
CREATE TABLE emergency_plans (
    credit_code TEXT NOT NULL REFERENCES enterprises (credit_code),
    title       TEXT NOT NULL,
    filed_on    TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    PRIMARY KEY (credit_code, title, filed_on)
);
CREATE TABLE health_declarations (
    credit_code TEXT NOT NULL REFERENCES enterprises (credit_code),
    year        INTEGER NOT NULL,
    declared_on TEXT NOT NULL,
    PRIMARY KEY (credit_code, year)
);
CREATE INDEX health_declarations_by_year ON health_declarations (year);
CREATE TABLE hotline_reports (
    id            TEXT PRIMARY KEY,
    received_on   TEXT NOT NULL,
    received_at   INTEGER,
    district_code TEXT NOT NULL REFERENCES regions (code),
    industry      TEXT NOT NULL,
    category      TEXT NOT NULL,
    credit_code   TEXT REFERENCES enterprises (credit_code),
    summary       TEXT NOT NULL,
    status        TEXT NOT NULL
);
CREATE INDEX hotline_reports_by_received ON hotline_reports (received_on);
CREATE INDEX hotline_reports_by_district ON hotline_reports (district_code, received_on);
CREATE INDEX hotline_reports_by_enterprise ON hotline_reports (credit_code)
    WHERE credit_code IS NOT NULL;
CREATE TABLE mailbox_messages (
    id            TEXT PRIMARY KEY,
    received_on   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    district_code TEXT REFERENCES regions (code),
    summary       TEXT NOT NULL,
    status        TEXT NOT NULL
);
CREATE INDEX mailbox_messages_by_received ON mailbox_messages (received_on);
CREATE TABLE attendance (
    credit_code TEXT NOT NULL REFERENCES enterprises (credit_code),
    date        TEXT NOT NULL,
    shift       TEXT NOT NULL,
    leader      TEXT NOT NULL,
    present     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    PRIMARY KEY (credit_code, date, shift, leader)
);
CREATE INDEX attendance_by_date ON attendance (date);
