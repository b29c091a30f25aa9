-- Version 6: rollups a range reads in a few rows whatever its length. The day table and the year
-- rows (one per enterprise, kind and year: 27,000 for a city's three years, 40 ms to read) give
-- way to the day's counts and running totals per series and day (a long range is two rows per
-- series, a short one its days), one history row per enterprise, and running totals of duty-
-- leader shifts per enterprise and day. The month table is keyed in the order the analysis by
-- month groups it (month, then kind), so the database groups it as it reads it instead of sorting
-- a city's 25,000 rows (48 ms). The open hazards' indexes by region and by deadline also carry
-- the enterprise and kind, and a tally keeps how many of its open hazards have a deadline: hazard
-- tracking counts those overdue from the few due today or later (grouping a city's 15,000 overdue
-- hazards took 30-56 ms). All counted again from the records (`RecountRollups`).
DROP TABLE inspection_days;
DROP TABLE inspection_years;
DROP TABLE inspection_months;
CREATE TABLE inspection_months (
    month           INTEGER NOT NULL,
    inspection_kind TEXT NOT NULL,
    region_code     TEXT NOT NULL,
    industry        TEXT NOT NULL,
    inspections     INTEGER NOT NULL,
    passed          INTEGER NOT NULL,
    hazards         INTEGER NOT NULL,
    PRIMARY KEY (month, inspection_kind, region_code, industry)
) WITHOUT ROWID;
CREATE INDEX inspection_months_by_region ON inspection_months (region_code, month);
DROP INDEX open_hazards_by_region;
DROP INDEX open_hazards_by_deadline;
CREATE INDEX open_hazards_by_region
    ON open_hazards (region_code, deadline, record_id, item, enterprise_code, inspection_kind);
CREATE INDEX open_hazards_by_deadline
    ON open_hazards (deadline, record_id, item, enterprise_code, region_code, inspection_kind);
ALTER TABLE hazard_tallies ADD COLUMN dated_open INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hazard_tallies ADD COLUMN named_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE inspection_series (
    region_code     TEXT NOT NULL,
    industry        TEXT NOT NULL,
    inspection_kind TEXT NOT NULL,
    PRIMARY KEY (region_code, industry, inspection_kind)
) WITHOUT ROWID;
CREATE TABLE inspection_totals (
    region_code          TEXT NOT NULL,
    industry             TEXT NOT NULL,
    inspection_kind      TEXT NOT NULL,
    day                  INTEGER NOT NULL,
    inspections          INTEGER NOT NULL,
    passed               INTEGER NOT NULL,
    hazards              INTEGER NOT NULL,
    inspections_to_date  INTEGER NOT NULL,
    passed_to_date       INTEGER NOT NULL,
    hazards_to_date      INTEGER NOT NULL,
    PRIMARY KEY (region_code, industry, inspection_kind, day)
) WITHOUT ROWID;
CREATE INDEX inspection_totals_by_day
    ON inspection_totals (day, region_code, industry, inspection_kind, inspections, passed, hazards);
CREATE TABLE inspection_histories (
    enterprise_code TEXT NOT NULL,
    region_code     TEXT NOT NULL,
    history         BLOB NOT NULL,
    PRIMARY KEY (enterprise_code, region_code)
);
CREATE INDEX inspection_histories_by_region ON inspection_histories (region_code);
CREATE TABLE attendance_totals (
    credit_code TEXT NOT NULL,
    date        TEXT NOT NULL,
    shifts      INTEGER NOT NULL,
    present     INTEGER NOT NULL,
    PRIMARY KEY (credit_code, date)
) WITHOUT ROWID;
