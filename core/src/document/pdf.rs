//! A4 PDF rendering of a document, in the layout of the official forms: the heading, agency,
//! title and number, then the fields, sentences and numbered findings, signature lines, and
//! continuation pages (续页) when the content runs long. The CJK font (WenQuanYi Micro Hei,
//! `templates/fonts/`) is embedded as a subset of the glyphs the document uses.
//!
//! Lines are measured with the font's real advances and broken by [`super::layout::wrap_by`].
//! A character the font lacks would silently vanish from the PDF, so such a document is
//! refused with the character named.

use std::sync::OnceLock;

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, RawImage, RawImageData,
    RawImageFormat, Rgb, TextItem, TextMatrix, WindingOrder, XObjectId, XObjectTransform,
};

use super::layout::wrap_by;
use super::model::{Block, Document};
use super::seal::SealImage;
use crate::error::{Error, Result};

/// Face 0 of the collection: WenQuanYi Micro Hei (proportional).
const FONT_FACE: usize = 0;

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const LEFT: f32 = 25.0;
const RIGHT: f32 = 20.0;
const TOP: f32 = 22.0;
const BOTTOM: f32 = 24.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - LEFT - RIGHT;
const PT_TO_MM: f32 = 25.4 / 72.0;

const BODY_SIZE: f32 = 12.0;
const BASIS_SIZE: f32 = 10.5;
const BODY_LINE: f32 = 7.2;
const BASIS_LINE: f32 = 6.2;
const SIGNATURE_RULE: f32 = 45.0;

fn font() -> Result<&'static ParsedFont> {
    static FONT: OnceLock<Option<ParsedFont>> = OnceLock::new();
    let bytes = super::cjk_font()?;
    FONT.get_or_init(|| {
        let mut warnings = Vec::new();
        ParsedFont::from_bytes(bytes, FONT_FACE, &mut warnings)
    })
    .as_ref()
    .ok_or_else(|| Error::InvalidInput("PDF 字体 wqy-microhei.ttc 无法读取".into()))
}

/// Glyph advances of the embedded font.
struct Metrics {
    font: &'static ParsedFont,
    units_per_em: f32,
}

impl Metrics {
    fn new() -> Result<Metrics> {
        let font = font()?;
        Ok(Metrics {
            font,
            units_per_em: f32::from(font.font_metrics.units_per_em.max(1)),
        })
    }

    /// Width in millimetres of `c` at `size` points (0 for a character the font lacks; the
    /// document is checked for those before layout).
    fn advance(&self, c: char, size: f32) -> f32 {
        self.font.lookup_glyph_index(c as u32).map_or(0.0, |glyph| {
            f32::from(self.font.get_horizontal_advance(glyph)) / self.units_per_em * size * PT_TO_MM
        })
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, size)).sum()
    }

    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        wrap_by(text, width, |c| self.advance(c, size))
    }

    fn missing(&self, text: &str) -> Option<char> {
        text.chars()
            .filter(|c| !c.is_control())
            .find(|c| self.font.lookup_glyph_index(*c as u32).is_none())
    }
}

struct Placed {
    text: String,
    x: f32,
    /// Baseline, from the bottom of the page.
    y: f32,
    size: f32,
}

struct Rule {
    x1: f32,
    x2: f32,
    y: f32,
}

/// Where the seal image goes: centred on (x, y), `width` millimetres wide.
struct SealPlace {
    x: f32,
    y: f32,
    width: f32,
}

#[derive(Default)]
struct Page {
    /// The indices of the document's blocks with text on this page.
    blocks: Vec<usize>,
    texts: Vec<Placed>,
    rules: Vec<Rule>,
    /// Filled black boxes (the QR code's modules): x, y of the lower left corner, width,
    /// height, in millimetres.
    boxes: Vec<[f32; 4]>,
    seal: Option<SealPlace>,
}

/// The QR code's side, quiet zone included: 0.5 mm a module for the ~53 modules of a
/// verification address, which a phone reads from paper and zbar from a 150 dpi page image.
const QR_SIDE: f32 = 30.0;

/// The diameter of an official seal: 42 mm.
const SEAL_WIDTH: f32 = 42.0;

/// Places lines top to bottom, opening a continuation page when the current one is full.
struct Layout<'a> {
    metrics: Metrics,
    document: &'a Document,
    pages: Vec<Page>,
    /// Baseline of the next line, from the bottom.
    y: f32,
    /// The block being placed, if any.
    block: Option<usize>,
}

impl Layout<'_> {
    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn place(&mut self, text: &str, x: f32, size: f32) {
        let y = self.y;
        let block = self.block;
        let page = self.page();
        if let Some(block) = block
            && page.blocks.last() != Some(&block)
        {
            page.blocks.push(block);
        }
        self.page().texts.push(Placed {
            text: text.to_string(),
            x,
            y,
            size,
        });
    }

    fn centered(&mut self, text: &str, size: f32, advance: f32) {
        let width = self.metrics.width(text, size);
        self.place(text, LEFT + (TEXT_WIDTH - width).max(0.0) / 2.0, size);
        self.y -= advance;
    }

    /// Makes room for `height`, continuing on a new page when it does not fit.
    fn need(&mut self, height: f32) {
        if self.y - height >= BOTTOM {
            return;
        }
        self.pages.push(Page::default());
        self.y = PAGE_HEIGHT - TOP;
        let header = format!("{}（续页）  {}", self.document.title, self.document.number);
        self.place(&header, LEFT, 9.0);
        let y = self.y - 2.5;
        self.page().rules.push(Rule {
            x1: LEFT,
            x2: PAGE_WIDTH - RIGHT,
            y,
        });
        self.y -= 10.0;
    }

    /// Wrapped text at `x`, `width` wide; `first_prefix` (such as "1、") hangs before the
    /// first line.
    fn text(&mut self, text: &str, size: f32, line: f32, x: f32, first_prefix: &str) {
        let prefix_width = self.metrics.width(first_prefix, size);
        let lines = self
            .metrics
            .wrap(text, size, TEXT_WIDTH - (x - LEFT) - prefix_width);
        for (n, content) in lines.iter().enumerate() {
            self.need(line);
            if n == 0 && !first_prefix.is_empty() {
                self.place(first_prefix, x, size);
            }
            self.place(content, x + prefix_width, size);
            self.y -= line;
        }
    }

    /// The verification QR code in the first page's top left corner, where the centred heading
    /// leaves room, with a caption under it.
    fn qr(&mut self) -> Result<()> {
        let Some(url) = self.document.verification_url() else {
            return Ok(());
        };
        let qr = qrcodegen::QrCode::encode_text(&url, qrcodegen::QrCodeEcc::Medium)
            .map_err(|_| Error::InvalidInput("核验地址过长，无法生成二维码".into()))?;
        // Four modules of quiet zone on each side, as the standard asks.
        let modules = qr.size() + 8;
        let module = QR_SIDE / modules as f32;
        let top = PAGE_HEIGHT - 8.0;
        let left = LEFT - 4.0 * module;
        let page = self.page();
        for y in 0..qr.size() {
            let mut x = 0;
            while x < qr.size() {
                if !qr.get_module(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < qr.size() && qr.get_module(x, y) {
                    x += 1;
                }
                page.boxes.push([
                    left + (start + 4) as f32 * module,
                    top - (y + 5) as f32 * module,
                    (x - start) as f32 * module,
                    module,
                ]);
            }
        }
        let caption_y = top - QR_SIDE + 1.0;
        page.texts.push(Placed {
            text: "扫码核验".into(),
            x: LEFT + 4.0,
            y: caption_y,
            size: 7.0,
        });
        Ok(())
    }

    fn header(&mut self) {
        self.y = PAGE_HEIGHT - TOP - 4.0;
        let document = self.document;
        self.centered(document.heading, 12.0, 9.0);
        self.centered(&document.agency, 16.0, 10.0);
        self.centered(document.title, 22.0, 11.0);
        let number_width = self.metrics.width(&document.number, BODY_SIZE);
        self.place(
            &document.number,
            PAGE_WIDTH - RIGHT - number_width,
            BODY_SIZE,
        );
        let y = self.y - 3.0;
        self.page().rules.push(Rule {
            x1: LEFT,
            x2: PAGE_WIDTH - RIGHT,
            y,
        });
        self.y -= 12.0;
    }

    fn blocks(&mut self) {
        let document = self.document;
        let closing_at = document
            .blocks
            .iter()
            .position(|b| matches!(b, Block::Signatures { .. }));
        for (index, block) in document.blocks.iter().enumerate() {
            self.block = Some(index);
            if Some(index + 1) == closing_at && !matches!(block, Block::Numbered { .. }) {
                // The last paragraph goes with the signatures: no page holds only those.
                let closing = self.closing_height(&document.blocks[index + 1..]);
                let last = self.block_height(block);
                self.need(last + closing);
            }
            if matches!(block, Block::Signatures { .. }) {
                // Signatures, date and seal close the document together, never split.
                let closing = self.closing_height(&document.blocks[index..]);
                self.need(closing);
            }
            match block {
                Block::Field { label, value } => {
                    self.text(&format!("{label}：{value}"), BODY_SIZE, BODY_LINE, LEFT, "");
                }
                Block::Paragraph { text } => {
                    // Paragraphs open with a two-character indent, as Chinese official texts do.
                    self.text(
                        &format!("\u{3000}\u{3000}{text}"),
                        BODY_SIZE,
                        BODY_LINE,
                        LEFT,
                        "",
                    );
                }
                Block::Addressee { text } => {
                    self.text(text, BODY_SIZE, BODY_LINE, LEFT, "");
                }
                Block::Seal { text } => {
                    self.y -= 6.0;
                    self.need(BODY_LINE);
                    let width = self.metrics.width(text, BODY_SIZE);
                    let x = PAGE_WIDTH - RIGHT - width;
                    self.place(text, x, BODY_SIZE);
                    let centre_y = self.y + 1.5;
                    self.page().seal = Some(SealPlace {
                        x: x + width / 2.0,
                        y: centre_y,
                        width: SEAL_WIDTH,
                    });
                    self.y -= BODY_LINE;
                }
                Block::Numbered { heading, items } => {
                    if let Some(heading) = heading {
                        self.text(heading, BODY_SIZE, BODY_LINE, LEFT, "");
                    }
                    for (n, item) in items.iter().enumerate() {
                        let prefix = format!("{}、", n + 1);
                        if n + 1 == items.len() && Some(index + 1) == closing_at {
                            // The last finding goes with the signatures.
                            let closing = self.closing_height(&document.blocks[index + 1..]);
                            self.need(self.item_height(item, &prefix) + closing);
                        }
                        self.text(&item.text, BODY_SIZE, BODY_LINE, LEFT, &prefix);
                        if let Some(basis) = &item.basis {
                            let indent = LEFT + self.metrics.width(&prefix, BODY_SIZE);
                            self.text(basis, BASIS_SIZE, BASIS_LINE, indent, "");
                        }
                        self.y -= 1.5;
                    }
                }
                Block::Signatures { lines } => {
                    self.y -= 4.0;
                    for line in lines {
                        self.need(12.0);
                        let label = format!("{}：", line.label);
                        self.place(&label, LEFT, BODY_SIZE);
                        let start = LEFT + self.metrics.width(&label, BODY_SIZE) + 1.0;
                        let y = self.y - 1.0;
                        self.page().rules.push(Rule {
                            x1: start,
                            x2: start + SIGNATURE_RULE,
                            y,
                        });
                        let mut printed = String::new();
                        if let Some(name) = &line.name {
                            printed.push_str(name);
                        }
                        if let Some(cert) = &line.cert {
                            printed.push_str(&format!("（证号 {cert}）"));
                        }
                        if !printed.is_empty() {
                            self.place(&printed, start + SIGNATURE_RULE + 3.0, BASIS_SIZE);
                        }
                        self.y -= 12.0;
                    }
                }
            }
        }
    }

    /// The height `text` takes wrapped at `x` with `first_prefix`, as [`Layout::text`] places it.
    fn text_height(&self, text: &str, size: f32, line: f32, x: f32, first_prefix: &str) -> f32 {
        let prefix_width = self.metrics.width(first_prefix, size);
        let width = TEXT_WIDTH - (x - LEFT) - prefix_width;
        self.metrics.wrap(text, size, width).len() as f32 * line
    }

    fn item_height(&self, item: &super::model::NumberedItem, prefix: &str) -> f32 {
        let mut height = self.text_height(&item.text, BODY_SIZE, BODY_LINE, LEFT, prefix);
        if let Some(basis) = &item.basis {
            let indent = LEFT + self.metrics.width(prefix, BODY_SIZE);
            height += self.text_height(basis, BASIS_SIZE, BASIS_LINE, indent, "");
        }
        height + 1.5
    }

    /// The height of a block other than the closing ones, as [`Layout::blocks`] places it.
    fn block_height(&self, block: &Block) -> f32 {
        match block {
            Block::Field { label, value } => {
                self.text_height(&format!("{label}：{value}"), BODY_SIZE, BODY_LINE, LEFT, "")
            }
            Block::Paragraph { text } => self.text_height(
                &format!("\u{3000}\u{3000}{text}"),
                BODY_SIZE,
                BODY_LINE,
                LEFT,
                "",
            ),
            Block::Addressee { text } => self.text_height(text, BODY_SIZE, BODY_LINE, LEFT, ""),
            _ => 0.0,
        }
    }

    /// The height the closing blocks (signatures and what follows) take.
    fn closing_height(&self, blocks: &[Block]) -> f32 {
        blocks
            .iter()
            .map(|block| match block {
                Block::Signatures { lines } => 4.0 + 12.0 * lines.len() as f32,
                // The seal image reaches half its width below the seal line.
                Block::Seal { .. } => 6.0 + BODY_LINE + SEAL_WIDTH / 2.0,
                _ => 2.0 * BODY_LINE,
            })
            .sum()
    }

    /// Page numbers and the record's identity at the foot of every page.
    fn footers(&mut self) {
        let total = self.pages.len();
        let identity = format!(
            "记录 {}  内容校验 SHA-256 {}",
            self.document.record_id,
            self.document.content_hash()
        );
        let set_width = self.metrics.width(&self.document.footer, 9.0);
        for index in 0..total {
            let folio = format!("共 {total} 页 第 {} 页", index + 1);
            let width = self.metrics.width(&folio, 9.0);
            let page = &mut self.pages[index];
            // The set's footer, on every page: which copy is filed where.
            page.texts.push(Placed {
                text: self.document.footer.clone(),
                x: LEFT + (TEXT_WIDTH - set_width).max(0.0) / 2.0,
                y: 19.0,
                size: 9.0,
            });
            page.texts.push(Placed {
                text: folio,
                x: LEFT + (TEXT_WIDTH - width) / 2.0,
                y: 14.0,
                size: 9.0,
            });
            page.texts.push(Placed {
                text: identity.clone(),
                x: LEFT,
                y: 9.0,
                size: 6.5,
            });
        }
    }
}

/// Places every line of the document on its pages.
fn lay_out(document: &Document, metrics: Metrics) -> Result<Layout<'_>> {
    let mut layout = Layout {
        metrics,
        document,
        pages: Vec::new(),
        y: PAGE_HEIGHT - TOP,
        block: None,
    };
    layout.header();
    layout.qr()?;
    layout.blocks();
    layout.block = None;
    layout.footers();
    Ok(layout)
}

/// The document as an A4 PDF, with the agency's seal image over its seal line when given.
pub fn render(document: &Document, seal: Option<&SealImage>) -> Result<Vec<u8>> {
    let metrics = Metrics::new()?;
    if let Some(c) = metrics.missing(&document.to_text()) {
        return Err(Error::InvalidInput(format!(
            "字符“{c}”（U+{:04X}）不在 PDF 字体中，无法制作 PDF",
            c as u32
        )));
    }
    let layout = lay_out(document, metrics)?;

    let mut pdf = PdfDocument::new(&format!("{} {}", document.title, document.number));
    let issued = pdf_time(document.issued_at);
    let info = &mut pdf.metadata.info;
    info.creation_date = issued;
    info.modification_date = issued;
    info.metadata_date = issued;
    info.author = document.agency.clone();
    info.creator = "anjian".into();
    info.producer = "anjian".into();
    let font_id = pdf.add_font(layout.metrics.font);
    let seal = seal.map(|image| {
        let id = pdf.add_image(&RawImage {
            pixels: RawImageData::U8(image.rgba.clone()),
            width: image.width as usize,
            height: image.height as usize,
            data_format: RawImageFormat::RGBA8,
            tag: Vec::new(),
        });
        (id, image.width, image.height)
    });
    let pages = layout
        .pages
        .iter()
        .map(|page| {
            let mut ops = page_ops(page, &font_id);
            if let (Some(place), Some((id, width, height))) = (&page.seal, &seal) {
                ops.push(seal_op(place, id, *width, *height));
            }
            PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), ops)
        })
        .collect();
    let mut warnings = Vec::new();
    let pdf = pdf.with_pages(pages);
    let mut saved = pdf.to_lopdf_document(&PdfSaveOptions::default(), &mut warnings);
    // printpdf writes /GTS_PDFXVersion into every Info dictionary, empty for a plain PDF; a
    // reader then takes the document for PDF/X. It is not one.
    if let Ok(info) = saved
        .trailer
        .get(b"Info")
        .and_then(lopdf::Object::as_reference)
        && let Ok(lopdf::Object::Dictionary(info)) = saved.get_object_mut(info)
    {
        info.remove(b"GTS_PDFXVersion");
    }
    saved.compress();
    let mut bytes = Vec::new();
    saved
        .save_to(&mut bytes)
        .map_err(|e| Error::InvalidInput(format!("PDF 无法写出：{e}")))?;
    Ok(bytes)
}

/// An instant as PDF metadata states it: China Standard Time, with its offset.
fn pdf_time(at: chrono::DateTime<chrono::Utc>) -> printpdf::OffsetDateTime {
    use chrono::{Datelike, Timelike};
    let local = at.with_timezone(&crate::time::china());
    printpdf::OffsetDateTime {
        date: printpdf::Date {
            year: local.year(),
            month: local.month() as u8,
            day: local.day() as u8,
        },
        time: printpdf::Time {
            hour: local.hour() as u8,
            minute: local.minute() as u8,
            second: local.second() as u8,
            millisecond: 0,
        },
        offset: printpdf::Offset {
            hours: 8,
            minutes: 0,
            seconds: 0,
            milliseconds: 0,
        },
    }
}

/// The seal image scaled to its width and centred on its place.
fn seal_op(place: &SealPlace, id: &XObjectId, width_px: u32, height_px: u32) -> Op {
    // printpdf sizes an image by its dpi: this many pixels per inch make `width` millimetres.
    let dpi = width_px as f32 / (place.width / 25.4);
    let height = place.width * height_px as f32 / width_px as f32;
    Op::UseXobject {
        id: id.clone(),
        transform: XObjectTransform {
            translate_x: Some(Mm(place.x - place.width / 2.0).into()),
            translate_y: Some(Mm(place.y - height / 2.0).into()),
            dpi: Some(dpi),
            ..Default::default()
        },
    }
}

fn page_ops(page: &Page, font: &FontId) -> Vec<Op> {
    let mut ops = vec![
        Op::SetOutlineColor {
            col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)),
        },
        Op::SetOutlineThickness { pt: Pt(0.6) },
    ];
    for rule in &page.rules {
        ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point::new(Mm(rule.x1), Mm(rule.y)),
                        bezier: false,
                    },
                    LinePoint {
                        p: Point::new(Mm(rule.x2), Mm(rule.y)),
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }
    if !page.boxes.is_empty() {
        ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)),
        });
        for &[x, y, width, height] in &page.boxes {
            let corner = |dx: f32, dy: f32| LinePoint {
                p: Point::new(Mm(x + dx), Mm(y + dy)),
                bezier: false,
            };
            ops.push(Op::DrawPolygon {
                polygon: Polygon {
                    rings: vec![PolygonRing {
                        points: vec![
                            corner(0.0, 0.0),
                            corner(width, 0.0),
                            corner(width, height),
                            corner(0.0, height),
                        ],
                    }],
                    mode: PaintMode::Fill,
                    winding_order: WindingOrder::NonZero,
                },
            });
        }
    }
    ops.push(Op::StartTextSection);
    let mut size = None;
    for placed in &page.texts {
        if size != Some(placed.size) {
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(font.clone()),
                size: Pt(placed.size),
            });
            size = Some(placed.size);
        }
        ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Mm(placed.x).into(), Mm(placed.y).into()),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(placed.text.clone())],
        });
    }
    ops.push(Op::EndTextSection);
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::DocType;

    fn document(agency: &str) -> Document {
        Document {
            doc_type: DocType::Record,
            heading: super::super::model::HEADING,
            agency: agency.into(),
            title: "现场检查记录",
            number: "（淄）应急检记〔2026〕1号".into(),
            record_id: "0190abcd".into(),
            blocks: vec![Block::Paragraph {
                text: "龦工在场。".into(),
            }],
            footer: "本文书一式两份：一份由淄博市应急管理局备案，一份交被检查单位。".into(),
            public_address: Some("https://aqjg.example.gov.cn".into()),
            issued_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_character_the_font_lacks_is_refused_not_dropped() {
        assert!(render(&document("淄博市应急管理局"), None).is_ok());
        let err = render(&document("𠀀博市应急管理局"), None).unwrap_err();
        assert!(err.to_string().contains("𠀀"), "{err}");
    }

    #[test]
    fn lines_fit_the_text_width_with_real_advances() {
        let metrics = Metrics::new().unwrap();
        let text = "依据：《工贸企业重大事故隐患判定标准》第十一条第（一）项；《工贸企业粉尘防爆安全规定》第十四条；GB 15577-2018 第6.1.1条";
        for line in metrics.wrap(text, BODY_SIZE, TEXT_WIDTH) {
            assert!(
                metrics.width(&line, BODY_SIZE) <= TEXT_WIDTH + 0.01,
                "{line}"
            );
        }
        assert!(metrics.width("中", BODY_SIZE) > 4.0 && metrics.width("中", BODY_SIZE) < 4.5);
    }

    #[test]
    fn the_seal_image_is_placed_on_the_page_with_the_seal_line() {
        let mut with_seal_line = document("淄博市应急管理局");
        with_seal_line.blocks.push(Block::Seal {
            text: "淄博市应急管理局（印章）".into(),
        });
        let seal = super::super::seal::decode(&super::super::seal::test_png(120, 120)).unwrap();
        let plain = render(&with_seal_line, None).unwrap();
        let sealed = render(&with_seal_line, Some(&seal)).unwrap();
        let count =
            |pdf: &[u8], needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
        assert_eq!(
            count(&plain, b"/Subtype /Image") + count(&plain, b"/Subtype/Image"),
            0
        );
        // The image, and its transparency mask.
        assert!(count(&sealed, b"/Subtype /Image") + count(&sealed, b"/Subtype/Image") >= 1);
    }

    /// An order of `findings` findings, each `long` or short, as the model builds it.
    fn order(findings: usize, long: bool) -> Document {
        use super::super::model::{NumberedItem, SignatureLine};
        let finding = if long {
            "涉及可燃和有毒有害气体泄漏的场所未按国家标准设置检测报警装置，爆炸危险场所未按国家标准安装使用防爆电气设备（二号罐区东侧）。"
        } else {
            "安全阀未正常投用。"
        };
        let signer = |label: &str, name: Option<&str>| SignatureLine {
            label: label.into(),
            name: name.map(str::to_string),
            cert: name.map(|_| "37030001".to_string()),
        };
        let mut document = document("淄博市应急管理局");
        document.blocks = vec![
            Block::Addressee {
                text: "淄博齐鲁石化助剂有限公司：".into(),
            },
            Block::Numbered {
                heading: Some("经查，你单位存在下列问题：".into()),
                items: (0..findings)
                    .map(|_| NumberedItem {
                        text: finding.into(),
                        basis: Some("违反了《中华人民共和国安全生产法》第三十六条的规定。".into()),
                    })
                    .collect(),
            },
            Block::Paragraph {
                text: "现责令你单位对上述第1项问题于2026年12月5日前整改完毕，达到有关法律法规规章和标准规定的要求。由此造成事故的，依法追究有关人员的责任。".into(),
            },
            Block::Paragraph {
                text: "如果不服本指令，可以依法在60日内向淄博市人民政府申请行政复议，或者在6个月内依法向淄博市张店区人民法院提起行政诉讼，但本指令不停止执行，法律另有规定的除外。".into(),
            },
            Block::Signatures {
                lines: vec![
                    signer("安全生产监管行政执法人员（签名）", Some("张伟")),
                    signer("安全生产监管行政执法人员（签名）", Some("李娜")),
                    signer("被检查单位负责人（签名）", None),
                ],
            },
            Block::Field {
                label: "日期".into(),
                value: "2026年11月20日".into(),
            },
            Block::Seal {
                text: "淄博市应急管理局（印章）".into(),
            },
        ];
        document
    }

    #[test]
    fn no_page_holds_only_the_signatures() {
        // Every length from one finding to several pages, in both finding lengths: wherever the
        // page breaks, the signatures share their page with the paragraph before them.
        for long in [false, true] {
            for findings in 1..=40 {
                let document = order(findings, long);
                let signatures = document
                    .blocks
                    .iter()
                    .position(|b| matches!(b, Block::Signatures { .. }))
                    .unwrap();
                let layout = lay_out(&document, Metrics::new().unwrap()).unwrap();
                let page = layout
                    .pages
                    .iter()
                    .find(|p| p.blocks.contains(&signatures))
                    .unwrap();
                assert!(
                    page.blocks.iter().any(|b| *b < signatures),
                    "{findings} findings (long: {long}): a page of {} holds only the closing blocks",
                    layout.pages.len()
                );
            }
        }
    }
}
