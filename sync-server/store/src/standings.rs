//! Hazard tracking kept current, so that its page does not read every hazard ever found:
//! per enterprise, region and inspection kind, the hazards its submitted inspections found
//! and how many a re-inspection found rectified (`hazard_tallies`); every hazard not yet
//! rectified, with what the tracking list shows of it (`open_hazards`); and every rectified
//! one, with when (`rectified_hazards`). Overdue and due soon
//! depend on the day, so they are counted when asked: a tally keeps how many of its open
//! hazards have a deadline, and those overdue are that less the ones due today or later
//! (a few in a city, where most open hazards are long overdue).
//!
//! A commit adds a newly submitted inspection's own hazards (reading whether a re-inspection
//! that arrived first already found them rectified), and a re-inspection closes the open
//! hazards it finds rectified (moving them to the rectified), so either order of arrival is
//! right; any other change to a
//! counted record recounts its enterprise from the rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

use super::exec::{Cell, Cells, Exec, Query, fetch, text};
use super::{
    HazardStatusRow, HazardTallies, HazardTally, RecordScope, StoreResult, from_millis, parse_date,
};

/// Which hazards not yet rectified a list shows, by their deadline as of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenStanding {
    /// The deadline has passed.
    Overdue,
    /// The deadline is between today and `soon` (inclusive).
    DueSoon,
    /// A later deadline, or none.
    Open,
}

/// The hazards of submitted inspections (re-inspections and amendments restate them).
const COUNTED: &str = "r.kind = 'inspection' AND r.status = 'submitted'";

/// A hazard as tracking reads it: these columns of [`STATUS_FROM`], decoded by [`status_row`].
pub(super) const STATUS_COLUMNS: &str = "h.record_id, h.item, h.description, h.class, h.deadline,
    r.enterprise_code, r.enterprise_name, r.region_code, r.inspection_kind, r.started_at,
    x.rectified_at";

/// Every hazard of the records aliased `r`, with its rectification if any.
pub(super) const STATUS_FROM: &str = "FROM records r JOIN hazards h ON h.record_id = r.id
    LEFT JOIN hazard_rectifications x ON x.record_id = h.record_id AND x.item = h.item";

/// Every hazard of the submitted inspections of one enterprise, or of all.
fn counted_hazards(db: &mut impl Exec, code: Option<&str>) -> StoreResult<Vec<HazardStatusRow>> {
    let mut query = Query::new(db.postgres());
    let of_enterprise = match code {
        Some(code) => format!(" AND r.enterprise_code = {}", query.bind(text(code))),
        None => String::new(),
    };
    query.push(&format!(
        "SELECT {STATUS_COLUMNS} {STATUS_FROM} WHERE {COUNTED}{of_enterprise}"
    ));
    let mut rows = fetch(db, &query, status_row)?;
    let mut query = Query::new(db.postgres());
    let of_enterprise = match code {
        Some(code) => format!(" WHERE e.credit_code = {}", query.bind(text(code))),
        None => String::new(),
    };
    query.push(&format!(
        "SELECT {IOT_STATUS_COLUMNS} {IOT_STATUS_FROM}{of_enterprise}"
    ));
    rows.extend(fetch(db, &query, status_row)?);
    Ok(rows)
}

/// The kind hazard tracking files a hazard an IoT rule found under.
pub const IOT_KIND: &str = "iot";

/// A hazard an IoT rule found (`iot_hazards`), in the shape of [`status_row`]: the hazard's
/// id stands for the record, its subject (the DCS console) for the item, and the enterprise
/// is named and placed as the register has it.
const IOT_STATUS_COLUMNS: &str = "h.hazard_id, h.subject, h.description, '一般隐患', h.deadline,
    e.credit_code, e.name, e.region_code, 'iot', h.found_at, h.rectified_at";
const IOT_STATUS_FROM: &str =
    "FROM iot_hazards h JOIN enterprises e ON e.credit_code = h.credit_code";

/// A hazard an IoT rule just found (its `iot_hazards` row written): into the open hazards and
/// its tally.
pub(super) fn iot_hazard_found(db: &mut impl Exec, hazard_id: &str) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(hazard_id));
    query.push(&format!(
        "SELECT {IOT_STATUS_COLUMNS} {IOT_STATUS_FROM} WHERE h.hazard_id = {id}"
    ));
    let found = count(fetch(db, &query, status_row)?);
    write(db, &found)
}

/// An IoT hazard confirmed rectified (its `iot_hazards` row updated): moved from the open
/// hazards to the rectified, one more rectified in its tally.
pub(super) fn iot_hazard_rectified(db: &mut impl Exec, hazard_id: &str) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(hazard_id));
    query.push(&format!(
        "SELECT {IOT_STATUS_COLUMNS} {IOT_STATUS_FROM} WHERE h.hazard_id = {id}"
    ));
    let Some(rectified) = fetch(db, &query, status_row)?.pop() else {
        return Ok(());
    };
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(&rectified.record_id));
    let item = query.bind(text(&rectified.item));
    query.push(&format!(
        "DELETE FROM open_hazards WHERE record_id = {id} AND item = {item} RETURNING record_id"
    ));
    if fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Ok(());
    }
    insert_hazard(db, &rectified)?;
    count_rectified(db, &rectified)
}

pub(super) fn status_row(row: &dyn Cells) -> StoreResult<HazardStatusRow> {
    Ok(HazardStatusRow {
        record_id: row.text(0)?,
        item: row.text(1)?,
        description: row.text(2)?,
        class: row.text(3)?,
        deadline: parse_date(row.opt_text(4)?)?,
        enterprise_code: row.text(5)?,
        enterprise_name: row.text(6)?,
        region_code: row.text(7)?,
        inspection_kind: row.text(8)?,
        found_at: from_millis(row.int(9)?)?,
        rectified_at: row.opt_int(10)?.map(from_millis).transpose()?,
    })
}

type TallyKey = (String, String, String);

/// One tally's columns after its key: the enterprise's name and when the inspection it is
/// taken from started (the latest-started inspection names it; on a tie, the greater
/// name), hazards found, rectified, and still open with a deadline.
type TallyCounts = (String, i64, i64, i64, i64);

/// Whether a name from an inspection started at `at` replaces the tally's.
fn renames(name: &str, at: i64, tally: &TallyCounts) -> bool {
    at > tally.1 || (at == tally.1 && name > tally.0.as_str())
}

/// What the three tables hold for some enterprises: tallies by (enterprise, region, kind),
/// and the open and the rectified hazards by (record, item).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Standings {
    tallies: BTreeMap<TallyKey, TallyCounts>,
    open: BTreeMap<(String, String), HazardStatusRow>,
    rectified: BTreeMap<(String, String), HazardStatusRow>,
}

fn count(rows: Vec<HazardStatusRow>) -> Standings {
    let mut standings = Standings::default();
    for row in rows {
        let tally = standings
            .tallies
            .entry((
                row.enterprise_code.clone(),
                row.region_code.clone(),
                row.inspection_kind.clone(),
            ))
            .or_insert_with(|| (row.enterprise_name.clone(), i64::MIN, 0, 0, 0));
        let started = row.found_at.timestamp_millis();
        if renames(&row.enterprise_name, started, tally) {
            tally.0 = row.enterprise_name.clone();
            tally.1 = started;
        }
        tally.2 += 1;
        if row.rectified_at.is_some() {
            tally.3 += 1;
            standings
                .rectified
                .insert((row.record_id.clone(), row.item.clone()), row);
        } else {
            tally.4 += i64::from(row.deadline.is_some());
            standings
                .open
                .insert((row.record_id.clone(), row.item.clone()), row);
        }
    }
    standings
}

/// Adds counts to a tally (creating it), renaming it when `counts` name it from a later
/// inspection.
fn add_tally(db: &mut impl Exec, key: &TallyKey, counts: &TallyCounts) -> StoreResult<()> {
    let (code, region, kind) = key;
    let (name, named_at, found, rectified, dated_open) = counts;
    let mut query = Query::new(db.postgres());
    let values = [
        query.bind(text(code)),
        query.bind(text(region)),
        query.bind(text(kind)),
        query.bind(text(name)),
        query.bind(Cell::Int(*named_at)),
        query.bind(Cell::Int(*found)),
        query.bind(Cell::Int(*rectified)),
        query.bind(Cell::Int(*dated_open)),
    ];
    let renamed = "excluded.named_at > hazard_tallies.named_at
        OR (excluded.named_at = hazard_tallies.named_at
            AND excluded.enterprise_name > hazard_tallies.enterprise_name)";
    query.push(&format!(
        "INSERT INTO hazard_tallies (enterprise_code, region_code, inspection_kind,
             enterprise_name, named_at, found, rectified, dated_open) VALUES ({})
         ON CONFLICT (enterprise_code, region_code, inspection_kind) DO UPDATE SET
             enterprise_name = CASE WHEN {renamed} THEN excluded.enterprise_name
                                    ELSE hazard_tallies.enterprise_name END,
             named_at = CASE WHEN {renamed} THEN excluded.named_at
                             ELSE hazard_tallies.named_at END,
             found = hazard_tallies.found + excluded.found,
             rectified = hazard_tallies.rectified + excluded.rectified,
             dated_open = hazard_tallies.dated_open + excluded.dated_open",
        values.join(", ")
    ));
    fetch(db, &query, |_| Ok(())).map(drop)
}

/// Hazard tracking after a record's commit, in its transaction once its hazard and
/// rectification rows are written. A newly counted inspection adds its own hazards (the
/// upload path: the cost does not grow with the enterprise's history); a re-inspection closes
/// the open hazards it found rectified; any other change to a counted record recounts its
/// enterprise.
pub(super) fn record_committed(
    db: &mut impl Exec,
    record_id: &str,
    before: Option<&str>,
    after: Option<&str>,
    rectified: Option<(&str, &[String])>,
) -> StoreResult<()> {
    match (before, after) {
        (None, None) => {}
        (None, Some(_)) => {
            let mut query = Query::new(db.postgres());
            let id = query.bind(text(record_id));
            query.push(&format!(
                "SELECT {STATUS_COLUMNS} {STATUS_FROM} WHERE {COUNTED} AND r.id = {id}"
            ));
            let own = count(fetch(db, &query, status_row)?);
            write(db, &own)?;
        }
        (before, after) => {
            let codes: BTreeSet<&str> = before.into_iter().chain(after).collect();
            for code in codes {
                recount_enterprise(db, code)?;
            }
        }
    }
    if let Some((original, items)) = rectified {
        for item in items {
            close_rectified(db, original, item)?;
        }
    }
    Ok(())
}

/// An open hazard found rectified: moved to the rectified, with the rectification that
/// counts (the earliest), and one more rectified in its tally. A hazard already rectified
/// takes the earliest date, should this re-inspection be earlier than the one before it.
fn close_rectified(db: &mut impl Exec, record_id: &str, item: &str) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(record_id));
    let item_p = query.bind(text(item));
    query.push(&format!(
        "SELECT {OPEN_COLUMNS_RECTIFIED} FROM open_hazards o
         JOIN hazard_rectifications x ON x.record_id = o.record_id AND x.item = o.item
         WHERE o.record_id = {id} AND o.item = {item_p}"
    ));
    let Some(rectified) = fetch(db, &query, status_row)?.pop() else {
        let mut query = Query::new(db.postgres());
        let id = query.bind(text(record_id));
        let item_p = query.bind(text(item));
        query.push(&format!(
            "UPDATE rectified_hazards SET rectified_at = (
                 SELECT x.rectified_at FROM hazard_rectifications x
                 WHERE x.record_id = {id} AND x.item = {item_p})
             WHERE record_id = {id} AND item = {item_p}"
        ));
        return fetch(db, &query, |_| Ok(())).map(drop);
    };
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(record_id));
    let item_p = query.bind(text(item));
    query.push(&format!(
        "DELETE FROM open_hazards WHERE record_id = {id} AND item = {item_p}"
    ));
    fetch(db, &query, |_| Ok(()))?;
    insert_hazard(db, &rectified)?;
    count_rectified(db, &rectified)
}

/// One more rectified hazard in its tally, one fewer dated open one if it had a deadline.
fn count_rectified(db: &mut impl Exec, rectified: &HazardStatusRow) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(&rectified.enterprise_code));
    let region = query.bind(text(&rectified.region_code));
    let kind = query.bind(text(&rectified.inspection_kind));
    let dated = query.bind(Cell::Int(i64::from(rectified.deadline.is_some())));
    query.push(&format!(
        "UPDATE hazard_tallies SET rectified = rectified + 1, dated_open = dated_open - {dated}
         WHERE enterprise_code = {code} AND region_code = {region} AND inspection_kind = {kind}"
    ));
    fetch(db, &query, |_| Ok(())).map(drop)
}

/// Recounts one enterprise's tallies and hazards from its records.
pub(super) fn recount_enterprise(db: &mut impl Exec, code: &str) -> StoreResult<()> {
    let standings = count(counted_hazards(db, Some(code))?);
    for table in ["hazard_tallies", "open_hazards", "rectified_hazards"] {
        let mut query = Query::new(db.postgres());
        let code = query.bind(text(code));
        query.push(&format!(
            "DELETE FROM {table} WHERE enterprise_code = {code}"
        ));
        fetch(db, &query, |_| Ok(()))?;
    }
    write(db, &standings)
}

fn write(db: &mut impl Exec, standings: &Standings) -> StoreResult<()> {
    for (key, counts) in &standings.tallies {
        add_tally(db, key, counts)?;
    }
    for hazard in standings.open.values().chain(standings.rectified.values()) {
        insert_hazard(db, hazard)?;
    }
    Ok(())
}

/// A hazard into the open or, when a re-inspection found it so, the rectified.
fn insert_hazard(db: &mut impl Exec, hazard: &HazardStatusRow) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let mut values = vec![
        query.bind(text(&hazard.record_id)),
        query.bind(text(&hazard.item)),
        query.bind(text(&hazard.enterprise_code)),
        query.bind(text(&hazard.enterprise_name)),
        query.bind(text(&hazard.region_code)),
        query.bind(text(&hazard.inspection_kind)),
        query.bind(Cell::Int(hazard.found_at.timestamp_millis())),
        query.bind(text(&hazard.class)),
        query.bind(text(&hazard.description)),
        query.bind(Cell::OptText(hazard.deadline.map(|d| d.to_string()))),
    ];
    let (table, rectified_column) = match hazard.rectified_at {
        Some(at) => {
            values.push(query.bind(Cell::Int(at.timestamp_millis())));
            ("rectified_hazards", ", rectified_at")
        }
        None => ("open_hazards", ""),
    };
    query.push(&format!(
        "INSERT INTO {table} (record_id, item, enterprise_code, enterprise_name, region_code,
             inspection_kind, found_at, class, description, deadline{rectified_column})
         VALUES ({})",
        values.join(", ")
    ));
    fetch(db, &query, |_| Ok(())).map(drop)
}

/// What the tables would hold if recounted now.
pub(super) fn recount(db: &mut impl Exec) -> StoreResult<Standings> {
    Ok(count(counted_hazards(db, None)?))
}

/// What the tables hold.
pub(super) fn stored(db: &mut impl Exec) -> StoreResult<Standings> {
    let mut standings = Standings::default();
    let mut query = Query::new(db.postgres());
    query.push(
        "SELECT enterprise_code, region_code, inspection_kind, enterprise_name, named_at, found,
                rectified, dated_open
         FROM hazard_tallies",
    );
    for (key, value) in fetch(db, &query, |row: &dyn Cells| {
        Ok((
            (row.text(0)?, row.text(1)?, row.text(2)?),
            (
                row.text(3)?,
                row.int(4)?,
                row.int(5)?,
                row.int(6)?,
                row.int(7)?,
            ),
        ))
    })? {
        standings.tallies.insert(key, value);
    }
    let mut query = Query::new(db.postgres());
    query.push(&format!("SELECT {OPEN_COLUMNS} FROM open_hazards o"));
    for row in fetch(db, &query, status_row)? {
        standings
            .open
            .insert((row.record_id.clone(), row.item.clone()), row);
    }
    let mut query = Query::new(db.postgres());
    query.push(&format!(
        "SELECT {RECTIFIED_COLUMNS} FROM rectified_hazards o"
    ));
    for row in fetch(db, &query, status_row)? {
        standings
            .rectified
            .insert((row.record_id.clone(), row.item.clone()), row);
    }
    Ok(standings)
}

/// Replaces the three tables with a count of the records; returns how many enterprises have
/// a hazard.
pub(super) fn rebuild(db: &mut impl Exec) -> StoreResult<usize> {
    let standings = recount(db)?;
    for table in ["hazard_tallies", "open_hazards", "rectified_hazards"] {
        let mut query = Query::new(db.postgres());
        query.push(&format!("DELETE FROM {table}"));
        fetch(db, &query, |_| Ok(()))?;
    }
    write(db, &standings)?;
    let enterprises: BTreeSet<&str> = standings
        .tallies
        .keys()
        .map(|(code, _, _)| code.as_str())
        .collect();
    Ok(enterprises.len())
}

/// An open hazard in the shape of [`status_row`]: not rectified.
const OPEN_COLUMNS: &str = "o.record_id, o.item, o.description, o.class, o.deadline,
    o.enterprise_code, o.enterprise_name, o.region_code, o.inspection_kind, o.found_at,
    CAST(NULL AS BIGINT)";

/// An open hazard joined to its rectification `x`, in the shape of [`status_row`].
const OPEN_COLUMNS_RECTIFIED: &str = "o.record_id, o.item, o.description, o.class, o.deadline,
    o.enterprise_code, o.enterprise_name, o.region_code, o.inspection_kind, o.found_at,
    x.rectified_at";

/// A rectified hazard in the shape of [`status_row`].
const RECTIFIED_COLUMNS: &str = "o.record_id, o.item, o.description, o.class, o.deadline,
    o.enterprise_code, o.enterprise_name, o.region_code, o.inspection_kind, o.found_at,
    o.rectified_at";

/// The scope on a table with `enterprise_code`, `region_code` and `inspection_kind`. A
/// statement that reads in another index's order takes a list of regions `walking` that
/// index ([`Query::any_of_paged`]): a city's first page of open hazards by deadline took
/// 6 ms through the regions' index and a sort, 0.4 ms walking the deadline's.
fn scope_condition(query: &mut Query, scope: &RecordScope, alias: &str, walking: bool) -> String {
    match scope {
        RecordScope::All => "1 = 1".into(),
        RecordScope::Regions(codes) if walking => {
            query.any_of_paged(&format!("{alias}.region_code"), codes)
        }
        RecordScope::Regions(codes) => query.any_of(&format!("{alias}.region_code"), codes),
        RecordScope::Enterprise {
            credit_code,
            inspection_kinds,
        } => {
            let code = query.bind(text(credit_code));
            let kinds = query.any_of(&format!("{alias}.inspection_kind"), inspection_kinds);
            format!("{alias}.enterprise_code = {code} AND {kinds}")
        }
    }
}

/// What hazard tracking's summary counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TallyLevel {
    /// By enterprise, named as its latest-started inspection names it.
    Enterprise,
    /// By town: the name is left as the region code for the caller to name.
    Region,
}

/// Per enterprise or region in scope, a page of the tallies, most overdue first (then by
/// code): hazards found and rectified, and of those still open how many are overdue on
/// `today` and how many due by `soon`. Counted by group in the database, and an enterprise
/// named only when on the page: a city's 2,600 enterprises named in one statement cost more
/// than the rest of the summary.
pub(super) fn tallies(
    db: &mut impl Exec,
    scope: &RecordScope,
    level: TallyLevel,
    today: NaiveDate,
    soon: NaiveDate,
    limit: i64,
    offset: i64,
) -> StoreResult<HazardTallies> {
    let key = match level {
        TallyLevel::Enterprise => "enterprise_code",
        TallyLevel::Region => "region_code",
    };
    let mut query = Query::new(db.postgres());
    // By enterprise, the tallies' own order groups them.
    let condition = scope_condition(&mut query, scope, "t", level == TallyLevel::Enterprise);
    query.push(&format!(
        "SELECT t.{key}, CAST(SUM(t.found) AS BIGINT), CAST(SUM(t.rectified) AS BIGINT),
                CAST(SUM(t.dated_open) AS BIGINT)
         FROM hazard_tallies t WHERE {condition} GROUP BY t.{key}"
    ));
    let mut tallies: BTreeMap<String, HazardTally> = BTreeMap::new();
    for tally in fetch(db, &query, |row: &dyn Cells| {
        Ok(HazardTally {
            code: row.text(0)?,
            name: String::new(),
            found: row.int(1)?,
            rectified: row.int(2)?,
            // Every dated open hazard until those not yet overdue are taken off below.
            overdue: row.int(3)?,
            due_soon: 0,
        })
    })? {
        tallies.insert(tally.code.clone(), tally);
    }
    let mut query = Query::new(db.postgres());
    let condition = scope_condition(&mut query, scope, "o", false);
    let today = query.bind(text(&today.to_string()));
    let soon = query.bind(text(&soon.to_string()));
    query.push(&format!(
        "SELECT o.{key}, COUNT(*), SUM(CASE WHEN o.deadline <= {soon} THEN 1 ELSE 0 END)
         FROM open_hazards o WHERE {condition} AND o.deadline >= {today}
         GROUP BY o.{key}"
    ));
    for (key, not_overdue, due_soon) in fetch(db, &query, |row: &dyn Cells| {
        Ok((row.text(0)?, row.int(1)?, row.int(2)?))
    })? {
        if let Some(tally) = tallies.get_mut(&key) {
            tally.overdue -= not_overdue;
            tally.due_soon = due_soon;
        }
    }
    let mut sum = HazardTally::default();
    for tally in tallies.values() {
        sum.found += tally.found;
        sum.rectified += tally.rectified;
        sum.overdue += tally.overdue;
        sum.due_soon += tally.due_soon;
    }
    let groups = tallies.len();
    let mut page: Vec<HazardTally> = tallies.into_values().collect();
    page.sort_by(|a, b| b.overdue.cmp(&a.overdue).then_with(|| a.code.cmp(&b.code)));
    let page: Vec<HazardTally> = page
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let page = match level {
        TallyLevel::Enterprise => named(db, page)?,
        TallyLevel::Region => page
            .into_iter()
            .map(|tally| HazardTally {
                name: tally.code.clone(),
                ..tally
            })
            .collect(),
    };
    Ok(HazardTallies { page, groups, sum })
}

/// The enterprises' tallies named as their latest-started inspection names them (the greater
/// name on a tie), as [`renames`] keeps each kind's tally.
fn named(db: &mut impl Exec, mut tallies: Vec<HazardTally>) -> StoreResult<Vec<HazardTally>> {
    if tallies.is_empty() {
        return Ok(tallies);
    }
    let codes: Vec<String> = tallies.iter().map(|t| t.code.clone()).collect();
    let mut query = Query::new(db.postgres());
    let of_page = query.any_of("enterprise_code", &codes);
    query.push(&format!(
        "SELECT enterprise_code, named_at, enterprise_name FROM hazard_tallies WHERE {of_page}"
    ));
    let mut latest: HashMap<String, (i64, String)> = HashMap::new();
    for (code, at, name) in fetch(db, &query, |row: &dyn Cells| {
        Ok((row.text(0)?, row.int(1)?, row.text(2)?))
    })? {
        let candidate = (at, name);
        match latest.get_mut(&code) {
            Some(best) if *best >= candidate => {}
            Some(best) => *best = candidate,
            None => {
                latest.insert(code, candidate);
            }
        }
    }
    for tally in &mut tallies {
        if let Some((_, name)) = latest.remove(&tally.code) {
            tally.name = name;
        }
    }
    Ok(tallies)
}

/// A page of the hazards in scope not yet rectified, of one standing or all: by deadline
/// (overdue first), then record and item, the undated last. Dated and undated are read
/// apart, each in an index's order.
pub(super) fn open_hazards(
    db: &mut impl Exec,
    scope: &RecordScope,
    standing: Option<OpenStanding>,
    today: NaiveDate,
    soon: NaiveDate,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<HazardStatusRow>> {
    let (from, until) = match standing {
        None => (None, None),
        Some(OpenStanding::Overdue) => (None, today.pred_opt()),
        Some(OpenStanding::DueSoon) => (Some(today), Some(soon)),
        Some(OpenStanding::Open) => (soon.succ_opt(), None),
    };
    let undated = matches!(standing, None | Some(OpenStanding::Open));
    let offset = offset.max(0);
    let dated_query = |query: &mut Query, select: &str, paged: Option<(i64, i64)>| {
        let mut conditions = vec![
            scope_condition(query, scope, "o", paged.is_some()),
            "o.deadline IS NOT NULL".to_string(),
        ];
        if let Some(from) = from {
            let p = query.bind(text(&from.to_string()));
            conditions.push(format!("o.deadline >= {p}"));
        }
        if let Some(until) = until {
            let p = query.bind(text(&until.to_string()));
            conditions.push(format!("o.deadline <= {p}"));
        }
        let mut sql = format!(
            "SELECT {select} FROM open_hazards o WHERE {}",
            conditions.join(" AND ")
        );
        if let Some((limit, offset)) = paged {
            let limit = query.bind(Cell::Limit(limit));
            let offset = query.bind(Cell::Int(offset));
            sql.push_str(&format!(
                " ORDER BY o.deadline, o.record_id, o.item LIMIT {limit} OFFSET {offset}"
            ));
        }
        query.push(&sql);
    };
    let mut query = Query::new(db.postgres());
    dated_query(&mut query, OPEN_COLUMNS, Some((limit, offset)));
    let mut rows = fetch(db, &query, status_row)?;
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    if !undated || rows.len() >= wanted {
        return Ok(rows);
    }
    // The undated follow every dated one: skip what of the offset the dated used up.
    let mut query = Query::new(db.postgres());
    dated_query(&mut query, "COUNT(*)", None);
    let dated = fetch(db, &query, |row: &dyn Cells| row.int(0))?
        .pop()
        .unwrap_or(0);
    let mut query = Query::new(db.postgres());
    let condition = scope_condition(&mut query, scope, "o", true);
    let limit = query.bind(Cell::Limit(if limit < 0 {
        -1
    } else {
        limit - rows.len() as i64
    }));
    let offset = query.bind(Cell::Int((offset - dated).max(0)));
    query.push(&format!(
        "SELECT {OPEN_COLUMNS} FROM open_hazards o WHERE {condition} AND o.deadline IS NULL
         ORDER BY o.record_id, o.item LIMIT {limit} OFFSET {offset}"
    ));
    rows.extend(fetch(db, &query, status_row)?);
    Ok(rows)
}

/// A page of the rectified hazards in scope, the latest rectification first (then by record
/// and item, also descending: one index read backwards).
pub(super) fn rectified_hazards(
    db: &mut impl Exec,
    scope: &RecordScope,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<HazardStatusRow>> {
    let mut query = Query::new(db.postgres());
    let condition = scope_condition(&mut query, scope, "o", true);
    let limit = query.bind(Cell::Limit(limit));
    let offset = query.bind(Cell::Int(offset.max(0)));
    query.push(&format!(
        "SELECT {RECTIFIED_COLUMNS} FROM rectified_hazards o WHERE {condition}
         ORDER BY o.rectified_at DESC, o.record_id DESC, o.item DESC
         LIMIT {limit} OFFSET {offset}"
    ));
    fetch(db, &query, status_row)
}
