//! The executor every statement runs on: a [`Query`] carries its text with `$n` placeholders
//! and its values as [`Cell`]s, an [`Exec`] (one backend's open transaction, or the [`Db`]
//! over either) runs it, and [`Cells`] reads a row whichever backend returned it. Below every
//! per-entity module; it knows no entity.
//!
//! [`Db`]: super::Db

use chrono::NaiveDate;

use super::{StoreError, StoreResult};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Cell {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    /// A PostgreSQL `INTEGER` column (a document number's year).
    Int32(i32),
    OptInt(Option<i64>),
    Bool(bool),
    /// Only PostgreSQL binds a list (`= ANY ($n)`); SQLite gets one placeholder per value.
    TextList(Vec<String>),
    /// A row limit: negative means none (SQLite's `LIMIT -1`, PostgreSQL's `LIMIT NULL`).
    Limit(i64),
    Bytes(Vec<u8>),
}

pub(super) fn text(value: &str) -> Cell {
    Cell::Text(value.to_string())
}

pub(super) fn date_cell(date: NaiveDate) -> Cell {
    Cell::Text(date.to_string())
}

/// A statement in one backend's dialect with its values.
#[derive(Debug, Clone)]
pub(super) struct Query {
    sql: String,
    cells: Vec<Cell>,
    postgres: bool,
}

impl Query {
    pub(super) fn new(postgres: bool) -> Query {
        Query {
            sql: String::new(),
            cells: Vec::new(),
            postgres,
        }
    }

    /// Adds a value; returns its placeholder.
    pub(super) fn bind(&mut self, cell: Cell) -> String {
        self.cells.push(cell);
        placeholder(self.postgres, self.cells.len())
    }

    pub(super) fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// `expr` is one of `values` (never true for none).
    pub(super) fn any_of(&mut self, expr: &str, values: &[String]) -> String {
        if values.is_empty() {
            return "1 = 0".into();
        }
        if self.postgres {
            let list = self.bind(Cell::TextList(values.to_vec()));
            format!("{expr} = ANY ({list})")
        } else {
            let list: Vec<String> = values.iter().map(|v| self.bind(text(v))).collect();
            format!("{expr} IN ({})", list.join(", "))
        }
    }

    /// Like [`Query::any_of`], for a query that pages in another index's order: on SQLite a
    /// list of several values does not choose the index on `expr` (unary `+`), because
    /// walking that index for each value and sorting everything it found cost 60 ms for a
    /// district's records in the seeded city, where walking the order's index until a page is
    /// full took 2 ms. One value keeps its index: it finds a town's few records at once.
    pub(super) fn any_of_paged(&mut self, expr: &str, values: &[String]) -> String {
        if !self.postgres && values.len() > 1 {
            self.any_of(&format!("+{expr}"), values)
        } else {
            self.any_of(expr, values)
        }
    }
}

/// One row of a result, whichever backend read it.
pub(super) trait Cells {
    fn text(&self, i: usize) -> StoreResult<String>;
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>>;
    fn int(&self, i: usize) -> StoreResult<i64>;
    fn int32(&self, i: usize) -> StoreResult<i32>;
    /// A PostgreSQL array of text (SQLite has none).
    fn text_list(&self, i: usize) -> StoreResult<Vec<String>>;
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>>;
    fn boolean(&self, i: usize) -> StoreResult<bool>;
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>>;
    /// A blob read in place, without copying it out of the row.
    fn blob(&self, i: usize) -> StoreResult<&[u8]>;
}

/// A backend's open transaction, running SQL with placeholders of its dialect.
pub(super) trait Exec {
    fn postgres(&self) -> bool;
    fn rows<T>(
        &mut self,
        sql: &str,
        cells: &[Cell],
        decode: impl Fn(&dyn Cells) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>>;
    /// Runs a statement that returns no rows; how many rows it changed.
    fn execute(&mut self, sql: &str, cells: &[Cell]) -> StoreResult<u64>;
    /// [`Exec::execute`], answering `None` when a foreign key refuses the row (the caller
    /// names what is missing).
    fn execute_referencing(&mut self, sql: &str, cells: &[Cell]) -> StoreResult<Option<u64>>;
}

/// Takes the next sequence number. On PostgreSQL this locks the counters row until the
/// transaction ends, so changes commit in sequence order.
pub(super) fn next_seq(db: &mut impl Exec) -> StoreResult<i64> {
    db.rows(
        "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
        &[],
        |row| row.int(0),
    )?
    .pop()
    .ok_or_else(|| StoreError::Corrupt("the seq counter is missing".into()))
}

/// On PostgreSQL, waits for the writes holding the counters row and keeps them out until the
/// transaction ends: the checks that follow see every earlier write, as under SQLite's single
/// writer (where this does nothing).
pub(super) fn serialize_writes(db: &mut impl Exec) -> StoreResult<()> {
    if db.postgres() {
        db.rows(
            "SELECT 1 FROM counters WHERE name = 'seq' FOR UPDATE",
            &[],
            |_| Ok(()),
        )?;
    }
    Ok(())
}

pub(super) fn fetch<T>(
    db: &mut impl Exec,
    query: &Query,
    decode: impl Fn(&dyn Cells) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    db.rows(&query.sql, &query.cells, decode)
}

pub(super) fn placeholder(postgres: bool, n: usize) -> String {
    if postgres {
        format!("${n}")
    } else {
        format!("?{n}")
    }
}

/// The message for a row naming an enterprise or region that is not registered, which the
/// import checks first; only a concurrent change could reach the foreign key.
pub(super) const MISSING_REFERENCE: &str =
    "所引用的企业或区划未登记：请先导入企业名录、添加区划（未导入任何数据）";

pub(super) fn date(row: &dyn Cells, i: usize) -> StoreResult<NaiveDate> {
    let text = row.text(i)?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|_| StoreError::Corrupt(format!("date {text:?}")))
}
