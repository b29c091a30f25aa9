//! The row model every report shares, and its JSON and CSV forms.
//!
//! A row has exactly one cell per column in every output: a short row is padded with
//! [`Cell::Empty`] and cells past the last column are ignored, so a ragged row can never shift
//! values into the wrong column of one format but not another.

use chrono::NaiveDate;
use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};
#[cfg(test)]
use serde_json::Value;

/// One report: a title (the sheet name in Excel), its columns and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The field name in JSON rows (English, stable for API clients); unique within a table.
    pub key: String,
    /// The header people read in CSV, Excel and the page (Chinese).
    pub label: String,
}

/// A value with its kind, so that each format can write numbers as numbers: a rate is a
/// number with a percent style in Excel, not the text "87.5%".
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A non-finite value (NaN, ±∞) means "not defined", such as a rate over zero cases, and
    /// is written as an empty cell (JSON `null`).
    Real(f64),
    /// A fraction: 0.875 is 87.5 %. Non-finite values are empty, as for [`Cell::Real`].
    Percent(f64),
    Date(NaiveDate),
    Empty,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: Vec<Column>) -> Self {
        Table {
            title: title.into(),
            columns,
            rows: Vec::new(),
        }
    }

    /// The rows cut or padded to one cell per column (see the module documentation).
    pub(crate) fn cells(&self) -> impl Iterator<Item = impl Iterator<Item = &Cell>> {
        let width = self.columns.len();
        self.rows.iter().map(move |row| {
            row.iter()
                .chain(std::iter::repeat(&Cell::Empty))
                .take(width)
        })
    }
}

impl Column {
    pub fn new(key: impl Into<String>, label: impl Into<String>) -> Self {
        Column {
            key: key.into(),
            label: label.into(),
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}

impl From<NaiveDate> for Cell {
    fn from(date: NaiveDate) -> Self {
        Cell::Date(date)
    }
}

/// `{title, columns: [{key, label}], rows: [{key: value, …}]}`. Integers, reals and rates are
/// JSON numbers (a rate as its fraction, 0.875), dates `"YYYY-MM-DD"` strings, and empty or
/// non-finite cells `null`. Written straight out (a city's grading is 900 rows of 7 fields:
/// building a `Value` tree first took longer than reading its inputs' declarations).
impl Serialize for Table {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut table = serializer.serialize_struct("Table", 3)?;
        table.serialize_field("title", &self.title)?;
        table.serialize_field("columns", &self.columns)?;
        table.serialize_field("rows", &JsonRows(self))?;
        table.end()
    }
}

impl Serialize for Column {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut column = serializer.serialize_struct("Column", 2)?;
        column.serialize_field("key", &self.key)?;
        column.serialize_field("label", &self.label)?;
        column.end()
    }
}

/// A table's rows as JSON objects keyed by column.
struct JsonRows<'a>(&'a Table);

struct JsonRow<'a> {
    columns: &'a [Column],
    cells: Vec<&'a Cell>,
}

impl Serialize for JsonRows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.cells().map(|cells| JsonRow {
            columns: &self.0.columns,
            cells: cells.collect(),
        }))
    }
}

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut row = serializer.serialize_map(Some(self.columns.len()))?;
        for (column, cell) in self.columns.iter().zip(&self.cells) {
            row.serialize_entry(&column.key, *cell)?;
        }
        row.end()
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Text(text) => serializer.serialize_str(text),
            Cell::Int(value) => serializer.serialize_i64(*value),
            Cell::Real(value) | Cell::Percent(value) if value.is_finite() => {
                serializer.serialize_f64(*value)
            }
            Cell::Date(date) => serializer.serialize_str(&iso_date(*date)),
            Cell::Real(_) | Cell::Percent(_) | Cell::Empty => serializer.serialize_none(),
        }
    }
}

/// [`Table`]'s JSON as a value, for the tests that look into it.
#[cfg(test)]
fn to_json(table: &Table) -> Value {
    serde_json::to_value(table).unwrap_or(Value::Null)
}

/// The table as CSV for people who open it in Excel or WPS:
///
/// * UTF-8 with a byte-order mark, without which Excel on Chinese Windows reads the file as
///   GBK and garbles every header;
/// * RFC 4180 (written by the `csv` crate): CRLF line ends, a header row of the column labels
///   (the title is not written, so every line is a row), and fields quoted when they hold a
///   comma, a quote, CR or LF, with quotes doubled;
/// * integers and reals as plain decimals (reals in their shortest exact form);
/// * **rates as decimal fractions with at most four places, not as percentages**: 87.5 % is
///   `0.875` and 1/3 is `0.3333`. A "87.5%" string would be text to most programs reading
///   the file, while the fraction is the same number the JSON API gives; four places keep a
///   hundredth of a percent;
/// * dates as `YYYY-MM-DD`; empty and non-finite cells as empty fields;
/// * text that Excel would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR, and
///   longer than that one character) is prefixed with `'`. Names and hotline reports are
///   typed by the public, and a download must not become a way to run formulas on a
///   supervisor's machine. Excel hides the `'`; other readers see it.
pub fn to_csv(table: &Table) -> Vec<u8> {
    write_csv(table).expect("a CSV of padded rows written to memory cannot fail")
}

/// Quoting, doubled quotes and CRLF are the `csv` crate's; the byte-order mark, the cell
/// forms and the formula guard are ours. Every record has one field per column, as the
/// crate's writer requires.
fn write_csv(table: &Table) -> csv::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer("\u{FEFF}".as_bytes().to_vec());
    writer.write_record(table.columns.iter().map(|column| defused(&column.label)))?;
    for row in table.cells() {
        writer.write_record(row.map(csv_field))?;
    }
    writer
        .into_inner()
        .map_err(|error| error.into_error().into())
}

fn csv_field(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => defused(text),
        Cell::Int(value) => value.to_string(),
        Cell::Real(value) if value.is_finite() => super::number(*value),
        Cell::Percent(value) if value.is_finite() => fraction(*value),
        Cell::Date(date) => iso_date(*date),
        Cell::Real(_) | Cell::Percent(_) | Cell::Empty => String::new(),
    }
}

/// Text with the formula guard described at [`to_csv`].
fn defused(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if text.chars().nth(1).is_some() => {
            format!("'{text}")
        }
        _ => text.to_string(),
    }
}

/// At most four decimal places, trailing zeros dropped.
fn fraction(value: f64) -> String {
    let fixed = format!("{value:.4}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

pub(crate) fn iso_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Table {
        let mut table = Table::new(
            "隐患统计",
            vec![
                Column::new("town", "乡镇"),
                Column::new("hazards", "隐患数"),
                Column::new("rate", "整改率"),
                Column::new("average", "平均"),
                Column::new("since", "起始日期"),
            ],
        );
        table.rows = vec![
            vec![
                "城关镇".into(),
                Cell::Int(1234),
                Cell::Percent(0.875),
                Cell::Real(2.5),
                Cell::Date(NaiveDate::from_ymd_opt(2024, 6, 1).expect("valid date")),
            ],
            vec![
                "王村, \"东\"\n片区".into(),
                Cell::Int(-3),
                Cell::Percent(1.0 / 3.0),
                Cell::Real(f64::NAN),
                Cell::Empty,
            ],
        ];
        table
    }

    fn csv_text_of(table: &Table) -> String {
        String::from_utf8(to_csv(table)).expect("CSV is UTF-8")
    }

    #[test]
    fn csv_starts_with_a_bom_and_uses_crlf_with_the_labels_as_header() {
        let bytes = to_csv(&sample());
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        let text = csv_text_of(&sample());
        let first = text.trim_start_matches('\u{FEFF}').split("\r\n").next();
        assert_eq!(first, Some("乡镇,隐患数,整改率,平均,起始日期"));
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines_per_rfc_4180() {
        let text = csv_text_of(&sample());
        assert!(
            text.contains("\r\n\"王村, \"\"东\"\"\n片区\",-3,"),
            "got {text:?}"
        );
    }

    #[test]
    fn csv_writes_numbers_rates_as_fractions_and_dates_as_iso() {
        let text = csv_text_of(&sample());
        let rows: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(rows[1], "城关镇,1234,0.875,2.5,2024-06-01");
        assert!(rows[2].ends_with(",-3,0.3333,,"), "got {:?}", rows[2]);
        assert_eq!(fraction(1.0), "1");
        assert_eq!(fraction(0.0), "0");
        assert_eq!(fraction(-0.00001), "0");
        assert_eq!(fraction(0.12345), "0.1235");
    }

    #[test]
    fn csv_defuses_text_that_excel_would_run_as_a_formula() {
        let mut table = Table::new("t", vec![Column::new("a", "甲")]);
        table.rows = vec![
            vec!["=HYPERLINK(\"http://x\")".into()],
            vec!["@SUM(A1)".into()],
            vec!["-".into()],
            vec![Cell::Int(-5)],
        ];
        let text = csv_text_of(&table);
        let rows: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(rows[1], "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(rows[2], "'@SUM(A1)");
        assert_eq!(rows[3], "-");
        assert_eq!(rows[4], "-5");
    }

    #[test]
    fn ragged_rows_are_padded_or_cut_to_the_columns() {
        let mut table = Table::new("t", vec![Column::new("a", "甲"), Column::new("b", "乙")]);
        table.rows = vec![
            vec![Cell::Int(1)],
            vec![Cell::Int(1), Cell::Int(2), Cell::Int(3)],
        ];
        assert_eq!(csv_text_of(&table), "\u{FEFF}甲,乙\r\n1,\r\n1,2\r\n");
        let json = to_json(&table);
        assert_eq!(json["rows"][0], json!({"a": 1, "b": null}));
        assert_eq!(json["rows"][1], json!({"a": 1, "b": 2}));
    }

    #[test]
    fn json_keeps_numbers_as_numbers_and_undefined_values_as_null() {
        let json = to_json(&sample());
        assert_eq!(json["title"], "隐患统计");
        assert_eq!(
            json["columns"][2],
            json!({"key": "rate", "label": "整改率"})
        );
        assert_eq!(
            json["rows"][0],
            json!({
                "town": "城关镇",
                "hazards": 1234,
                "rate": 0.875,
                "average": 2.5,
                "since": "2024-06-01",
            })
        );
        assert!(json["rows"][0]["hazards"].is_i64());
        assert_eq!(json["rows"][1]["average"], Value::Null);
        assert_eq!(json["rows"][1]["since"], Value::Null);
    }
}
