//! Excel workbooks (.xlsx) written by hand: a small ZIP container and the six OOXML parts a
//! spreadsheet of plain tables needs (docs/research/review-pages.md §2). A writer crate would
//! bring a ZIP crate, zopfli and zlib-rs for features the reports do not use.
//!
//! Every string is an inline string (`t="inlineStr"`), so there is no shared-string part;
//! numbers are numbers, rates carry a `0.0%` style and dates are Excel serial days with a
//! `yyyy-mm-dd` style, so that a spreadsheet can sum and sort them. Parts carry a fixed
//! 1980-01-01 timestamp: the same tables give the same bytes.

use std::io::{self, Write};

use chrono::{Datelike, NaiveDate};
use flate2::{Compression, write::DeflateEncoder};

use super::table::{Cell, Table, iso_date};
use super::{escape, number};

/// Excel's limits, from "Excel specifications and limits".
const MAX_ROWS: usize = 1_048_576;
const MAX_COLUMNS: usize = 16_384;
const MAX_SHEET_NAME: usize = 31;
/// Characters (UTF-16 units) in one cell; Excel reports a longer cell as a damaged file.
const MAX_CELL_TEXT: usize = 32_767;

/// Indexes into `cellXfs` in [`STYLES`].
const STYLE_HEADER: u8 = 1;
const STYLE_PERCENT: u8 = 2;
const STYLE_DATE: u8 = 3;

/// Column widths, in Excel's units of one digit.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// A workbook with one sheet per table, in order: the title is the sheet name, the first row
/// holds the column labels in bold and stays in view when scrolling, and the rows follow.
///
/// * Sheet names lose the characters Excel forbids (`[]:*?/\` become `_`), are cut to 31
///   characters and made unique (`名称 (2)`); an empty title becomes `表N`.
/// * Text is cut to Excel's 32,767 characters per cell and loses the control characters XML
///   cannot carry. Integers are Excel numbers, so beyond 15 digits they lose precision: write
///   codes and identifiers as text.
/// * Empty and non-finite cells are left out. Dates before 1900-03-01 or after 9999-12-31,
///   which Excel cannot hold as dates, are written as `YYYY-MM-DD` text.
///
/// Fails, with a message for the user, on an empty list of tables, on a table beyond Excel's
/// 1,048,576 rows or 16,384 columns, and on a workbook too large for a ZIP without the 64-bit
/// extensions (4 GiB).
pub fn workbook(sheets: &[&Table]) -> Result<Vec<u8>, String> {
    workbook_with_limit(sheets, u64::from(u32::MAX))
}

fn workbook_with_limit(sheets: &[&Table], limit: u64) -> Result<Vec<u8>, String> {
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
    let names = sheet_names(sheets.iter().map(|table| table.title.as_str()));

    let mut zip = Zip::new(limit);
    zip.add("[Content_Types].xml", |part| {
        content_types(part, sheets.len())
    })?;
    zip.add("_rels/.rels", |part| part.write_all(ROOT_RELS.as_bytes()))?;
    zip.add("xl/workbook.xml", |part| workbook_part(part, &names))?;
    zip.add("xl/_rels/workbook.xml.rels", |part| {
        workbook_rels(part, sheets.len())
    })?;
    zip.add("xl/styles.xml", |part| part.write_all(STYLES.as_bytes()))?;
    for (index, table) in sheets.iter().enumerate() {
        let name = format!("xl/worksheets/sheet{}.xml", index + 1);
        zip.add(&name, |part| worksheet(part, table, index == 0))?;
    }
    zip.finish()
}

const ROOT_RELS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    "<Relationship Id=\"rId1\" ",
    "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" ",
    "Target=\"xl/workbook.xml\"/></Relationships>"
);

/// Fonts name 等线 (Excel's default for Chinese since 2016) with the GB2312 charset, so that
/// WPS and older Excel fall back to a Chinese font rather than a Latin one. The `<cellStyles>`
/// entry is there because openpyxl warns "Workbook contains no default style" without it.
const STYLES: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">",
    "<numFmts count=\"2\">",
    "<numFmt numFmtId=\"164\" formatCode=\"0.0%\"/>",
    "<numFmt numFmtId=\"165\" formatCode=\"yyyy-mm-dd\"/>",
    "</numFmts>",
    "<fonts count=\"2\">",
    "<font><sz val=\"11\"/><name val=\"等线\"/><family val=\"2\"/><charset val=\"134\"/></font>",
    "<font><b/><sz val=\"11\"/><name val=\"等线\"/><family val=\"2\"/><charset val=\"134\"/></font>",
    "</fonts>",
    "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>",
    "<fill><patternFill patternType=\"gray125\"/></fill></fills>",
    "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>",
    "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>",
    "<cellXfs count=\"4\">",
    "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>",
    "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>",
    "<xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>",
    "<xf numFmtId=\"165\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>",
    "</cellXfs>",
    "<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>",
    "</styleSheet>"
);

fn content_types(out: &mut impl Write, sheets: usize) -> io::Result<()> {
    const MAIN: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml";
    out.write_all(XML_DECLARATION.as_bytes())?;
    write!(
        out,
        "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" \
         ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"{MAIN}.sheet.main+xml\"/>\
         <Override PartName=\"/xl/styles.xml\" ContentType=\"{MAIN}.styles+xml\"/>"
    )?;
    for sheet in 1..=sheets {
        write!(
            out,
            "<Override PartName=\"/xl/worksheets/sheet{sheet}.xml\" \
             ContentType=\"{MAIN}.worksheet+xml\"/>"
        )?;
    }
    out.write_all(b"</Types>")
}

fn workbook_part(out: &mut impl Write, names: &[String]) -> io::Result<()> {
    out.write_all(XML_DECLARATION.as_bytes())?;
    out.write_all(
        b"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
          xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
          <bookViews><workbookView activeTab=\"0\"/></bookViews><sheets>",
    )?;
    for (index, name) in names.iter().enumerate() {
        let id = index + 1;
        write!(
            out,
            "<sheet name=\"{}\" sheetId=\"{id}\" r:id=\"rId{id}\"/>",
            escape(name)
        )?;
    }
    out.write_all(b"</sheets></workbook>")
}

fn workbook_rels(out: &mut impl Write, sheets: usize) -> io::Result<()> {
    const TYPE: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    out.write_all(XML_DECLARATION.as_bytes())?;
    out.write_all(
        b"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    )?;
    for sheet in 1..=sheets {
        write!(
            out,
            "<Relationship Id=\"rId{sheet}\" Type=\"{TYPE}/worksheet\" \
             Target=\"worksheets/sheet{sheet}.xml\"/>"
        )?;
    }
    write!(
        out,
        "<Relationship Id=\"rId{}\" Type=\"{TYPE}/styles\" Target=\"styles.xml\"/>\
         </Relationships>",
        sheets + 1
    )
}

fn worksheet(out: &mut impl Write, table: &Table, selected: bool) -> io::Result<()> {
    let letters: Vec<String> = (1..=table.columns.len()).map(column_letters).collect();
    out.write_all(XML_DECLARATION.as_bytes())?;
    out.write_all(
        b"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">",
    )?;
    match letters.last() {
        Some(last) => write!(
            out,
            "<dimension ref=\"A1:{last}{}\"/>",
            table.rows.len() + 1
        )?,
        None => out.write_all(b"<dimension ref=\"A1\"/>")?,
    }
    // Element order is fixed by the schema, and Excel rejects a sheet that breaks it:
    // dimension, sheetViews, sheetFormatPr, cols, sheetData.
    write!(
        out,
        "<sheetViews><sheetView workbookViewId=\"0\"{}>\
         <pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>\
         <selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/>\
         </sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/>",
        if selected { " tabSelected=\"1\"" } else { "" }
    )?;
    if !table.columns.is_empty() {
        out.write_all(b"<cols>")?;
        for (index, width) in column_widths(table).into_iter().enumerate() {
            let position = index + 1;
            write!(
                out,
                "<col min=\"{position}\" max=\"{position}\" width=\"{width}\" customWidth=\"1\"/>"
            )?;
        }
        out.write_all(b"</cols>")?;
    }
    out.write_all(b"<sheetData><row r=\"1\">")?;
    for (letter, column) in letters.iter().zip(&table.columns) {
        inline_string(
            out,
            &format!("{letter}1"),
            &column.label,
            Some(STYLE_HEADER),
        )?;
    }
    out.write_all(b"</row>")?;
    for (index, row) in table.cells().enumerate() {
        let row_number = index + 2;
        write!(out, "<row r=\"{row_number}\">")?;
        for (letter, cell) in letters.iter().zip(row) {
            write_cell(out, &format!("{letter}{row_number}"), cell)?;
        }
        out.write_all(b"</row>")?;
    }
    out.write_all(b"</sheetData></worksheet>")
}

fn write_cell(out: &mut impl Write, reference: &str, cell: &Cell) -> io::Result<()> {
    match cell {
        Cell::Text(text) => inline_string(out, reference, text, None),
        Cell::Int(value) => write!(out, "<c r=\"{reference}\"><v>{value}</v></c>"),
        Cell::Real(value) if value.is_finite() => {
            write!(out, "<c r=\"{reference}\"><v>{}</v></c>", float(*value))
        }
        Cell::Percent(value) if value.is_finite() => write!(
            out,
            "<c r=\"{reference}\" s=\"{STYLE_PERCENT}\"><v>{}</v></c>",
            float(*value)
        ),
        Cell::Date(date) => match excel_serial(*date) {
            Some(serial) => write!(
                out,
                "<c r=\"{reference}\" s=\"{STYLE_DATE}\"><v>{serial}</v></c>"
            ),
            None => inline_string(out, reference, &iso_date(*date), None),
        },
        Cell::Real(_) | Cell::Percent(_) | Cell::Empty => Ok(()),
    }
}

fn inline_string(
    out: &mut impl Write,
    reference: &str,
    text: &str,
    style: Option<u8>,
) -> io::Result<()> {
    write!(out, "<c r=\"{reference}\" t=\"inlineStr\"")?;
    if let Some(style) = style {
        write!(out, " s=\"{style}\"")?;
    }
    write!(
        out,
        "><is><t xml:space=\"preserve\">{}</t></is></c>",
        escape(cut_utf16(text, MAX_CELL_TEXT))
    )
}

/// Always with a decimal point, so that a reader that types cells by their text (openpyxl
/// does) reads a real or a rate of exactly 1 as a float, as it reads 0.875.
fn float(value: f64) -> String {
    let text = number(value);
    if text.contains('.') {
        text
    } else {
        text + ".0"
    }
}

/// Days since 1899-12-30, which is Excel's serial number from 1900-03-01 on. Earlier dates
/// would have to step around the 1900-02-29 that Excel counts but never was, and none of the
/// reports has them, so they are left to be written as text, as are dates past Excel's last.
fn excel_serial(date: NaiveDate) -> Option<i64> {
    let first = NaiveDate::from_ymd_opt(1900, 3, 1)?;
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    if date < first || date.year() > 9999 {
        return None;
    }
    Some((date - epoch).num_days())
}

/// 1 → A, 26 → Z, 27 → AA.
fn column_letters(mut position: usize) -> String {
    let mut letters = Vec::new();
    while position > 0 {
        let digit = (position - 1) % 26;
        letters.push(b'A' + digit as u8);
        position = (position - 1) / 26;
    }
    letters.iter().rev().map(|&byte| char::from(byte)).collect()
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

/// Sheet names Excel accepts: no `[]:*?/\` or control characters, no apostrophe at either
/// end, at most 31 characters, unique without regard to case, and never "History", which
/// Excel keeps for change tracking.
fn sheet_names<'a>(titles: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut taken = vec!["history".to_string()];
    let mut names = Vec::new();
    for (index, title) in titles.enumerate() {
        let cleaned: String = title
            .chars()
            .filter(|c| !c.is_control())
            .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
            .collect();
        let trimmed = trim_name(&cleaned);
        let base = if trimmed.is_empty() {
            format!("表{}", index + 1)
        } else {
            trimmed.to_string()
        };
        let mut name = trim_name(cut_utf16(&base, MAX_SHEET_NAME)).to_string();
        let mut copy = 2;
        while taken.contains(&name.to_lowercase()) {
            let suffix = format!(" ({copy})");
            let room = MAX_SHEET_NAME - suffix.len();
            name = format!("{}{suffix}", trim_name(cut_utf16(&base, room)));
            copy += 1;
        }
        taken.push(name.to_lowercase());
        names.push(name);
    }
    names
}

fn trim_name(name: &str) -> &str {
    name.trim_matches(|c: char| c == '\'' || c.is_whitespace())
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

/// A ZIP archive built in memory: deflated entries with the UTF-8 name flag, no data
/// descriptors (every size is known when the entry is written) and no ZIP64, so every size
/// and offset must fit in 32 bits.
struct Zip {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
    /// The largest size or offset accepted: `u32::MAX`, smaller in tests.
    limit: u64,
}

/// One entry being written: compressed as it comes, in 64 KiB chunks, so a large sheet is
/// never held uncompressed.
struct Part {
    pending: Vec<u8>,
    encoder: DeflateEncoder<Vec<u8>>,
    crc: crc32fast::Hasher,
    size: u64,
}

const CHUNK: usize = 64 * 1024;
/// Version 2.0: deflate.
const VERSION: u16 = 20;
/// Bit 11: names are UTF-8.
const FLAG_UTF8: u16 = 0x0800;
const METHOD_DEFLATE: u16 = 8;
const DOS_TIME: u16 = 0;
/// 1980-01-01, the earliest a DOS date can say.
const DOS_DATE: u16 = (1 << 5) | 1;

impl Part {
    fn new() -> Self {
        Part {
            pending: Vec::with_capacity(CHUNK),
            encoder: DeflateEncoder::new(Vec::new(), Compression::default()),
            crc: crc32fast::Hasher::new(),
            size: 0,
        }
    }

    fn compress_pending(&mut self) -> io::Result<()> {
        self.crc.update(&self.pending);
        self.size += self.pending.len() as u64;
        self.encoder.write_all(&self.pending)?;
        self.pending.clear();
        Ok(())
    }

    /// The compressed bytes, the CRC-32 and the size of the uncompressed data.
    fn finish(mut self) -> io::Result<(Vec<u8>, u32, u64)> {
        self.compress_pending()?;
        Ok((self.encoder.finish()?, self.crc.finalize(), self.size))
    }
}

impl Write for Part {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= CHUNK {
            self.compress_pending()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Zip {
    fn new(limit: u64) -> Self {
        Zip {
            out: Vec::new(),
            central: Vec::new(),
            entries: 0,
            limit,
        }
    }

    fn add(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut Part) -> io::Result<()>,
    ) -> Result<(), String> {
        let mut part = Part::new();
        let failed = |error: io::Error| format!("生成 Excel 文件失败（{name}）：{error}");
        write(&mut part).map_err(failed)?;
        let (data, crc, size) = part.finish().map_err(failed)?;
        let size = self.fit(size)?;
        let compressed = self.fit(data.len() as u64)?;
        let offset = self.fit(self.out.len() as u64)?;
        self.entries = self
            .entries
            .checked_add(1)
            .ok_or_else(|| "工作簿中的表太多".to_string())?;
        let name_length = u16::try_from(name.len()).map_err(|_| format!("文件名过长：{name}"))?;

        self.out.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
        // Version needed, flags, method, time and date.
        for value in [VERSION, FLAG_UTF8, METHOD_DEFLATE, DOS_TIME, DOS_DATE] {
            self.out.extend_from_slice(&value.to_le_bytes());
        }
        for value in [crc, compressed, size] {
            self.out.extend_from_slice(&value.to_le_bytes());
        }
        self.out.extend_from_slice(&name_length.to_le_bytes());
        self.out.extend_from_slice(&0_u16.to_le_bytes());
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(&data);

        let central = &mut self.central;
        central.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
        // Made by: version 2.0 on MS-DOS, so readers take no Unix permissions from it.
        for value in [
            VERSION,
            VERSION,
            FLAG_UTF8,
            METHOD_DEFLATE,
            DOS_TIME,
            DOS_DATE,
        ] {
            central.extend_from_slice(&value.to_le_bytes());
        }
        for value in [crc, compressed, size] {
            central.extend_from_slice(&value.to_le_bytes());
        }
        // Name length, then no extra field, no comment, disk 0 and no internal attributes.
        for value in [name_length, 0, 0, 0, 0] {
            central.extend_from_slice(&value.to_le_bytes());
        }
        // No external attributes, then where the local header starts.
        for value in [0, offset] {
            central.extend_from_slice(&value.to_le_bytes());
        }
        central.extend_from_slice(name.as_bytes());
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<u8>, String> {
        let start = self.fit(self.out.len() as u64)?;
        let length = self.fit(self.central.len() as u64)?;
        self.fit(self.out.len() as u64 + self.central.len() as u64 + 22)?;
        self.out.append(&mut self.central);
        self.out.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
        // This disk, the disk the directory starts on, entries here, entries in all.
        for value in [0, 0, self.entries, self.entries] {
            self.out.extend_from_slice(&value.to_le_bytes());
        }
        self.out.extend_from_slice(&length.to_le_bytes());
        self.out.extend_from_slice(&start.to_le_bytes());
        // No archive comment.
        self.out.extend_from_slice(&0_u16.to_le_bytes());
        Ok(self.out)
    }

    fn fit(&self, value: u64) -> Result<u32, String> {
        u32::try_from(value)
            .ok()
            .filter(|&value| u64::from(value) <= self.limit)
            .ok_or_else(|| "导出内容超过 4 GiB，请缩小时间范围或区域后再导出".to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Read;
    use std::process::Command;

    use flate2::read::DeflateDecoder;
    use serde_json::{Value, json};

    use super::*;
    use crate::report::Column;
    use crate::report::test_support::assert_well_formed;

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([bytes[at], bytes[at + 1]])
    }

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
    }

    /// Reads the archive the way an unzip tool does, from the end record through the central
    /// directory to each local header, and checks that every copy of every field agrees and
    /// that each part inflates to its recorded size and CRC-32.
    fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let end = bytes.len() - 22;
        assert_eq!(u32_at(bytes, end), 0x0605_4b50, "end record");
        assert_eq!(u16_at(bytes, end + 20), 0, "no comment");
        let entries = usize::from(u16_at(bytes, end + 10));
        assert_eq!(u16_at(bytes, end + 8), u16_at(bytes, end + 10));
        let directory_size = u32_at(bytes, end + 12) as usize;
        let directory = u32_at(bytes, end + 16) as usize;
        assert_eq!(
            directory + directory_size,
            end,
            "directory ends at the end record"
        );

        let mut parts = Vec::new();
        let mut at = directory;
        let mut expected_offset = 0;
        for _ in 0..entries {
            assert_eq!(u32_at(bytes, at), 0x0201_4b50, "central header");
            assert_eq!(u16_at(bytes, at + 8), FLAG_UTF8);
            assert_eq!(u16_at(bytes, at + 10), METHOD_DEFLATE);
            let crc = u32_at(bytes, at + 16);
            let compressed = u32_at(bytes, at + 20) as usize;
            let size = u32_at(bytes, at + 24) as usize;
            let name_length = usize::from(u16_at(bytes, at + 28));
            let extra = usize::from(u16_at(bytes, at + 30));
            let comment = usize::from(u16_at(bytes, at + 32));
            let offset = u32_at(bytes, at + 42) as usize;
            let name = String::from_utf8(bytes[at + 46..at + 46 + name_length].to_vec())
                .expect("UTF-8 name");
            at += 46 + name_length + extra + comment;

            assert_eq!(offset, expected_offset, "{name}: entries are contiguous");
            assert_eq!(u32_at(bytes, offset), 0x0403_4b50, "{name}: local header");
            assert_eq!(u16_at(bytes, offset + 6), FLAG_UTF8);
            assert_eq!(u16_at(bytes, offset + 8), METHOD_DEFLATE);
            assert_eq!(u16_at(bytes, offset + 12), DOS_DATE);
            assert_eq!(
                u32_at(bytes, offset + 14),
                crc,
                "{name}: CRC in both headers"
            );
            assert_eq!(u32_at(bytes, offset + 18) as usize, compressed);
            assert_eq!(u32_at(bytes, offset + 22) as usize, size);
            let local_name = usize::from(u16_at(bytes, offset + 26));
            let local_extra = usize::from(u16_at(bytes, offset + 28));
            assert_eq!(
                &bytes[offset + 30..offset + 30 + local_name],
                name.as_bytes()
            );
            let data_start = offset + 30 + local_name + local_extra;
            let data = &bytes[data_start..data_start + compressed];
            expected_offset = data_start + compressed;

            let mut content = Vec::new();
            DeflateDecoder::new(data)
                .read_to_end(&mut content)
                .expect("the part inflates");
            assert_eq!(content.len(), size, "{name}: size");
            assert_eq!(
                crc32fast::hash(&content),
                crc,
                "{name}: CRC-32 of the content"
            );
            parts.push((name, content));
        }
        assert_eq!(at, end, "the directory holds exactly the counted entries");
        assert_eq!(
            expected_offset, directory,
            "the directory follows the last entry"
        );
        parts
    }

    fn part(parts: &[(String, Vec<u8>)], name: &str) -> String {
        let (_, content) = parts
            .iter()
            .find(|(part, _)| part == name)
            .unwrap_or_else(|| panic!("{name} is in the archive"));
        String::from_utf8(content.clone()).expect("parts are UTF-8")
    }

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
    }

    fn hazards() -> Table {
        let mut table = Table::new(
            "隐患统计",
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
    fn the_archive_lists_every_part_and_each_inflates_to_its_crc() {
        let mut second = hazards();
        second.title = "隐患统计".into();
        let bytes = workbook(&[&hazards(), &second]).expect("workbook");
        let parts = unzip(&bytes);
        let names: Vec<&str> = parts.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
                "xl/styles.xml",
                "xl/worksheets/sheet1.xml",
                "xl/worksheets/sheet2.xml",
            ]
        );
        for (name, _) in &parts {
            assert_well_formed(&part(&parts, name));
        }
        let types = part(&parts, "[Content_Types].xml");
        assert!(types.contains("PartName=\"/xl/worksheets/sheet2.xml\""));
        let workbook = part(&parts, "xl/workbook.xml");
        assert!(workbook.contains("<sheet name=\"隐患统计\" sheetId=\"1\" r:id=\"rId1\"/>"));
        assert!(workbook.contains("<sheet name=\"隐患统计 (2)\" sheetId=\"2\" r:id=\"rId2\"/>"));
        let rels = part(&parts, "xl/_rels/workbook.xml.rels");
        assert!(rels.contains("Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\""));
    }

    #[test]
    fn cells_are_typed_styled_and_escaped() {
        let parts = unzip(&workbook(&[&hazards()]).expect("workbook"));
        let sheet = part(&parts, "xl/worksheets/sheet1.xml");
        for expected in [
            "<dimension ref=\"A1:E3\"/>",
            "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>",
            "<c r=\"A1\" t=\"inlineStr\" s=\"1\"><is><t xml:space=\"preserve\">乡镇</t></is></c>",
            "<c r=\"A2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">城关镇</t></is></c>",
            "<c r=\"B2\"><v>1234</v></c>",
            "<c r=\"C2\" s=\"2\"><v>0.875</v></c>",
            "<c r=\"D2\"><v>2.5</v></c>",
            "<c r=\"E2\" s=\"3\"><v>45444</v></c>",
            "<t xml:space=\"preserve\">&lt;王村&gt; &amp; &quot;东&quot;</t>",
            "<c r=\"B3\"><v>0</v></c>",
            "<c r=\"E3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">1899-01-01</t></is></c>",
        ] {
            assert!(sheet.contains(expected), "{expected} missing from {sheet}");
        }
        // The undefined rate and the empty cell are left out.
        assert!(!sheet.contains("r=\"C3\"") && !sheet.contains("r=\"D3\""));
        // 隐患数 is three CJK characters: six digits, one for bold, two of margin.
        assert!(sheet.contains("<col min=\"2\" max=\"2\" width=\"9\" customWidth=\"1\"/>"));
        let styles = part(&parts, "xl/styles.xml");
        assert!(styles.contains("formatCode=\"0.0%\"") && styles.contains("<cellStyles"));
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
    fn dates_are_excel_serials_from_march_1900_to_9999() {
        assert_eq!(excel_serial(date(1900, 3, 1)), Some(61));
        assert_eq!(excel_serial(date(2024, 6, 1)), Some(45444));
        assert_eq!(excel_serial(date(9999, 12, 31)), Some(2_958_465));
        assert_eq!(excel_serial(date(1900, 2, 28)), None);
        assert_eq!(excel_serial(date(10000, 1, 1)), None);
    }

    #[test]
    fn columns_are_lettered_like_excel() {
        let letters: Vec<String> = [1, 26, 27, 52, 53, 702, 703, 16_384]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(letters, ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]);
    }

    #[test]
    fn text_is_cut_to_what_a_cell_holds_and_widths_stay_in_bounds() {
        let mut table = Table::new("t", vec![Column::new("a", "甲"), Column::new("b", "乙")]);
        table.rows = vec![vec!["长".repeat(40_000).into(), Cell::Real(1.0 / 3.0)]];
        let sheet = part(
            &unzip(&workbook(&[&table]).expect("workbook")),
            "xl/worksheets/sheet1.xml",
        );
        assert_eq!(sheet.matches('长').count(), MAX_CELL_TEXT);
        assert_eq!(column_widths(&table), [MAX_WIDTH, 13]);
        assert_eq!(cut_utf16("a😀b", 2), "a");
        assert_eq!(display_width("城关镇\nab"), 6);
    }

    #[test]
    fn workbooks_beyond_excel_or_zip_limits_are_refused() {
        assert!(workbook(&[]).is_err());
        let mut tall = Table::new("t", vec![Column::new("a", "甲")]);
        tall.rows = vec![Vec::new(); MAX_ROWS];
        let error = workbook(&[&tall]).expect_err("too many rows");
        assert!(error.contains("1048576"), "{error}");
        let wide = Table::new("t", vec![Column::new("a", "甲"); MAX_COLUMNS + 1]);
        assert!(workbook(&[&wide]).is_err());
        // The same check that stops a 4 GiB archive, at a size a test can reach.
        let error = workbook_with_limit(&[&hazards()], 1000).expect_err("over the limit");
        assert!(error.contains("4 GiB"), "{error}");
        assert!(workbook_with_limit(&[&hazards()], 100_000).is_ok());
    }

    /// What openpyxl must read in a cell: its kind and value.
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
            (
                Cell::Int(9_007_199_254_740_993),
                expect("int", json!(9_007_199_254_740_993_i64)),
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
            {"name": "隐患_统计", "header": headers, "rows": expected_rows},
            {"name": "隐患_统计 (2)", "header": headers, "rows": second_expected},
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
