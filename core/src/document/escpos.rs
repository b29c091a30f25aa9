//! ESC/POS rendering of a document for portable thermal printers (58, 80 and 104–112 mm).
//!
//! Text mode: a line with Chinese is sent as GB18030 (GBK) bytes between `FS &` (Chinese mode
//! on) and `FS .` (off); bytes below 0x80 print as ASCII in Chinese mode too. Lines are broken by display width (a CJK character takes two
//! columns of the 12-dot font A) at places a reader would accept: never inside a number, a
//! standard's code such as `GB 30871-2022`, or a 《title》 that fits on one line, never before
//! closing or after opening punctuation. Each copy (一式两联) ends with the set's footer, its
//! label, a QR code holding the document's verification address
//! ([`Document::verification_url`]), and a cut.
//!
//! A line with a character outside GBK (a rare character in a name, say) is printed as a raster
//! image (`GS v 0`) drawn from the CJK font on the printer's own grid (24-dot CJK cells, 12-dot
//! ASCII cells); the raster mode prints every line so. A character missing from that font too
//! is refused by name.

use std::cell::RefCell;
use std::rc::Rc;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{
    Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};

use super::model::{Block, Document};
use crate::agency::DocType;
use crate::error::{Error, Result};

const GS: u8 = 0x1d;
const FS: u8 = 0x1c;
const LF: u8 = b'\n';

/// Paper widths and their printable dots at 203 dpi.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperWidth {
    Mm58,
    Mm80,
    Mm112,
}

impl PaperWidth {
    /// From the millimetre figure printers are sold by.
    pub fn from_mm(mm: u32) -> Option<PaperWidth> {
        match mm {
            58 => Some(PaperWidth::Mm58),
            80 => Some(PaperWidth::Mm80),
            104..=112 => Some(PaperWidth::Mm112),
            _ => None,
        }
    }

    pub fn dots(self) -> u32 {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
            PaperWidth::Mm112 => 832,
        }
    }

    /// Columns of the 12×24 font A: an ASCII character takes one, a CJK character two.
    pub fn columns(self) -> usize {
        (self.dots() / 12) as usize
    }

    /// QR module size in dots: about 40 % of the width for a ~60-module symbol.
    fn qr_module(self) -> u8 {
        match self {
            PaperWidth::Mm58 => 4,
            PaperWidth::Mm80 => 5,
            PaperWidth::Mm112 => 7,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscPosOptions {
    pub width: PaperWidth,
    /// Printed copies, each labelled and cut (一式两联 is 2).
    pub copies: u8,
    /// Print only this copy (from 1), with its label: the reprint of a copy that jammed or
    /// was lost, so the enterprise's copy is not printed twice as 第一联.
    pub only_copy: Option<u8>,
    /// Print every line as a raster image, for printers without a Chinese font.
    pub raster: bool,
}

/// Dots per text row, as the printer's font A.
const ROW_DOTS: usize = 24;
/// Where the baseline sits in a raster row.
const BASELINE: f32 = 21.0;
/// Blank dots under a raster row, as the printer's own line spacing leaves under text.
const LINE_GAP: usize = 6;

/// The label printed at the end of copy `n` (from 1): the second copy goes to the inspected
/// unit, which a re-inspection opinion calls 被复查单位.
pub fn copy_label(doc_type: DocType, n: u8) -> String {
    match (n, doc_type) {
        (1, _) => "第一联 执法机关存档".into(),
        (2, DocType::Reinspection) => "第二联 交被复查单位".into(),
        (2, _) => "第二联 交被检查单位".into(),
        (n, _) => format!("第{n}联"),
    }
}

/// Columns a character takes in font A.
fn width_of(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// Splits `text` into lines of at most `columns` font-A columns.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    super::layout::wrap_by(text, columns as f32, |c| width_of(c) as f32)
}

/// The printer an [`escpos::printer::Printer`] writes to: the job's bytes, kept in memory
/// until the whole job is built (it is sent by [`crate::printer`], paced for small buffers).
#[derive(Debug, Clone, Default)]
struct MemoryDriver {
    bytes: Rc<RefCell<Vec<u8>>>,
}

impl Driver for MemoryDriver {
    fn name(&self) -> String {
        "memory".into()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.bytes.borrow_mut().extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

fn printer_error(error: escpos::errors::PrinterError) -> Error {
    Error::InvalidInput(format!("打印任务无法生成：{error}"))
}

/// Builds the printer's byte stream with the `escpos` crate's printer: its commands for
/// initialisation, alignment, emphasis, size, feeds, cuts and QR codes, its GB18030 encoder for
/// Chinese text, and custom bytes for what it has no command for (`FS &` / `FS .`, a bare line
/// feed, `GS v 0` raster images).
struct Job {
    printer: Printer<MemoryDriver>,
    driver: MemoryDriver,
    columns: usize,
    raster_all: bool,
    double_height: bool,
}

impl Job {
    fn new(columns: usize, raster_all: bool) -> Job {
        let driver = MemoryDriver::default();
        // GB18030's one- and two-byte sequences are GBK's; lines with characters outside GBK
        // never reach the encoder (they are rasterised), so the four-byte ones never appear.
        let protocol = Protocol::new(Encoder::new(encoding_rs::GB18030));
        Job {
            printer: Printer::new(driver.clone(), protocol, None),
            driver,
            columns,
            raster_all,
            double_height: false,
        }
    }

    /// The job's bytes, every instruction written.
    fn finish(mut self) -> Result<Vec<u8>> {
        self.printer.print().map_err(printer_error)?;
        Ok(self.driver.bytes.take())
    }

    fn command(&mut self, bytes: &[u8]) -> Result<()> {
        self.printer.custom(bytes).map_err(printer_error)?;
        Ok(())
    }

    /// One line of text. A line with Chinese is sent in Chinese mode from start to end (bytes
    /// below 0x80 still print as ASCII there), so mixed lines switch mode once, not per run.
    /// A line with a character outside GBK, which printer fonts lack, is rasterised.
    fn line(&mut self, text: &str) -> Result<()> {
        let text: String = text.chars().filter(|c| !c.is_control()).collect();
        if text.is_empty() {
            return self.command(&[LF]);
        }
        if self.raster_all {
            return self.raster(&text);
        }
        if text.is_ascii() {
            self.printer.write(&text).map_err(printer_error)?;
            return self.command(&[LF]);
        }
        // The GBK encoder of the Encoding Standard is GB18030 without its four-byte sequences:
        // an error means a character the printer's font does not have.
        if encoding_rs::GBK.encode(&text).2 {
            return self.raster(&text);
        }
        self.command(&[FS, b'&'])?;
        self.printer.write(&text).map_err(printer_error)?;
        self.command(&[FS, b'.'])?;
        self.command(&[LF])
    }

    /// A line as a `GS v 0` raster image on the font-A grid, drawn from the monospaced face of
    /// the CJK font: ASCII in 12-dot cells, everything else in 24-dot cells.
    fn raster(&mut self, text: &str) -> Result<()> {
        let font = FontRef::try_from_slice_and_index(super::cjk_font()?, 1)
            .map_err(|_| Error::InvalidInput("栅格打印字体无法读取".into()))?;
        let cells: usize = text.chars().map(width_of).sum();
        let width = (cells * 12).div_ceil(8).max(1) * 8;
        let height = ROW_DOTS + LINE_GAP;
        let mut bitmap = vec![false; width * height];
        let mut x = 0usize;
        for c in text.chars() {
            let cell = width_of(c) * 12;
            let glyph_id = font.glyph_id(c);
            if glyph_id.0 == 0 && !c.is_whitespace() {
                return Err(Error::InvalidInput(format!(
                    "字符“{c}”（U+{:04X}）既不在打印机字库也不在随附字体中，无法打印",
                    c as u32
                )));
            }
            // The mono face's Latin glyphs are 0.6 em wide: 20 px makes them 12 dots.
            let scale = PxScale::from(if c.is_ascii() { 20.0 } else { 24.0 });
            let glyph = glyph_id.with_scale_and_position(scale, point(x as f32, BASELINE));
            debug_assert!(font.as_scaled(scale).h_advance(glyph_id) <= cell as f32 + 0.5);
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let px = bounds.min.x as i64 + i64::from(gx);
                    let py = bounds.min.y as i64 + i64::from(gy);
                    if coverage >= 0.45
                        && (0..width as i64).contains(&px)
                        && (0..ROW_DOTS as i64).contains(&py)
                    {
                        bitmap[py as usize * width + px as usize] = true;
                    }
                });
            }
            x += cell;
        }
        let bytes_per_row = width / 8;
        let mode = if self.double_height { 2 } else { 0 };
        let mut image = vec![
            GS,
            b'v',
            b'0',
            mode,
            (bytes_per_row % 256) as u8,
            (bytes_per_row / 256) as u8,
            height as u8,
            0,
        ];
        for row in bitmap.chunks(width) {
            for byte in row.chunks(8) {
                let packed = byte.iter().enumerate().fold(0u8, |acc, (bit, &black)| {
                    if black { acc | (0x80 >> bit) } else { acc }
                });
                image.push(packed);
            }
        }
        self.command(&image)
    }

    fn double_height(&mut self, on: bool) -> Result<()> {
        self.double_height = on;
        self.printer
            .size(1, if on { 2 } else { 1 })
            .map_err(printer_error)?;
        Ok(())
    }

    fn wrapped(&mut self, text: &str) -> Result<()> {
        for line in wrap(text, self.columns) {
            self.line(&line)?;
        }
        Ok(())
    }

    fn justify(&mut self, mode: JustifyMode) -> Result<()> {
        self.printer.justify(mode).map_err(printer_error)?;
        Ok(())
    }

    fn bold(&mut self, on: bool) -> Result<()> {
        self.printer.bold(on).map_err(printer_error)?;
        Ok(())
    }

    /// `GS ( k`: model 2, module size, error correction M, store, print.
    fn qr(&mut self, data: &str, module: u8) -> Result<()> {
        let option = QRCodeOption::new(QRCodeModel::Model2, module, QRCodeCorrectionLevel::M);
        self.printer
            .qrcode_option(data, option)
            .map_err(printer_error)?;
        Ok(())
    }
}

/// The whole print job for a document.
pub fn render(document: &Document, options: EscPosOptions) -> Result<Vec<u8>> {
    if !(1..=9).contains(&options.copies) {
        return Err(Error::InvalidInput(format!(
            "份数 {} 应在 1 到 9 之间",
            options.copies
        )));
    }
    let mut job = Job::new(options.width.columns(), options.raster);
    let copies = match options.only_copy {
        None => 1..=options.copies,
        Some(copy) if (1..=options.copies).contains(&copy) => copy..=copy,
        Some(copy) => {
            return Err(Error::InvalidInput(format!(
                "要补打的第 {copy} 联不存在：本文书共 {} 联",
                options.copies
            )));
        }
    };
    let payload = document.verification_url();
    for copy in copies {
        job.printer.init().map_err(printer_error)?;
        job.justify(JustifyMode::CENTER)?;
        job.wrapped(document.heading)?;
        job.bold(true)?;
        job.wrapped(&document.agency)?;
        // Double height only: the width, and so the wrapping, stays that of font A.
        job.double_height(true)?;
        job.wrapped(document.title)?;
        job.double_height(false)?;
        job.bold(false)?;
        job.wrapped(&document.number)?;
        job.justify(JustifyMode::LEFT)?;
        job.line("")?;
        for block in &document.blocks {
            match block {
                Block::Field { label, value } => job.wrapped(&format!("{label}：{value}"))?,
                Block::Paragraph { text } | Block::Addressee { text } => job.wrapped(text)?,
                Block::Seal { text } => {
                    job.line("")?;
                    job.justify(JustifyMode::RIGHT)?;
                    job.wrapped(text)?;
                    job.justify(JustifyMode::LEFT)?;
                }
                Block::Numbered { heading, items } => {
                    if let Some(heading) = heading {
                        job.wrapped(heading)?;
                    }
                    for (n, item) in items.iter().enumerate() {
                        job.wrapped(&format!("{}、{}", n + 1, item.text))?;
                        if let Some(basis) = &item.basis {
                            job.wrapped(basis)?;
                        }
                    }
                }
                Block::Signatures { lines } => {
                    for line in lines {
                        job.line("")?;
                        job.wrapped(&format!("{}：", line.label))?;
                        job.line("")?;
                        let mut printed = "_".repeat(job.columns.min(24));
                        if let Some(name) = &line.name {
                            printed = format!("{printed} {name}");
                        }
                        if let Some(cert) = &line.cert {
                            printed = format!("{printed}（证号 {cert}）");
                        }
                        job.wrapped(&printed)?;
                    }
                }
            }
        }
        job.line("")?;
        job.wrapped(&document.footer)?;
        job.justify(JustifyMode::CENTER)?;
        job.wrapped(&format!("（{}）", copy_label(document.doc_type, copy)))?;
        if let Some(payload) = &payload {
            job.line("")?;
            job.qr(payload, options.width.qr_module())?;
        }
        job.line("")?;
        job.wrapped(&format!("记录 {}", document.record_id))?;
        job.justify(JustifyMode::LEFT)?;
        // Feed past the tear bar, then a partial cut.
        job.printer.feeds(4).map_err(printer_error)?;
        job.printer.partial_cut().map_err(printer_error)?;
    }
    job.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_width(text: &str) -> usize {
        text.chars().map(width_of).sum()
    }

    #[test]
    fn lines_never_exceed_the_width() {
        let text = "依据：安监总管三〔2017〕121号 第四项；《危险化学品生产企业安全生产许可证实施办法》（原国家安全监管总局令第41号）第九条第（三）项；GB/T 37243-2019 第4.2.1条";
        for columns in [32, 48, 69] {
            for line in wrap(text, columns) {
                assert!(text_width(&line) <= columns, "{line:?} over {columns}");
            }
            let without_spaces = |t: &str| t.replace(' ', "");
            assert_eq!(
                without_spaces(&wrap(text, columns).concat()),
                without_spaces(text)
            );
        }
    }

    #[test]
    fn numbers_codes_and_titles_stay_whole() {
        let text = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰GB 30871-2022与《中华人民共和国安全生产法》第三十条电话0533-3156789";
        let lines = wrap(text, 32);
        let joined = lines.join("|");
        for whole in [
            "GB 30871-2022",
            "《中华人民共和国安全生产法》",
            "0533-3156789",
        ] {
            assert!(
                lines.iter().any(|l| l.contains(whole)),
                "{whole} split in {joined}"
            );
        }
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        let text = "一二三四五六七八九十一二三四五，六七八";
        let lines = wrap(text, 30);
        assert!(
            lines.iter().skip(1).all(|l| !l.starts_with('，')),
            "{lines:?}"
        );
    }

    #[test]
    fn lines_with_chinese_are_gbk_between_fs_and_and_fs_dot() {
        let mut job = Job::new(32, false);
        job.line("编号A1号").unwrap();
        job.line("GB 2894").unwrap();
        assert_eq!(
            job.finish().unwrap(),
            [
                &[FS, b'&'][..],
                &[0xb1, 0xe0, 0xba, 0xc5],
                b"A1",
                &[0xba, 0xc5],
                &[FS, b'.'],
                b"\n",
                b"GB 2894\n",
            ]
            .concat()
        );
    }

    #[test]
    fn a_line_outside_gbk_becomes_a_raster_image_on_the_font_grid() {
        let mut job = Job::new(32, false);
        // 龦 (U+9FA6) is past GBK's last ideograph; the line is 2 + 2 + 1 = 5 cells = 60 dots.
        job.line("龦工A").unwrap();
        let err = job.line("𠀀").unwrap_err();
        assert!(err.to_string().contains("𠀀"), "{err}");
        let bytes = job.finish().unwrap();
        assert_eq!(&bytes[..8], &[GS, b'v', b'0', 0, 8, 0, 30, 0]);
        let image = &bytes[8..];
        assert_eq!(image.len(), 8 * 30);
        let black: u32 = image.iter().map(|b| b.count_ones()).sum();
        assert!(black > 60, "glyphs were drawn: {black} dots");
        // Each 24-dot cell has ink: no glyph fell off the grid.
        for cell in [0..3, 3..6, 6..8] {
            let ink: u32 = image
                .chunks(8)
                .flat_map(|row| row[cell.clone()].iter())
                .map(|b| b.count_ones())
                .sum();
            assert!(ink > 0, "cell {cell:?} is blank");
        }
    }

    #[test]
    fn the_second_copy_of_an_opinion_goes_to_the_reinspected_unit() {
        assert_eq!(copy_label(DocType::Order, 2), "第二联 交被检查单位");
        assert_eq!(copy_label(DocType::Reinspection, 2), "第二联 交被复查单位");
        assert_eq!(copy_label(DocType::Reinspection, 1), "第一联 执法机关存档");
    }
}
