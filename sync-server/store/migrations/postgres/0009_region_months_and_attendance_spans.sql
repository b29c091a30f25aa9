-- Version 9: the month counts summed over industries (what a comparison of towns reads: a city's
-- three years are 11,000 rows of them against 25,000); each enterprise's span of duty-leader
-- shifts with its totals at the end, so that a range of attendance looks up only the running
-- totals it cannot know from the span; and the inspection histories in a compact encoding
-- (`rollups::encode_history`). The rollups are counted again from the records (`RecountRollups`).
CREATE TABLE inspection_region_months (
    month           BIGINT NOT NULL,
    inspection_kind TEXT COLLATE "C" NOT NULL,
    region_code     TEXT COLLATE "C" NOT NULL,
    inspections     BIGINT NOT NULL,
    passed          BIGINT NOT NULL,
    hazards         BIGINT NOT NULL,
    PRIMARY KEY (month, inspection_kind, region_code)
);
CREATE TABLE attendance_spans (
    credit_code TEXT COLLATE "C" PRIMARY KEY,
    first_date  TEXT COLLATE "C" NOT NULL,
    last_date   TEXT COLLATE "C" NOT NULL,
    shifts      BIGINT NOT NULL,
    present     BIGINT NOT NULL
);
