//! The conditions record and enterprise queries share: the caller's scope and a list's
//! filter, written once for the record list and the rollups above it.

use super::exec::{Cell, Query, text};
use super::{RecordFilter, RecordScope};

/// `LIKE` matches its pattern literally once `%`, `_` and the escape itself are escaped.
pub(super) fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The conditions every record query shares: the scope, then the filter's dates, regions,
/// industry and inspection kinds, on the records aliased `r`.
pub(super) fn record_conditions(
    query: &mut Query,
    scope: &RecordScope,
    filter: &RecordFilter,
) -> Vec<String> {
    let scope = scope_condition(query, scope);
    record_filter(query, scope, filter, Query::any_of)
}

/// The conditions of a page of records newest first: regions as [`Query::any_of_paged`].
pub(super) fn paged_record_conditions(
    query: &mut Query,
    scope: &RecordScope,
    filter: &RecordFilter,
) -> Vec<String> {
    let scope = match scope {
        RecordScope::Regions(codes) => query.any_of_paged("r.region_code", codes),
        other => scope_condition(query, other),
    };
    record_filter(query, scope, filter, Query::any_of_paged)
}

fn record_filter(
    query: &mut Query,
    scope: String,
    filter: &RecordFilter,
    regions_of: fn(&mut Query, &str, &[String]) -> String,
) -> Vec<String> {
    let mut conditions = vec![scope];
    if let Some(from) = filter.started_from {
        let p = query.bind(Cell::Int(from.timestamp_millis()));
        conditions.push(format!("r.started_at >= {p}"));
    }
    if let Some(before) = filter.started_before {
        let p = query.bind(Cell::Int(before.timestamp_millis()));
        conditions.push(format!("r.started_at < {p}"));
    }
    if let Some(regions) = &filter.regions {
        conditions.push(regions_of(query, "r.region_code", regions));
    }
    if let Some(industry) = &filter.industry {
        let p = query.bind(text(industry));
        conditions.push(format!("r.industry = {p}"));
    }
    if !filter.inspection_kinds.is_empty() {
        conditions.push(query.any_of("r.inspection_kind", &filter.inspection_kinds));
    }
    conditions
}

/// The records a scope covers, on the records aliased `r`.
pub(super) fn scope_condition(query: &mut Query, scope: &RecordScope) -> String {
    match scope {
        RecordScope::All => "1 = 1".to_string(),
        RecordScope::Regions(codes) => query.any_of("r.region_code", codes),
        RecordScope::Enterprise {
            credit_code,
            inspection_kinds,
        } => {
            let code = query.bind(text(credit_code));
            let kinds = query.any_of("r.inspection_kind", inspection_kinds);
            format!("r.enterprise_code = {code} AND {kinds}")
        }
    }
}

/// The scope on the enterprises aliased `e` joined to a table aliased `alias` by its
/// `credit_code`.
pub(super) fn enterprise_region_scope(
    query: &mut Query,
    scope: &RecordScope,
    alias: &str,
) -> String {
    match scope {
        RecordScope::All => "1 = 1".to_string(),
        RecordScope::Regions(codes) => query.any_of("e.region_code", codes),
        RecordScope::Enterprise { credit_code, .. } => {
            let code = query.bind(text(credit_code));
            format!("{alias}.credit_code = {code}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_pattern("齐林"), "%齐林%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
