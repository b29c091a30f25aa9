-- Version 3: which hazards re-inspections found rectified, kept apart from the hazard rows (which
-- a record's commit rewrites) and apart from the order of arrival (a re-inspection may reach the
-- server before the record it follows up).
CREATE TABLE hazard_rectifications (
    record_id    TEXT COLLATE "C" NOT NULL,
    item         TEXT COLLATE "C" NOT NULL,
    rectified_at BIGINT NOT NULL,
    rectified_by TEXT COLLATE "C" NOT NULL REFERENCES records (id),
    PRIMARY KEY (record_id, item)
);
