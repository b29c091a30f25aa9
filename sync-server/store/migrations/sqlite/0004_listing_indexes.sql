-- Version 4: the record list pages newest first over every record of a city or district; without
-- an index in that order each page sorted them all (410 ms at 63,000 records). And reference data
-- in a town's or district's scope is found from its enterprises: duty-leader shifts were read by
-- date across the whole city instead (a town's three years: 305 ms, now 4 ms, in the seeded
-- city).
CREATE INDEX records_by_started ON records (started_at, id);
CREATE INDEX enterprises_by_region ON enterprises (region_code);
