-- Version 11: an enterprise's 细分行业 and special operations from the register (NULL: the register
-- does not say), which pick the 10号令 items an inspection of it asks and travel to the devices
-- with the enterprise. `special_operations` holds the register's cell: names joined by 、, or 无
-- for none.
ALTER TABLE enterprises ADD COLUMN sector TEXT COLLATE "C";
ALTER TABLE enterprises ADD COLUMN special_operations TEXT COLLATE "C";
