-- Version 5: the analyses' rollups (`store/rollups.rs`) and hazard tracking's tallies and open
-- hazards (`store/standings.rs`), counted from the records when the version is added (the step
-- `RecountRollups` after the SQL).
CREATE TABLE inspection_days (
    day             INTEGER NOT NULL,
    region_code     TEXT NOT NULL,
    industry        TEXT NOT NULL,
    inspection_kind TEXT NOT NULL,
    inspections     INTEGER NOT NULL,
    passed          INTEGER NOT NULL,
    hazards         INTEGER NOT NULL,
    PRIMARY KEY (day, region_code, industry, inspection_kind)
) WITHOUT ROWID;
CREATE TABLE inspection_months (
    month           INTEGER NOT NULL,
    region_code     TEXT NOT NULL,
    industry        TEXT NOT NULL,
    inspection_kind TEXT NOT NULL,
    inspections     INTEGER NOT NULL,
    passed          INTEGER NOT NULL,
    hazards         INTEGER NOT NULL,
    PRIMARY KEY (month, region_code, industry, inspection_kind)
) WITHOUT ROWID;
CREATE TABLE inspection_years (
    enterprise_code TEXT NOT NULL,
    inspection_kind TEXT NOT NULL,
    year            INTEGER NOT NULL,
    region_code     TEXT NOT NULL,
    days            BLOB NOT NULL,
    first_submitted BLOB NOT NULL,
    PRIMARY KEY (enterprise_code, inspection_kind, year, region_code)
) WITHOUT ROWID;
CREATE INDEX inspection_years_by_region ON inspection_years (region_code, year);
CREATE TABLE attendance_months (
    credit_code TEXT NOT NULL,
    month       TEXT NOT NULL,
    shifts      INTEGER NOT NULL,
    present     INTEGER NOT NULL,
    PRIMARY KEY (credit_code, month)
);
CREATE TABLE hazard_tallies (
    enterprise_code TEXT NOT NULL,
    region_code     TEXT NOT NULL,
    inspection_kind TEXT NOT NULL,
    enterprise_name TEXT NOT NULL,
    found           INTEGER NOT NULL,
    rectified       INTEGER NOT NULL,
    PRIMARY KEY (enterprise_code, region_code, inspection_kind)
) WITHOUT ROWID;
CREATE INDEX hazard_tallies_by_region ON hazard_tallies (region_code);
CREATE TABLE open_hazards (
    record_id       TEXT NOT NULL,
    item            TEXT NOT NULL,
    enterprise_code TEXT NOT NULL,
    enterprise_name TEXT NOT NULL,
    region_code     TEXT NOT NULL,
    inspection_kind TEXT NOT NULL,
    found_at        INTEGER NOT NULL,
    class           TEXT NOT NULL,
    description     TEXT NOT NULL,
    deadline        TEXT,
    PRIMARY KEY (record_id, item)
);
CREATE INDEX open_hazards_by_enterprise
    ON open_hazards (enterprise_code, region_code, inspection_kind, deadline);
CREATE INDEX open_hazards_by_region ON open_hazards (region_code, deadline, record_id, item);
CREATE INDEX open_hazards_by_deadline ON open_hazards (deadline, record_id, item);
