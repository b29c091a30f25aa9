//! The record list of the review pages and the API, and the counts the analyses group: one
//! statement for both backends each (through [`super::exec::Query`]).

use super::conditions::{
    enterprise_region_scope, like_pattern, paged_record_conditions, record_conditions,
    scope_condition,
};
use super::exec::{Cell, Cells, Exec, Query, fetch, text};
use super::{
    CertificateCount, EnterpriseHazard, EnterpriseName, HazardCount, HazardStatusRow, PermitRow,
    RecordFilter, RecordRow, RecordScope, StoreResult, SubmittedInspection, from_millis,
    parse_date,
};

pub(super) fn records(
    db: &mut impl Exec,
    scope: &RecordScope,
    filter: &RecordFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<RecordRow>> {
    let mut query = Query::new(db.postgres());
    let mut conditions = paged_record_conditions(&mut query, scope, filter);
    match filter.state {
        None => {}
        Some(super::RecordState::Draft) => conditions.push("r.status = 'draft'".into()),
        Some(super::RecordState::Submitted) => {
            conditions.push("r.status = 'submitted' AND a.idx IS NULL".into())
        }
        Some(super::RecordState::Locked) => conditions.push("a.idx IS NOT NULL".into()),
    }
    if let Some(enterprise) = filter.enterprise.as_deref().map(str::trim)
        && !enterprise.is_empty()
    {
        let code = query.bind(text(enterprise));
        let name = query.bind(text(&like_pattern(enterprise)));
        conditions.push(format!(
            "(r.enterprise_code = {code} OR r.enterprise_name LIKE {name} ESCAPE '\\')"
        ));
    }
    if filter.with_hazards {
        conditions.push("r.hazard_count > 0".into());
    }
    let limit = query.bind(Cell::Limit(limit));
    let offset = query.bind(Cell::Int(offset.max(0)));
    query.push(&format!(
        "SELECT r.id, r.kind, r.inspection_kind, r.enterprise_code, r.enterprise_name,
                r.region_code, r.status, r.started_at, a.idx IS NOT NULL, r.hazard_count
         FROM records r LEFT JOIN audit_log a ON a.record_id = r.id
         WHERE {}
         ORDER BY r.started_at DESC, r.id DESC LIMIT {limit} OFFSET {offset}",
        conditions.join(" AND ")
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok(RecordRow {
            id: row.text(0)?,
            kind: row.text(1)?,
            inspection_kind: row.text(2)?,
            enterprise_code: row.text(3)?,
            enterprise_name: row.text(4)?,
            region_code: row.text(5)?,
            status: row.text(6)?,
            started_at: from_millis(row.int(7)?)?,
            locked: row.boolean(8)?,
            hazard_count: row.int(9)?,
        })
    })
}

/// Every hazard found at an enterprise, newest inspection first: its history in the archive.
pub(super) fn enterprise_hazards(
    db: &mut impl Exec,
    credit_code: &str,
) -> StoreResult<Vec<EnterpriseHazard>> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    query.push(&format!(
        "SELECT h.record_id, h.item, h.class, h.description, h.legal_basis, h.deadline,
                r.inspection_kind, r.started_at
         FROM hazards h JOIN records r ON r.id = h.record_id
         WHERE r.enterprise_code = {code}
         ORDER BY r.started_at DESC, h.record_id, h.item"
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok(EnterpriseHazard {
            record_id: row.text(0)?,
            item: row.text(1)?,
            class: row.text(2)?,
            description: row.text(3)?,
            legal_basis: row.text(4)?,
            deadline: parse_date(row.opt_text(5)?)?,
            inspection_kind: row.text(6)?,
            found_at: from_millis(row.int(7)?)?,
        })
    })
}

/// Hazards of submitted records in scope, counted per China month, region, industry and
/// inspection kind: the rows every hazard analysis is grouped from. The filter's dates, regions
/// and kinds apply to the record that found the hazard; drafts are not counted.
pub(super) fn hazard_counts(
    db: &mut impl Exec,
    scope: &RecordScope,
    filter: &RecordFilter,
) -> StoreResult<Vec<HazardCount>> {
    let mut query = Query::new(db.postgres());
    // The month in China time (UTC+8, no daylight saving) of a millisecond instant.
    let month = if db.postgres() {
        "to_char(to_timestamp(r.started_at / 1000 + 28800) AT TIME ZONE 'UTC', 'YYYY-MM')"
    } else {
        "strftime('%Y-%m', r.started_at / 1000 + 28800, 'unixepoch')"
    };
    // Re-inspections and amendments restate hazards an inspection reported; they are not new.
    let mut conditions = record_conditions(&mut query, scope, filter);
    conditions.push("r.status = 'submitted' AND r.kind = 'inspection'".to_string());
    query.push(&format!(
        "SELECT {month}, r.region_code, r.industry, r.inspection_kind, COUNT(*)
         FROM hazards h JOIN records r ON r.id = h.record_id
         WHERE {}
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        conditions.join(" AND ")
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok(HazardCount {
            month: row.text(0)?,
            region_code: row.text(1)?,
            industry: row.text(2)?,
            inspection_kind: row.text(3)?,
            count: row.int(4)?,
        })
    })
}

/// Submitted inspections (not re-inspections or amendments) in scope started within the
/// filter's dates, of its kinds (every kind when none): whose, which kind, when started (the
/// period it covers), when submitted and whether it found hazards. Coverage, pass rates and
/// the reporting deadlines are all counted from these rows.
pub(super) fn submitted_inspections(
    db: &mut impl Exec,
    scope: &RecordScope,
    filter: &RecordFilter,
) -> StoreResult<Vec<SubmittedInspection>> {
    let mut query = Query::new(db.postgres());
    let mut conditions = record_conditions(&mut query, scope, filter);
    conditions.push("r.kind = 'inspection' AND r.submitted_at IS NOT NULL".to_string());
    query.push(&format!(
        "SELECT r.enterprise_code, r.inspection_kind, r.started_at, r.submitted_at,
                r.hazard_count
         FROM records r WHERE {} ORDER BY r.enterprise_code, r.started_at, r.id",
        conditions.join(" AND ")
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok(SubmittedInspection {
            enterprise_code: row.text(0)?,
            inspection_kind: row.text(1)?,
            started_at: from_millis(row.int(2)?)?,
            submitted_at: from_millis(row.int(3)?)?,
            hazard_count: row.int(4)?,
        })
    })
}

/// The scope condition on a reference table's `credit_code`, through its enterprise.
fn enterprise_scope(query: &mut Query, scope: &RecordScope, column: &str) -> String {
    match scope {
        RecordScope::All => "1 = 1".to_string(),
        RecordScope::Regions(codes) => {
            let within = query.any_of("e.region_code", codes);
            format!("{column} IN (SELECT e.credit_code FROM enterprises e WHERE {within})")
        }
        RecordScope::Enterprise { credit_code, .. } => {
            let code = query.bind(text(credit_code));
            format!("{column} = {code}")
        }
    }
}

/// The credit code and region of every registered enterprise in scope, and whether it
/// declared occupational-health hazards for a year of `declared_in` (never when none given).
/// One query: the declarations are joined in, not listed apart.
pub(super) fn enterprise_regions(
    db: &mut impl Exec,
    scope: &RecordScope,
    declared_in: Option<std::ops::RangeInclusive<i32>>,
) -> StoreResult<Vec<(String, String, bool)>> {
    let mut query = Query::new(db.postgres());
    let condition = enterprise_region_scope(&mut query, scope, "e");
    let declared = match declared_in {
        Some(years) => {
            let first = query.bind(Cell::Int(i64::from(*years.start())));
            let last = query.bind(Cell::Int(i64::from(*years.end())));
            format!(
                "CAST(CASE WHEN EXISTS (SELECT 1 FROM health_declarations d
                     WHERE d.credit_code = e.credit_code AND d.year >= {first}
                       AND d.year <= {last}) THEN 1 ELSE 0 END AS BIGINT)"
            )
        }
        None => "CAST(0 AS BIGINT)".to_string(),
    };
    query.push(&format!(
        "SELECT e.credit_code, e.region_code, {declared} FROM enterprises e WHERE {condition}
         ORDER BY e.credit_code"
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok((row.text(0)?, row.text(1)?, row.int(2)? != 0))
    })
}

/// The credit code, name and region of every registered enterprise in scope.
pub(super) fn enterprise_names(
    db: &mut impl Exec,
    scope: &RecordScope,
) -> StoreResult<Vec<EnterpriseName>> {
    let mut query = Query::new(db.postgres());
    let condition = enterprise_region_scope(&mut query, scope, "e");
    query.push(&format!(
        "SELECT e.credit_code, e.name, e.region_code FROM enterprises e WHERE {condition}
         ORDER BY e.credit_code"
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok(EnterpriseName {
            credit_code: row.text(0)?,
            name: row.text(1)?,
            region_code: row.text(2)?,
        })
    })
}

/// For each enterprise in scope and permit type it holds, the last day of its newest permit.
pub(super) fn permit_ends(
    db: &mut impl Exec,
    scope: &RecordScope,
) -> StoreResult<Vec<(String, String, chrono::NaiveDate)>> {
    let mut query = Query::new(db.postgres());
    let condition = enterprise_scope(&mut query, scope, "p.credit_code");
    query.push(&format!(
        "SELECT p.credit_code, p.permit_type, MAX(p.valid_until) FROM permits p
         WHERE {condition} GROUP BY p.credit_code, p.permit_type
         ORDER BY p.credit_code, p.permit_type"
    ));
    fetch(db, &query, |row: &dyn Cells| {
        let until = parse_date(Some(row.text(2)?))?
            .ok_or_else(|| super::StoreError::Corrupt("permit without valid_until".into()))?;
        Ok((row.text(0)?, row.text(1)?, until))
    })
}

/// The staff certificates in scope per role on a day: valid, expiring, expired.
pub(super) fn certificate_counts(
    db: &mut impl Exec,
    scope: &RecordScope,
    on: chrono::NaiveDate,
    expiring_through: chrono::NaiveDate,
) -> StoreResult<Vec<CertificateCount>> {
    let mut query = Query::new(db.postgres());
    let condition = enterprise_scope(&mut query, scope, "c.credit_code");
    let on = query.bind(text(&on.to_string()));
    let through = query.bind(text(&expiring_through.to_string()));
    query.push(&format!(
        "SELECT c.role,
                CAST(SUM(CASE WHEN c.valid_until > {through} THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN c.valid_until >= {on} AND c.valid_until <= {through}
                              THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN c.valid_until < {on} THEN 1 ELSE 0 END) AS BIGINT)
         FROM staff_certificates c WHERE {condition} GROUP BY c.role"
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok(CertificateCount {
            role: row.text(0)?,
            valid: row.int(1)?,
            expiring: row.int(2)?,
            expired: row.int(3)?,
        })
    })
}

/// Every permit in scope, with the enterprise's industry and region.
pub(super) fn permits(db: &mut impl Exec, scope: &RecordScope) -> StoreResult<Vec<PermitRow>> {
    let mut query = Query::new(db.postgres());
    let condition = enterprise_scope(&mut query, scope, "p.credit_code");
    query.push(&format!(
        "SELECT p.credit_code, p.permit_type, p.valid_from, p.valid_until, e.industry,
                e.region_code
         FROM permits p JOIN enterprises e ON e.credit_code = p.credit_code
         WHERE {condition} ORDER BY p.credit_code, p.permit_type, p.valid_from"
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok(PermitRow {
            credit_code: row.text(0)?,
            permit_type: row.text(1)?,
            valid_from: required_date(row.text(2)?)?,
            valid_until: required_date(row.text(3)?)?,
            industry: row.text(4)?,
            region_code: row.text(5)?,
        })
    })
}

fn required_date(text: String) -> StoreResult<chrono::NaiveDate> {
    parse_date(Some(text))?
        .ok_or_else(|| super::StoreError::Corrupt("a required date is missing".into()))
}

/// Every hazard of the submitted inspections in scope, with the day a re-inspection found it
/// rectified (the earliest), oldest first.
pub(super) fn hazard_statuses(
    db: &mut impl Exec,
    scope: &RecordScope,
) -> StoreResult<Vec<HazardStatusRow>> {
    let mut query = Query::new(db.postgres());
    let condition = scope_condition(&mut query, scope);
    query.push(&format!(
        "SELECT {} {} WHERE r.kind = 'inspection' AND r.status = 'submitted' AND {condition}
         ORDER BY r.started_at, h.record_id, h.item",
        super::standings::STATUS_COLUMNS,
        super::standings::STATUS_FROM
    ));
    fetch(db, &query, super::standings::status_row)
}
