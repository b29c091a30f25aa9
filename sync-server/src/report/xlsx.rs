//! Excel workbooks (.xlsx) on `rust_xlsxwriter`: one sheet per table, set up to be read on a
//! screen and printed on A4 as they come.
//!
//! Numbers are numbers, rates carry a `0.0%` style and dates a `yyyy-mm-dd` style, so that a
//! spreadsheet can sum and sort them. The document's creation time is fixed: the same tables
//! give the same bytes, and the module stays free of a clock.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::table::{Cell, Table, iso_date};
use super::{number, xml_char};

/// Excel's limits, from "Excel specifications and limits".
const MAX_ROWS: usize = 1_048_576;
const MAX_COLUMNS: usize = 16_384;
const MAX_SHEET_NAME: usize = 31;
/// Characters (UTF-16 units) in one cell; Excel reports a longer cell as a damaged file.
const MAX_CELL_TEXT: usize = 32_767;
/// Characters Excel refuses in a sheet name.
const FORBIDDEN_IN_NAME: &[char] = &['[', ']', ':', '*', '?', '/', '\\'];
/// The page header carries the whole title; Excel drops a header of 255 characters or more
/// (control codes included), so a longer title is cut there.
const MAX_PAGE_TITLE: usize = 200;
/// Paper size 9 is A4, the size Chinese offices print on.
const PAPER_A4: u8 = 9;

/// Column widths, in Excel's units of one digit.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

/// A workbook with one sheet per table, in order: the sheet is named after the title, the
/// first row holds the column labels in bold and stays in view when scrolling, and the rows
/// follow. Each sheet prints landscape on A4, scaled to one page wide (as many pages down as
/// it takes), with the header row repeated on every page, the whole title in the page
/// header and the page number in the footer.
///
/// * Sheet names follow [`sheet_names`]: Excel's rules, and a period in the title is kept whole.
/// * Text is cut to Excel's 32,767 characters per cell and loses the control characters XML
///   cannot carry. Integers are Excel numbers (IEEE doubles), so beyond 2^53 they lose
///   precision: write codes and identifiers as text.
/// * Empty and non-finite cells are left out. Dates before 1900-03-01 or after 9999-12-31,
///   which Excel cannot hold as dates, are written as `YYYY-MM-DD` text.
///
/// Fails, with a message for the user, on an empty list of tables and on a table beyond
/// Excel's 1,048,576 rows or 16,384 columns.
pub fn workbook(sheets: &[&Table]) -> Result<Vec<u8>, String> {
    if sheets.is_empty() {
        return Err("工作簿中没有表".to_string());
    }
    for table in sheets {
        if table.rows.len() + 1 > MAX_ROWS {
            return Err(format!(
                "“{}”有 {} 行，超过 Excel 每表 {} 行的上限",
                table.title,
                table.rows.len() + 1,
                MAX_ROWS
            ));
        }
        if table.columns.len() > MAX_COLUMNS {
            return Err(format!(
                "“{}”有 {} 列，超过 Excel 每表 {} 列的上限",
                table.title,
                table.columns.len(),
                MAX_COLUMNS
            ));
        }
    }
    build(sheets).map_err(|error| format!("生成 Excel 文件失败：{error}"))
}

/// The cell styles, all on the default font.
struct Styles {
    header: Format,
    percent: Format,
    date: Format,
}

fn build(sheets: &[&Table]) -> Result<Vec<u8>, XlsxError> {
    // 等线 (Excel's default for Chinese since 2016) with the GB2312 charset, so that WPS and
    // older Excel fall back to a Chinese font rather than a Latin one. 20 px rows and 64 px
    // columns are Excel's metrics for an 11-point default font.
    let base = Format::new()
        .set_font_name("等线")
        .set_font_size(11)
        .set_font_charset(134);
    let styles = Styles {
        header: base.clone().set_bold(),
        percent: base.clone().set_num_format("0.0%"),
        date: base.clone().set_num_format("yyyy-mm-dd"),
    };
    let mut workbook = Workbook::new();
    workbook.set_default_format(&base, 20, 64)?;
    let created = ExcelDateTime::from_ymd(1980, 1, 1)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(sheets[0].title.as_str())
            .set_creation_datetime(&created),
    );
    let names = sheet_names(sheets.iter().map(|table| table.title.as_str()));
    for (table, name) in sheets.iter().zip(names) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        print_setup(sheet, table)?;
        write_table(sheet, table, &styles)?;
    }
    workbook.save_to_buffer()
}

fn print_setup(sheet: &mut Worksheet, table: &Table) -> Result<(), XlsxError> {
    sheet.set_freeze_panes(1, 0)?;
    sheet
        .set_landscape()
        .set_paper_size(PAPER_A4)
        .set_print_fit_to_pages(1, 0)
        .set_print_gridlines(true)
        .set_repeat_rows(0, 0)?;
    // `&` starts a control code in a page header; `&&` is a literal ampersand.
    let title: String = cut_utf16(&clean(&table.title), MAX_PAGE_TITLE)
        .replace(['\r', '\n'], " ")
        .replace('&', "&&");
    sheet.set_header(format!("&C{title}"));
    sheet.set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}

fn write_table(sheet: &mut Worksheet, table: &Table, styles: &Styles) -> Result<(), XlsxError> {
    for (index, width) in column_widths(table).into_iter().enumerate() {
        sheet.set_column_width(column(index), width as f64)?;
    }
    for (index, label) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(0, column(index), text(&label.label), &styles.header)?;
    }
    for (index, row) in table.cells().enumerate() {
        // The row count was checked against Excel's limit, which fits a u32.
        let row_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        for (position, cell) in row.enumerate() {
            write_cell(sheet, row_number, column(position), cell, styles)?;
        }
    }
    Ok(())
}

/// A column index within Excel's 16,384, which the caller has checked.
fn column(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    styles: &Styles,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(value) => {
            sheet.write_string(row, col, text(value))?;
        }
        // Excel holds every number as a double; the doc comment of `workbook` says what that
        // costs beyond 2^53.
        Cell::Int(value) => {
            sheet.write_number(row, col, *value as f64)?;
        }
        Cell::Real(value) if value.is_finite() => {
            sheet.write_number(row, col, *value)?;
        }
        Cell::Percent(value) if value.is_finite() => {
            sheet.write_number_with_format(row, col, *value, &styles.percent)?;
        }
        Cell::Date(date) => match excel_date(*date) {
            Some(date) => {
                sheet.write_date_with_format(row, col, &date, &styles.date)?;
            }
            None => {
                sheet.write_string(row, col, iso_date(*date))?;
            }
        },
        Cell::Real(_) | Cell::Percent(_) | Cell::Empty => {}
    }
    Ok(())
}

/// Text a cell can hold: without the characters XML cannot carry (the writer would encode
/// them as `_x0001_`, which Excel shows literally) and cut to Excel's length.
fn text(value: &str) -> String {
    cut_utf16(&clean(value), MAX_CELL_TEXT).to_string()
}

fn clean(value: &str) -> String {
    value.chars().filter(|&c| xml_char(c)).collect()
}

/// From 1900-03-01 on: earlier dates would have to step around the 1900-02-29 that Excel
/// counts but never was, and none of the reports has them, so they are left to be written as
/// text, as are dates past Excel's last.
fn excel_date(date: NaiveDate) -> Option<ExcelDateTime> {
    let first = NaiveDate::from_ymd_opt(1900, 3, 1)?;
    if date < first || date.year() > 9999 {
        return None;
    }
    ExcelDateTime::from_ymd(
        u16::try_from(date.year()).ok()?,
        u8::try_from(date.month()).ok()?,
        u8::try_from(date.day()).ok()?,
    )
    .ok()
}

/// Widths from the longest value in each column, counting CJK characters as two digits wide
/// (they are in Excel's default fonts), with room for the header's bold face.
fn column_widths(table: &Table) -> Vec<usize> {
    let mut widths: Vec<usize> = table
        .columns
        .iter()
        .map(|column| display_width(&column.label) + 1)
        .collect();
    for row in table.cells() {
        for (width, cell) in widths.iter_mut().zip(row) {
            let cell_width = match cell {
                Cell::Text(text) => display_width(text),
                Cell::Int(value) => value.to_string().len(),
                // Excel's General format shows about eleven significant characters.
                Cell::Real(value) => number(*value).len().min(11),
                Cell::Percent(value) => format!("{:.1}%", value * 100.0).len(),
                Cell::Date(_) => 10,
                Cell::Empty => 0,
            };
            *width = (*width).max(cell_width);
        }
    }
    widths
        .into_iter()
        .map(|width| (width + 2).clamp(MIN_WIDTH, MAX_WIDTH))
        .collect()
}

fn display_width(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().map(|c| if wide(c) { 2 } else { 1 }).sum())
        .max()
        .unwrap_or(0)
}

/// East Asian wide and fullwidth characters, by block; close enough for a column width.
fn wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}'
        | '\u{1F300}'..='\u{1FAFF}'
        | '\u{20000}'..='\u{3FFFD}')
}

/// Sheet names Excel accepts: no `[]:*?/\` (they become `_`) or control characters, no
/// apostrophe at either end, at most 31 characters, unique without regard to case (`名称 (2)`),
/// never "History", which Excel keeps for change tracking, and `表N` for an empty title.
///
/// A title too long for a sheet name is shortened around its period (see [`fit_name`]), so a
/// name never ends in a cut date such as "…至 2026-11-3"; the page header carries the whole
/// title.
fn sheet_names<'a>(titles: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut taken = vec!["history".to_string()];
    let mut names = Vec::new();
    for (index, title) in titles.enumerate() {
        let cleaned: String = title
            .chars()
            .filter(|c| !c.is_control())
            .map(|c| {
                if FORBIDDEN_IN_NAME.contains(&c) {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let trimmed = trim_name(&cleaned);
        let base = if trimmed.is_empty() {
            format!("表{}", index + 1)
        } else {
            trimmed.to_string()
        };
        let mut name = fit_name(&base, MAX_SHEET_NAME);
        let mut copy = 2;
        while taken.contains(&name.to_lowercase()) {
            let suffix = format!(" ({copy})");
            name = format!("{}{suffix}", fit_name(&base, MAX_SHEET_NAME - suffix.len()));
            copy += 1;
        }
        taken.push(name.to_lowercase());
        names.push(name);
    }
    names
}

/// `title` in at most `room` UTF-16 units. The reports' titles end in a bracket whose last
/// part is the period (`隐患统计（按乡镇（街道），2026-01-01 至 2026-11-30）`); such a title is
/// shortened in steps, each kept only if the one before does not fit:
///
/// 1. the title as it is;
/// 2. the period without its spaces (`2026-01-01至2026-11-30`);
/// 3. the words before the bracket, cut if need be, with only the period in the bracket.
///
/// Any other title, and a period longer than a sheet name, is cut at `room`.
fn fit_name(title: &str, room: usize) -> String {
    if utf16_len(title) <= room {
        return title.to_string();
    }
    let Some((main, qualifiers, period)) = split_period(title) else {
        return trim_name(cut_utf16(title, room)).to_string();
    };
    let compact: String = period.chars().filter(|c| !c.is_whitespace()).collect();
    let inner = match qualifiers {
        Some(qualifiers) => format!("{qualifiers}，{compact}"),
        None => compact.clone(),
    };
    let shorter = format!("{main}（{inner}）");
    if utf16_len(&shorter) <= room {
        return shorter;
    }
    let brackets = utf16_len("（）");
    let Some(left) = room.checked_sub(utf16_len(&compact) + brackets) else {
        return trim_name(cut_utf16(&compact, room)).to_string();
    };
    let main = trim_name(cut_utf16(main, left));
    if main.is_empty() {
        compact
    } else {
        format!("{main}（{compact}）")
    }
}

/// A title's words before its last bracket, what the bracket says before its last comma,
/// and its period: the bracket's last part, when it holds a digit. `None` for a title that
/// does not end in such a bracket.
fn split_period(title: &str) -> Option<(&str, Option<&str>, &str)> {
    let inner_end = title.strip_suffix('）')?.len();
    // The bracket that the final ） closes, past any nested pair such as （街道）.
    let mut depth = 0;
    let mut open = None;
    for (offset, c) in title[..inner_end].char_indices().rev() {
        match c {
            '）' => depth += 1,
            '（' if depth == 0 => {
                open = Some(offset);
                break;
            }
            '（' => depth -= 1,
            _ => {}
        }
    }
    let open = open?;
    let main = trim_name(&title[..open]);
    let inner = &title[open + '（'.len_utf8()..inner_end];
    let (qualifiers, period) = match inner.rfind('，') {
        Some(comma) => (Some(&inner[..comma]), &inner[comma + '，'.len_utf8()..]),
        None => (None, inner),
    };
    let period = period.trim();
    (!main.is_empty() && period.chars().any(|c| c.is_ascii_digit()))
        .then_some((main, qualifiers, period))
}

fn trim_name(name: &str) -> &str {
    name.trim_matches(|c: char| c == '\'' || c.is_whitespace())
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `text` that is at most `max` UTF-16 units, the unit Excel counts in.
fn cut_utf16(text: &str, max: usize) -> &str {
    let mut units = 0;
    for (offset, c) in text.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &text[..offset];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::{Cursor, Read};
    use std::process::Command;

    use serde_json::{Value, json};

    use super::*;
    use crate::report::Column;
    use crate::report::test_support::assert_well_formed;

    /// Every part of the archive, by name.
    fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a ZIP archive");
        let mut parts = BTreeMap::new();
        for index in 0..archive.len() {
            let mut part = archive.by_index(index).expect("an entry");
            let mut content = String::new();
            part.read_to_string(&mut content).expect("a UTF-8 part");
            parts.insert(part.name().to_string(), content);
        }
        parts
    }

    fn part<'a>(parts: &'a BTreeMap<String, String>, name: &str) -> &'a str {
        parts
            .get(name)
            .unwrap_or_else(|| panic!("{name} is in the archive"))
    }

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
    }

    fn hazards() -> Table {
        let mut table = Table::new(
            "隐患统计（按乡镇（街道），2026-01-01 至 2026-11-30）",
            vec![
                Column::new("town", "乡镇"),
                Column::new("hazards", "隐患数"),
                Column::new("rate", "整改率"),
                Column::new("average", "平均整改天数"),
                Column::new("first", "最早发现"),
            ],
        );
        table.rows = vec![
            vec![
                "城关镇".into(),
                Cell::Int(1234),
                Cell::Percent(0.875),
                Cell::Real(2.5),
                Cell::Date(date(2024, 6, 1)),
            ],
            vec![
                "<王村> & \"东\"".into(),
                Cell::Int(0),
                Cell::Percent(f64::NAN),
                Cell::Empty,
                Cell::Date(date(1899, 1, 1)),
            ],
        ];
        table
    }

    #[test]
    fn every_sheet_prints_landscape_one_page_wide_with_the_header_row_on_each_page() {
        let mut second = hazards();
        second.title = "R&D 明细".into();
        let parts = unzip(&workbook(&[&hazards(), &second]).expect("workbook"));
        for part in parts.values() {
            assert_well_formed(part);
        }
        let names = ["隐患统计（2026-01-01至2026-11-30）", "R&amp;D 明细"];
        let book = part(&parts, "xl/workbook.xml");
        for (index, name) in names.iter().enumerate() {
            let sheet = part(&parts, &format!("xl/worksheets/sheet{}.xml", index + 1));
            for expected in [
                "<pageSetUpPr fitToPage=\"1\"/>",
                "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>",
                "<printOptions gridLines=\"1\"/>",
                "paperSize=\"9\"",
                "fitToHeight=\"0\"",
                "orientation=\"landscape\"",
                "<oddFooter>&amp;C第 &amp;P 页，共 &amp;N 页</oddFooter>",
            ] {
                assert!(sheet.contains(expected), "{expected} missing from {sheet}");
            }
            assert!(
                book.contains(&format!(
                    "<definedName name=\"_xlnm.Print_Titles\" localSheetId=\"{index}\">'{name}'!$1:$1</definedName>"
                )),
                "{book}"
            );
        }
        // The whole title heads each printed page, `&` escaped as a header needs.
        assert!(part(&parts, "xl/worksheets/sheet1.xml").contains(
            "<oddHeader>&amp;C隐患统计（按乡镇（街道），2026-01-01 至 2026-11-30）</oddHeader>"
        ));
        assert!(
            part(&parts, "xl/worksheets/sheet2.xml")
                .contains("<oddHeader>&amp;CR&amp;&amp;D 明细</oddHeader>")
        );
    }

    #[test]
    fn cells_are_typed_styled_and_escaped() {
        let parts = unzip(&workbook(&[&hazards()]).expect("workbook"));
        let sheet = part(&parts, "xl/worksheets/sheet1.xml");
        let strings = part(&parts, "xl/sharedStrings.xml");
        for expected in [
            "<dimension ref=\"A1:E3\"/>",
            "<c r=\"B2\"><v>1234</v></c>",
            "<c r=\"D2\"><v>2.5</v></c>",
            "<c r=\"B3\"><v>0</v></c>",
        ] {
            assert!(sheet.contains(expected), "{expected} missing from {sheet}");
        }
        // The rate and the date carry their number formats.
        let styles = part(&parts, "xl/styles.xml");
        assert!(styles.contains("formatCode=\"0.0%\"") && styles.contains("yyyy-mm-dd"));
        assert!(sheet.contains("<v>0.875</v>") && sheet.contains("<v>45444</v>"));
        for expected in ["乡镇", "城关镇", "&lt;王村&gt; &amp; \"东\"", "1899-01-01"] {
            assert!(
                strings.contains(expected),
                "{expected} missing from {strings}"
            );
        }
        // The undefined rate and the empty cell are left out.
        assert!(!sheet.contains("r=\"C3\"") && !sheet.contains("r=\"D3\""));
        // 隐患数 and 整改率 are three CJK characters: six digits, one for bold, two of margin
        // (Excel stores 9 as 9.7109375, the padding included).
        assert!(
            sheet.contains("<col min=\"2\" max=\"3\" width=\"9.7109375\" customWidth=\"1\"/>"),
            "{sheet}"
        );
        assert!(
            styles.contains("<name val=\"等线\"/>") && styles.contains("<charset val=\"134\"/>")
        );
    }

    #[test]
    fn the_same_tables_give_the_same_bytes() {
        assert_eq!(workbook(&[&hazards()]), workbook(&[&hazards()]));
    }

    #[test]
    fn sheet_names_are_cleaned_cut_and_made_unique() {
        let long = "安全生产监督检查隐患整改情况统计分析表按乡镇街道和行业分类汇总报告";
        let names = sheet_names(
            [
                "隐患/统计[2024]",
                "隐患/统计[2024]",
                "ABC",
                "abc",
                "",
                "'引号'",
                "History",
                long,
                long,
                "a\u{1}b",
            ]
            .into_iter(),
        );
        assert_eq!(
            names[..7],
            [
                "隐患_统计_2024_",
                "隐患_统计_2024_ (2)",
                "ABC",
                "abc (2)",
                "表5",
                "引号",
                "History (2)"
            ]
        );
        assert_eq!(names[7].chars().count(), MAX_SHEET_NAME);
        assert!(long.starts_with(&names[7]));
        assert_eq!(names[8].chars().count(), MAX_SHEET_NAME);
        assert!(names[8].ends_with(" (2)"));
        assert_eq!(names[9], "ab");
    }

    #[test]
    fn a_period_in_a_title_is_never_cut() {
        let period = "2026-01-01 至 2026-11-30";
        let titles = [
            format!("隐患统计（按乡镇（街道），{period}）"),
            format!("隐患统计（按乡镇（街道），{period}）"),
            format!("隐患统计（按区县，{period}）"),
            format!("乡镇（街道）分级（{period}）"),
            format!("检查覆盖率（按乡镇（街道），{period}）"),
            "安全生产监督检查隐患整改情况统计分析（截至 2026-12-05）".to_string(),
            "安全检查覆盖率（按乡镇（街道），最早 至 2026-11-30）".to_string(),
        ];
        let names = sheet_names(titles.iter().map(String::as_str));
        assert_eq!(
            names,
            [
                "隐患统计（2026-01-01至2026-11-30）",
                "隐患统计（2026-01-01至2026-11-30） (2)",
                "隐患统计（按区县，2026-01-01至2026-11-30）",
                "乡镇（街道）分级（2026-01-01至2026-11-30）",
                "检查覆盖率（2026-01-01至2026-11-30）",
                "安全生产监督检查隐患整改情况统计分（截至2026-12-05）",
                "安全检查覆盖率（按乡镇（街道），最早至2026-11-30）",
            ]
        );
        for name in &names {
            assert!(utf16_len(name) <= MAX_SHEET_NAME, "{name}");
        }
        // Without a bracketed period a long title is simply cut.
        assert_eq!(
            fit_name("一二三四五（无日期的说明文字）", 8),
            "一二三四五（无日"
        );
        // A period longer than the room left is cut as a last resort.
        assert_eq!(fit_name("表（2026-01-01 至 2026-11-30）", 10), "2026-01-01");
    }

    #[test]
    fn dates_are_excel_dates_from_march_1900_to_9999() {
        assert!(excel_date(date(1900, 3, 1)).is_some());
        assert!(excel_date(date(9999, 12, 31)).is_some());
        assert!(excel_date(date(1900, 2, 28)).is_none());
        assert!(excel_date(date(10000, 1, 1)).is_none());
    }

    #[test]
    fn text_is_cut_to_what_a_cell_holds_and_widths_stay_in_bounds() {
        let mut table = Table::new("t", vec![Column::new("a", "甲"), Column::new("b", "乙")]);
        table.rows = vec![vec!["长".repeat(40_000).into(), Cell::Real(1.0 / 3.0)]];
        let parts = unzip(&workbook(&[&table]).expect("workbook"));
        assert_eq!(
            part(&parts, "xl/sharedStrings.xml").matches('长').count(),
            MAX_CELL_TEXT
        );
        assert_eq!(column_widths(&table), [MAX_WIDTH, 13]);
        assert_eq!(cut_utf16("a😀b", 2), "a");
        assert_eq!(display_width("城关镇\nab"), 6);
    }

    #[test]
    fn workbooks_beyond_excel_limits_are_refused() {
        assert!(workbook(&[]).is_err());
        let mut tall = Table::new("t", vec![Column::new("a", "甲")]);
        tall.rows = vec![Vec::new(); MAX_ROWS];
        let error = workbook(&[&tall]).expect_err("too many rows");
        assert!(error.contains("1048576"), "{error}");
        let wide = Table::new("t", vec![Column::new("a", "甲"); MAX_COLUMNS + 1]);
        assert!(workbook(&[&wide]).is_err());
    }

    /// What openpyxl must read in a cell: its kind and value. A real and a rate are numbers
    /// (openpyxl reads a whole one, such as 3.0, as an int, as it does in any Excel file);
    /// what tells a rate is its percent format.
    fn expect(kind: &str, value: Value) -> Value {
        json!({"kind": kind, "value": value})
    }

    /// Every kind of cell, next to what openpyxl should read back for it.
    fn cases() -> Vec<(Cell, Value)> {
        vec![
            ("城关镇".into(), expect("text", json!("城关镇"))),
            (
                "<&>\"' 东\n西 ".into(),
                expect("text", json!("<&>\"' 东\n西 ")),
            ),
            ("控\u{1}制\u{FFFF}".into(), expect("text", json!("控制"))),
            ("😀 𠀀".into(), expect("text", json!("😀 𠀀"))),
            (Cell::Int(1234), expect("int", json!(1234))),
            (Cell::Int(-7), expect("int", json!(-7))),
            (Cell::Int(0), expect("int", json!(0))),
            // 2^53, the largest integer a double holds with all its neighbours.
            (
                Cell::Int(9_007_199_254_740_992),
                expect("int", json!(9_007_199_254_740_992_i64)),
            ),
            (Cell::Real(2.5), expect("real", json!(2.5))),
            (Cell::Real(3.0), expect("real", json!(3.0))),
            (Cell::Real(-0.125), expect("real", json!(-0.125))),
            (Cell::Real(f64::NAN), expect("empty", Value::Null)),
            (Cell::Percent(0.875), expect("percent", json!(0.875))),
            (Cell::Percent(1.0), expect("percent", json!(1.0))),
            (Cell::Percent(0.0), expect("percent", json!(0.0))),
            (
                Cell::Percent(1.0 / 3.0),
                expect("percent", json!(1.0 / 3.0)),
            ),
            (Cell::Percent(f64::INFINITY), expect("empty", Value::Null)),
            (
                Cell::Date(date(2024, 6, 1)),
                expect("date", json!("2024-06-01")),
            ),
            (
                Cell::Date(date(1900, 3, 1)),
                expect("date", json!("1900-03-01")),
            ),
            (
                Cell::Date(date(1899, 1, 1)),
                expect("text", json!("1899-01-01")),
            ),
            (Cell::Empty, expect("empty", Value::Null)),
        ]
    }

    #[test]
    fn openpyxl_reads_back_every_value_with_its_type() {
        let python = std::env::var("ANJIAN_TEST_PYTHON").unwrap_or_else(|_| {
            panic!(
                "ANJIAN_TEST_PYTHON is not set: run the tests with scripts/test.sh, which \
                 prepares a Python with openpyxl to read the Excel export back"
            )
        });
        let width = 4;
        let columns: Vec<Column> = (0..width)
            .map(|index| Column::new(format!("c{index}"), format!("第{}列", index + 1)))
            .collect();
        let (cells, expected): (Vec<Cell>, Vec<Value>) = cases().into_iter().unzip();
        let mut first = Table::new("隐患/统计", columns.clone());
        first.rows = cells.chunks(width).map(<[Cell]>::to_vec).collect();
        let mut expected_rows: Vec<Vec<Value>> =
            expected.chunks(width).map(<[Value]>::to_vec).collect();
        if let Some(last) = expected_rows.last_mut() {
            last.resize(width, expect("empty", Value::Null));
        }
        let mut second = Table::new("隐患/统计", columns.clone());
        second.rows = vec![vec!["第二张".into(), Cell::Percent(0.5)]];
        let second_expected = vec![vec![
            expect("text", json!("第二张")),
            expect("percent", json!(0.5)),
            expect("empty", Value::Null),
            expect("empty", Value::Null),
        ]];
        // Headers and rows of both sheets, the padding included.
        let cell_count = (1 + expected_rows.len() + 1 + second_expected.len()) * width;
        let headers: Vec<&str> = columns.iter().map(|column| column.label.as_str()).collect();
        let expected = json!({"sheets": [
            {"name": "隐患_统计", "title": "隐患/统计", "header": headers, "rows": expected_rows},
            {"name": "隐患_统计 (2)", "title": "隐患/统计", "header": headers, "rows": second_expected},
        ]});

        let directory = tempfile::tempdir().expect("temporary directory");
        let xlsx = directory.path().join("报表.xlsx");
        let expected_path = directory.path().join("expected.json");
        std::fs::write(&xlsx, workbook(&[&first, &second]).expect("workbook")).expect("write");
        std::fs::write(&expected_path, expected.to_string()).expect("write");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/report_xlsx.py");
        let output = Command::new(&python)
            .arg(script)
            .arg(&xlsx)
            .arg(&expected_path)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {python}: {error}"));
        assert!(
            output.status.success(),
            "openpyxl disagrees:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let checked: BTreeMap<String, usize> =
            serde_json::from_slice(&output.stdout).expect("the script reports what it checked");
        assert_eq!(checked.get("cells"), Some(&cell_count));
    }
}
