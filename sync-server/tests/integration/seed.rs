//! The synthetic history (`serve --demo`, `seed --scale city`) at demo scale: everything it
//! plans is taken by the real upload path, the same seed gives the same rows on SQLite and on
//! PostgreSQL, the audit chain verifies, and the history looks like a real one — late and
//! missing monthly self-inspections, hazards of every kind rectified on time, late or not
//! yet.
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use anjian_server::seed::{Scale, SeedSummary, seed};
use anjian_server::state::AppState;
use anjian_server::store::{AreaGrouping, EnterpriseActivity, RecordFilter, RecordScope, Store};

use crate::store::TestDatabase;

const PASSWORD: &str = "demo-password-1";

fn now() -> DateTime<Utc> {
    "2026-06-15T04:00:00Z".parse().unwrap()
}

fn seeded(store: Arc<Store>, key_dir: &std::path::Path) -> (AppState, SeedSummary) {
    let (keys, _) = anjian_server::keys::open(
        store.as_ref(),
        &key_dir.join("key"),
        anjian_server::keys::FirstStart::Generate,
    )
    .unwrap();
    let state = AppState::new(store, keys);
    let summary = seed(&state, Scale::Demo, PASSWORD, now(), &mut |_| {}).unwrap();
    (state, summary)
}

/// Every record and hazard as its projection rows hold it, without the record ids (which
/// are random) and in a fixed order.
fn fingerprint(store: &Store) -> (Vec<String>, Vec<String>) {
    let mut records: Vec<String> = store
        .list_records(&RecordScope::All, &RecordFilter::default(), -1, 0)
        .unwrap()
        .into_iter()
        .map(|r| {
            format!(
                "{} {} {} {} {} {} {}",
                r.kind,
                r.inspection_kind,
                r.enterprise_code,
                r.status,
                r.started_at,
                r.locked,
                r.hazard_count
            )
        })
        .collect();
    records.sort();
    let mut hazards: Vec<String> = store
        .hazard_statuses(&RecordScope::All)
        .unwrap()
        .into_iter()
        .map(|h| {
            format!(
                "{} {} {} {:?} {} {:?}",
                h.enterprise_code,
                h.item,
                h.inspection_kind,
                h.deadline,
                h.found_at,
                h.rectified_at
            )
        })
        .collect();
    hazards.sort();
    (records, hazards)
}

#[test]
fn the_demo_history_is_taken_whole_verifies_and_is_the_same_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<Store> =
        Arc::new(Store::open_sqlite(&dir.path().join("server.sqlite3")).unwrap());
    let (state, summary) = seeded(sqlite.clone(), dir.path());

    let rows = sqlite
        .list_records(&RecordScope::All, &RecordFilter::default(), -1, 0)
        .unwrap();
    assert_eq!(rows.len(), summary.total_records(), "{summary}");
    assert!(summary.total_records() > 400, "{summary}");
    for kind in ["self", "expert", "enforcement", "resident", "reinspection"] {
        assert!(
            summary.records.get(kind).is_some_and(|n| *n > 0),
            "{kind}: {summary}"
        );
    }
    // Every submitted record was locked on upload, each with an entry in the chain.
    let drafts = rows.iter().filter(|r| r.status == "draft").count();
    assert_eq!(drafts, summary.drafts);
    assert!(rows.iter().all(|r| r.locked == (r.status == "submitted")));
    let verification =
        anjian_server::audit::verify(sqlite.as_ref(), state.known_keys(), None).unwrap();
    assert!(
        verification.first_bad.is_none(),
        "{:?}",
        verification.first_bad
    );
    assert_eq!(verification.entries, rows.len() - drafts);
    assert!(rows.iter().all(|r| r.started_at <= now()));

    // Hazards of every kind; most rectified, on time more often than late; some overdue.
    let hazards = sqlite.hazard_statuses(&RecordScope::All).unwrap();
    assert_eq!(hazards.len(), summary.hazards, "{summary}");
    let today = anjian_core::time::china_date(now());
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let (mut on_time, mut late, mut overdue) = (0, 0, 0);
    for h in &hazards {
        let entry = by_kind.entry(h.inspection_kind.as_str()).or_default();
        entry.0 += 1;
        match (h.rectified_at, h.deadline) {
            (Some(at), Some(deadline)) => {
                entry.1 += 1;
                if anjian_core::time::china_date(at) <= deadline {
                    on_time += 1;
                } else {
                    late += 1;
                }
            }
            (None, Some(deadline)) if deadline < today => overdue += 1,
            _ => {}
        }
    }
    for kind in ["self", "expert", "enforcement"] {
        let (found, rectified) = by_kind.get(kind).copied().unwrap_or_default();
        assert!(
            found > 0 && rectified > 0 && rectified < found,
            "{kind}: {by_kind:?}"
        );
    }
    assert!(
        on_time > 3 * late && late > 0 && overdue > 0,
        "{on_time} {late} {overdue}"
    );

    // Monthly self-inspections: some late (after the 5th of the next month), some months
    // missing, per enterprise.
    let self_done = sqlite
        .submitted_inspections(
            &RecordScope::All,
            &RecordFilter {
                inspection_kinds: vec!["self".into()],
                ..RecordFilter::default()
            },
        )
        .unwrap();
    let late_months = self_done
        .iter()
        .filter(|s| {
            let started = anjian_core::time::china_date(s.started_at);
            let submitted = anjian_core::time::china_date(s.submitted_at);
            (submitted.year(), submitted.month()) != (started.year(), started.month())
                && submitted.day() > 5
        })
        .count();
    assert!(late_months > 0);
    let months_done: HashSet<(String, u32)> = self_done
        .iter()
        .map(|s| {
            (
                s.enterprise_code.clone(),
                anjian_core::time::china_date(s.started_at).month(),
            )
        })
        .collect();
    assert!(
        months_done.len() < 12 * summary.enterprises,
        "no month is ever missed"
    );

    // The reference data went in through the imports.
    for kind in [
        "permits",
        "staff",
        "attendance",
        "health-declarations",
        "hotline",
    ] {
        assert!(
            summary.reference.get(kind).is_some_and(|n| *n > 0),
            "{kind}: {summary}"
        );
    }
    assert!(
        !sqlite
            .attendance_counts(&RecordScope::All, None, None, true)
            .unwrap()
            .is_empty()
    );

    let database = TestDatabase::create();
    let postgres: Arc<Store> = Arc::new(Store::connect_postgres(&database.url).unwrap());
    let pg_dir = tempfile::tempdir().unwrap();
    let (_, pg_summary) = seeded(postgres.clone(), pg_dir.path());
    assert_eq!(pg_summary.total_records(), summary.total_records());
    assert_eq!(fingerprint(postgres.as_ref()), fingerprint(sqlite.as_ref()));
    for store in [sqlite.as_ref(), postgres.as_ref()] {
        rollups_answer_as_the_records_do(store);
    }
    drop(postgres);
}

type AreaTotals = BTreeMap<(String, String, String, String), (i64, i64, i64)>;
/// Per enterprise over a period: the kinds started, the resident inspector's days and each
/// month's first self-inspection submission.
type Activities = BTreeMap<String, (BTreeSet<String>, Vec<NaiveDate>, Vec<Option<NaiveDate>>)>;

/// The store's area counts, keyed as the test counts them.
fn area_totals(
    store: &Store,
    scope: &RecordScope,
    filter: &RecordFilter,
    grouping: AreaGrouping,
) -> AreaTotals {
    store
        .area_counts(scope, filter, grouping)
        .unwrap()
        .into_iter()
        .map(|c| {
            (
                (c.month, c.region_code, c.industry, c.inspection_kind),
                (c.inspections, c.passed, c.hazards),
            )
        })
        .collect()
}

/// The analyses' rollups agree with a rebuild, and answer ranges of China days (whole months,
/// edge days, open ends) at every scope exactly as a count of the raw submitted inspections.
fn rollups_answer_as_the_records_do(store: &Store) {
    assert!(store.rollups_agree().unwrap(), "{}", store.backend());
    let register: BTreeMap<String, (String, String)> = store
        .enterprises_since(0)
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.credit_code.as_str().to_string(),
                (e.region_code, e.industry),
            )
        })
        .collect();
    let raw = store
        .submitted_inspections(&RecordScope::All, &RecordFilter::default())
        .unwrap();
    let regions: Vec<String> = register.values().map(|(r, _)| r.clone()).collect();
    let one_town = RecordScope::Regions(vec![regions[0].clone()]);
    let china_midnight = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(anjian_core::time::china())
            .unwrap()
            .with_timezone(&Utc)
    };
    let ranges = [
        (None, None),
        (
            Some(china_midnight(2025, 7, 1)),
            Some(china_midnight(2026, 6, 1)),
        ),
        (
            Some(china_midnight(2025, 6, 20)),
            Some(china_midnight(2026, 6, 15)),
        ),
        (
            Some(china_midnight(2026, 3, 3)),
            Some(china_midnight(2026, 3, 18)),
        ),
        (None, Some(china_midnight(2026, 2, 10))),
        (Some(china_midnight(2025, 12, 31)), None),
    ];
    let mut compared = 0;
    for (from, before) in ranges {
        for scope in [RecordScope::All, one_town.clone()] {
            for kinds in [vec![], vec!["self".to_string(), "enforcement".to_string()]] {
                let filter = RecordFilter {
                    started_from: from,
                    started_before: before,
                    inspection_kinds: kinds.clone(),
                    ..RecordFilter::default()
                };
                let mut expected = AreaTotals::new();
                for row in &raw {
                    let (region, industry) = &register[&row.enterprise_code];
                    let in_scope = match &scope {
                        RecordScope::Regions(codes) => codes.contains(region),
                        _ => true,
                    };
                    if !in_scope
                        || from.is_some_and(|f| row.started_at < f)
                        || before.is_some_and(|b| row.started_at >= b)
                        || !(kinds.is_empty() || kinds.contains(&row.inspection_kind))
                    {
                        continue;
                    }
                    let month = anjian_core::time::china_date(row.started_at)
                        .format("%Y-%m")
                        .to_string();
                    let totals = expected
                        .entry((
                            month,
                            region.clone(),
                            industry.clone(),
                            row.inspection_kind.clone(),
                        ))
                        .or_default();
                    totals.0 += 1;
                    totals.1 += i64::from(row.hazard_count == 0);
                    totals.2 += row.hazard_count;
                }
                let found = area_totals(store, &scope, &filter, AreaGrouping::ALL);
                assert!(!expected.is_empty() || from.is_some());
                assert_eq!(found, expected, "{from:?}..{before:?} {scope:?} {kinds:?}");
                compared += 1;
                // Grouped by the database: the same totals with the dropped keys summed.
                for grouping in [
                    AreaGrouping {
                        month: true,
                        region: false,
                        industry: false,
                    },
                    AreaGrouping {
                        month: false,
                        region: true,
                        industry: false,
                    },
                    AreaGrouping {
                        month: false,
                        region: false,
                        industry: true,
                    },
                ] {
                    let mut summed = AreaTotals::new();
                    for ((month, region, industry, kind), (n, passed, hazards)) in &expected {
                        let keep = |kept: bool, text: &String| {
                            if kept { text.clone() } else { String::new() }
                        };
                        let totals = summed
                            .entry((
                                keep(grouping.month, month),
                                keep(grouping.region, region),
                                keep(grouping.industry, industry),
                                kind.clone(),
                            ))
                            .or_default();
                        totals.0 += n;
                        totals.1 += passed;
                        totals.2 += hazards;
                    }
                    let grouped = area_totals(store, &scope, &filter, grouping);
                    assert_eq!(
                        grouped, summed,
                        "{grouping:?} {from:?}..{before:?} {scope:?}"
                    );
                }
            }
        }
    }
    assert_eq!(compared, 24);

    // Each enterprise's activity over periods (whole years, across a year's end, within a
    // month, one day): the kinds started, the resident inspector's days and each month's
    // first submission of a self-inspection started in it.
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let a_busy_day = anjian_core::time::china_date(raw[raw.len() / 2].started_at);
    for (from, until) in [
        (date(2023, 1, 1), date(2026, 12, 31)),
        (date(2025, 6, 20), date(2026, 6, 14)),
        (date(2026, 3, 3), date(2026, 3, 17)),
        (a_busy_day, a_busy_day),
    ] {
        let months = ((until.year() - from.year()) * 12 + until.month0() as i32
            - from.month0() as i32
            + 1) as usize;
        let mut expected = Activities::new();
        for row in &raw {
            let started = anjian_core::time::china_date(row.started_at);
            // Months are judged whole: a self-inspection counts in its month's slot when
            // that month is one the period touches.
            let month = (started.year() - from.year()) * 12 + started.month0() as i32
                - from.month0() as i32;
            let in_period = (from..=until).contains(&started);
            let in_months = (0..months as i32).contains(&month);
            let counted_self_month = row.inspection_kind == "self" && in_months;
            if !(in_period || counted_self_month) {
                continue;
            }
            let entry = expected.entry(row.enterprise_code.clone()).or_default();
            if in_period {
                entry.0.insert(row.inspection_kind.clone());
            }
            if in_period && row.inspection_kind == "resident" && !entry.1.contains(&started) {
                entry.1.push(started);
            }
            if row.inspection_kind == "self" {
                if entry.2.is_empty() {
                    entry.2 = vec![None; months];
                }
                let submitted = anjian_core::time::china_date(row.submitted_at);
                let first = &mut entry.2[month as usize];
                *first = Some(first.map_or(submitted, |f: NaiveDate| f.min(submitted)));
            }
        }
        for activity in expected.values_mut() {
            activity.1.sort();
        }
        let mut found = Activities::new();
        for activity in store
            .enterprise_activity(&RecordScope::All, from, until)
            .unwrap()
        {
            let kinds: BTreeSet<String> = EnterpriseActivity::KINDS
                .iter()
                .filter(|kind| activity.started(**kind))
                .map(|kind| kind.as_str().to_string())
                .collect();
            if kinds.is_empty() && activity.self_first_submitted.is_empty() {
                assert!(activity.resident_days.is_empty());
                continue;
            }
            let previous = found.insert(
                activity.enterprise_code,
                (kinds, activity.resident_days, activity.self_first_submitted),
            );
            assert!(previous.is_none(), "the seed moves no enterprise");
        }
        assert_eq!(found, expected, "{from}..={until}");
        assert!(!found.is_empty(), "{from}..={until}");
    }
}

#[test]
fn seeding_a_store_that_holds_data_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<Store> =
        Arc::new(Store::open_sqlite(&dir.path().join("server.sqlite3")).unwrap());
    anjian_server::demo::seed(store.as_ref(), PASSWORD).unwrap();
    let before = store.current_seq().unwrap();
    let (keys, _) = anjian_server::keys::open(
        store.as_ref(),
        &dir.path().join("key"),
        anjian_server::keys::FirstStart::Generate,
    )
    .unwrap();
    let state = AppState::new(store.clone(), keys);
    let error = seed(&state, Scale::City, PASSWORD, now(), &mut |_| {}).unwrap_err();
    assert_eq!(error.code, "not_empty");
    assert!(error.message.contains("空数据库"), "{}", error.message);
    assert_eq!(store.current_seq().unwrap(), before);
}
