-- Version 2: the supervisors' reference data (`store/reference.rs`). Dates are `YYYY-MM-DD` text
-- (dates in China), instants milliseconds, as in version 1.
CREATE TABLE permits (
    permit_type TEXT COLLATE "C" NOT NULL,
    number      TEXT COLLATE "C" NOT NULL,
    valid_from  TEXT COLLATE "C" NOT NULL,
    credit_code TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    issued_by   TEXT COLLATE "C" NOT NULL,
    valid_until TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (permit_type, number, valid_from)
);
CREATE INDEX permits_by_enterprise ON permits (credit_code);
CREATE INDEX permits_by_valid_until ON permits (valid_until);
CREATE TABLE hazard_sources (
    credit_code TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    name        TEXT COLLATE "C" NOT NULL,
    level       BIGINT NOT NULL,
    filed_on    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (credit_code, name)
);
CREATE TABLE staff_certificates (
    credit_code        TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    certificate_number TEXT COLLATE "C" NOT NULL,
    certificate_type   TEXT COLLATE "C" NOT NULL,
    role               TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    valid_until        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (credit_code, certificate_number, certificate_type)
);
CREATE INDEX staff_certificates_by_valid_until ON staff_certificates (valid_until);
CREATE TABLE emergency_plans (
    credit_code TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    title       TEXT COLLATE "C" NOT NULL,
    filed_on    TEXT COLLATE "C" NOT NULL,
    valid_until TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (credit_code, title, filed_on)
);
CREATE TABLE health_declarations (
    credit_code TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    year        BIGINT NOT NULL,
    declared_on TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (credit_code, year)
);
CREATE INDEX health_declarations_by_year ON health_declarations (year);
CREATE TABLE hotline_reports (
    id            TEXT COLLATE "C" PRIMARY KEY,
    received_on   TEXT COLLATE "C" NOT NULL,
    received_at   BIGINT,
    district_code TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    industry      TEXT COLLATE "C" NOT NULL,
    category      TEXT COLLATE "C" NOT NULL,
    credit_code   TEXT COLLATE "C" REFERENCES enterprises (credit_code),
    summary       TEXT COLLATE "C" NOT NULL,
    status        TEXT COLLATE "C" NOT NULL
);
CREATE INDEX hotline_reports_by_received ON hotline_reports (received_on);
CREATE INDEX hotline_reports_by_district ON hotline_reports (district_code, received_on);
CREATE INDEX hotline_reports_by_enterprise ON hotline_reports (credit_code)
    WHERE credit_code IS NOT NULL;
CREATE TABLE mailbox_messages (
    id            TEXT COLLATE "C" PRIMARY KEY,
    received_on   TEXT COLLATE "C" NOT NULL,
    kind          TEXT COLLATE "C" NOT NULL,
    district_code TEXT COLLATE "C" REFERENCES regions (code),
    summary       TEXT COLLATE "C" NOT NULL,
    status        TEXT COLLATE "C" NOT NULL
);
CREATE INDEX mailbox_messages_by_received ON mailbox_messages (received_on);
CREATE TABLE attendance (
    credit_code TEXT COLLATE "C" NOT NULL REFERENCES enterprises (credit_code),
    date        TEXT COLLATE "C" NOT NULL,
    shift       TEXT COLLATE "C" NOT NULL,
    leader      TEXT COLLATE "C" NOT NULL,
    present     BOOLEAN NOT NULL,
    source      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (credit_code, date, shift, leader)
);
CREATE INDEX attendance_by_date ON attendance (date);
