//! The schema's versions: one `.sql` file per version and backend under
//! `sync-server/store/migrations/`, embedded in the binary, and one runner that brings a
//! database of any earlier version up to the latest.
//!
//! A version's file is applied once, in order, inside the caller's transaction, so an upgrade
//! is all or nothing. A version may name data steps, written in Rust, that follow its SQL; they
//! run after the last pending file, because they are today's code and read today's tables, and
//! each runs once however many pending versions name it.

use super::StoreError;
use super::StoreResult;
use super::exec::Exec;
use super::rollups;

/// One version of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    /// The file's name without its number: `0005_rollups.sql` is `rollups`.
    pub name: &'static str,
    pub sql: &'static str,
    /// What the upgrade does after the SQL of every pending version.
    pub then: &'static [DataStep],
}

/// Work an upgrade does in Rust once the tables are in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataStep {
    /// The rollups and hazard tracking's tables counted again from the records.
    RecountRollups,
}

/// Both backends' lists from one: the same versions, names and steps, each backend's file.
macro_rules! migrations {
    ($($version:literal $file:literal $name:literal $([$($step:ident),*])?),* $(,)?) => {
        /// The SQLite schema, version by version.
        pub const SQLITE: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/sqlite/", $file, "_", $name, ".sql")),
            then: &[$($(DataStep::$step),*)?],
        }),*];

        /// The PostgreSQL schema, in its types.
        pub const POSTGRES: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/postgres/", $file, "_", $name, ".sql")),
            then: &[$($(DataStep::$step),*)?],
        }),*];
    };
}

migrations! {
    1 "0001" "initial",
    2 "0002" "reference_data",
    3 "0003" "hazard_rectifications",
    4 "0004" "listing_indexes",
    5 "0005" "rollups" [RecountRollups],
    6 "0006" "rollup_ranges" [RecountRollups],
    7 "0007" "rectified_hazards" [RecountRollups],
    8 "0008" "iot_and_work_permits",
    9 "0009" "region_months_and_attendance_spans" [RecountRollups],
    10 "0010" "signing_keys",
    11 "0011" "enterprise_sector",
}

/// The version a list of migrations ends at.
pub const fn latest(migrations: &[Migration]) -> u32 {
    match migrations.last() {
        Some(last) => last.version,
        None => 0,
    }
}

/// A backend's open transaction as the runner needs it: the shared executor (for the data
/// steps), the stored version, and SQL run as a script.
pub(super) trait Schema: Exec {
    /// The version stored in the database; 0 for an empty one.
    fn version(&mut self) -> StoreResult<u32>;
    fn set_version(&mut self, version: u32) -> StoreResult<()>;
    /// Runs a file's statements, one after the other.
    fn script(&mut self, sql: &str) -> StoreResult<()>;
}

/// Whether a database at version `found` is already at the latest, refusing one that a newer
/// server has upgraded beyond what this one knows.
pub(super) fn up_to_date(found: u32, migrations: &[Migration]) -> StoreResult<bool> {
    let latest = latest(migrations);
    if found > latest {
        return Err(StoreError::Database(format!(
            "database schema {found} is newer than this server's {latest}: upgrade anjian-server"
        )));
    }
    Ok(found == latest)
}

/// Brings the database to the latest version. The caller holds the lock that keeps a second
/// server from upgrading at the same time, and commits.
pub(super) fn upgrade(db: &mut impl Schema, migrations: &[Migration]) -> StoreResult<()> {
    let found = db.version()?;
    if up_to_date(found, migrations)? {
        return Ok(());
    }
    let mut steps: Vec<DataStep> = Vec::new();
    for migration in migrations.iter().filter(|m| m.version > found) {
        db.script(migration.sql)?;
        for step in migration.then {
            if !steps.contains(step) {
                steps.push(*step);
            }
        }
    }
    for step in steps {
        match step {
            DataStep::RecountRollups => {
                rollups::rebuild(db)?;
            }
        }
    }
    db.set_version(latest(migrations))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for migrations in [SQLITE, POSTGRES] {
            for (i, migration) in migrations.iter().enumerate() {
                assert_eq!(usize::try_from(migration.version).unwrap(), i + 1);
            }
        }
    }

    /// A file added to `migrations/` but not to the list would never run.
    #[test]
    fn every_file_in_the_directory_is_embedded() {
        for (dir, migrations) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut files: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .collect();
            files.sort();
            let embedded: Vec<String> = migrations
                .iter()
                .map(|m| format!("{:04}_{}.sql", m.version, m.name))
                .collect();
            assert_eq!(files, embedded, "{dir}");
        }
    }

    #[test]
    fn a_newer_database_is_refused_and_the_latest_is_up_to_date() {
        let latest = latest(SQLITE);
        assert!(!up_to_date(0, SQLITE).unwrap());
        assert!(up_to_date(latest, SQLITE).unwrap());
        let refused = up_to_date(latest + 1, SQLITE).unwrap_err().to_string();
        assert!(refused.contains("newer than this server's"), "{refused}");
    }
}
