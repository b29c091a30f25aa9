-- Version 5: the analyses' rollups (`store/rollups.rs`) and hazard tracking's tallies and open
-- hazards (`store/standings.rs`), counted from the records when the version is added (the step
-- `RecountRollups` after the SQL).
CREATE TABLE inspection_days (
    day             BIGINT NOT NULL,
    region_code     TEXT COLLATE "C" NOT NULL,
    industry        TEXT COLLATE "C" NOT NULL,
    inspection_kind TEXT COLLATE "C" NOT NULL,
    inspections     BIGINT NOT NULL,
    passed          BIGINT NOT NULL,
    hazards         BIGINT NOT NULL,
    PRIMARY KEY (day, region_code, industry, inspection_kind)
);
CREATE TABLE inspection_months (
    month           BIGINT NOT NULL,
    region_code     TEXT COLLATE "C" NOT NULL,
    industry        TEXT COLLATE "C" NOT NULL,
    inspection_kind TEXT COLLATE "C" NOT NULL,
    inspections     BIGINT NOT NULL,
    passed          BIGINT NOT NULL,
    hazards         BIGINT NOT NULL,
    PRIMARY KEY (month, region_code, industry, inspection_kind)
);
CREATE TABLE inspection_years (
    enterprise_code TEXT COLLATE "C" NOT NULL,
    inspection_kind TEXT COLLATE "C" NOT NULL,
    year            BIGINT NOT NULL,
    region_code     TEXT COLLATE "C" NOT NULL,
    days            BYTEA NOT NULL,
    first_submitted BYTEA NOT NULL,
    PRIMARY KEY (enterprise_code, inspection_kind, year, region_code)
);
CREATE INDEX inspection_years_by_region ON inspection_years (region_code, year);
CREATE TABLE attendance_months (
    credit_code TEXT COLLATE "C" NOT NULL,
    month       TEXT COLLATE "C" NOT NULL,
    shifts      BIGINT NOT NULL,
    present     BIGINT NOT NULL,
    PRIMARY KEY (credit_code, month)
);
CREATE TABLE hazard_tallies (
    enterprise_code TEXT COLLATE "C" NOT NULL,
    region_code     TEXT COLLATE "C" NOT NULL,
    inspection_kind TEXT COLLATE "C" NOT NULL,
    enterprise_name TEXT COLLATE "C" NOT NULL,
    found           BIGINT NOT NULL,
    rectified       BIGINT NOT NULL,
    PRIMARY KEY (enterprise_code, region_code, inspection_kind)
);
CREATE INDEX hazard_tallies_by_region ON hazard_tallies (region_code);
CREATE TABLE open_hazards (
    record_id       TEXT COLLATE "C" NOT NULL,
    item            TEXT COLLATE "C" NOT NULL,
    enterprise_code TEXT COLLATE "C" NOT NULL,
    enterprise_name TEXT COLLATE "C" NOT NULL,
    region_code     TEXT COLLATE "C" NOT NULL,
    inspection_kind TEXT COLLATE "C" NOT NULL,
    found_at        BIGINT NOT NULL,
    class           TEXT COLLATE "C" NOT NULL,
    description     TEXT COLLATE "C" NOT NULL,
    deadline        TEXT COLLATE "C",
    PRIMARY KEY (record_id, item)
);
CREATE INDEX open_hazards_by_enterprise
    ON open_hazards (enterprise_code, region_code, inspection_kind, deadline);
CREATE INDEX open_hazards_by_region ON open_hazards (region_code, deadline, record_id, item);
CREATE INDEX open_hazards_by_deadline ON open_hazards (deadline, record_id, item);
