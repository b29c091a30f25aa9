-- Version 9: the month counts summed over industries (what a comparison of towns reads: a city's
-- three years are 11,000 rows of them against 25,000); each enterprise's span of duty-leader
-- shifts with its totals at the end, so that a range of attendance looks up only the running
-- totals it cannot know from the span; and the inspection histories in a compact encoding
-- (`rollups::encode_history`). The rollups are counted again from the records (`RecountRollups`).
CREATE TABLE inspection_region_months (
    month           INTEGER NOT NULL,
    inspection_kind TEXT NOT NULL,
    region_code     TEXT NOT NULL,
    inspections     INTEGER NOT NULL,
    passed          INTEGER NOT NULL,
    hazards         INTEGER NOT NULL,
    PRIMARY KEY (month, inspection_kind, region_code)
) WITHOUT ROWID;
CREATE TABLE attendance_spans (
    credit_code TEXT PRIMARY KEY,
    first_date  TEXT NOT NULL,
    last_date   TEXT NOT NULL,
    shifts      INTEGER NOT NULL,
    present     INTEGER NOT NULL
) WITHOUT ROWID;
