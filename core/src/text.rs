//! Free text people type (names, places, notes, answers, measures) is checked when it enters a
//! record or a register, on the device and again on the server, by this one function.
//!
//! Two kinds of character are refused, with a message that names the character and its code:
//!
//! - control characters (NUL, escape, carriage return, …): they come out raw in HTML, CSV and
//!   on the printer, where they hide or rearrange what a reader sees. Text that may span lines
//!   (a note, a text answer) keeps its line breaks (`\n`) and nothing else.
//! - characters the documents cannot draw: an issued document is numbered and locked, so a
//!   character its font lacks (an emoji, a CJK extension-B ideograph such as 𠀀) would leave a
//!   document that can never be rendered. The test is the embedded font itself, both faces
//!   (the PDF draws with face 0, the raster printer mode with face 1).

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef};

use crate::error::{Error, Result};
use crate::record::Record;

/// Whether a field may hold line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// The two faces of the document font, parsed once; `None` when the font cannot be read, in
/// which case nothing can be rendered and every check refuses.
fn faces() -> Option<&'static [FontRef<'static>; 2]> {
    static FACES: OnceLock<Option<[FontRef<'static>; 2]>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            let bytes = crate::document::cjk_font().ok()?;
            Some([
                FontRef::try_from_slice_and_index(bytes, 0).ok()?,
                FontRef::try_from_slice_and_index(bytes, 1).ok()?,
            ])
        })
        .as_ref()
}

/// Whether every renderer of the documents can draw `c`. Spaces and line breaks are laid out,
/// not drawn.
pub fn printable(c: char) -> bool {
    if c == ' ' || c == '\n' {
        return true;
    }
    faces().is_some_and(|faces| faces.iter().all(|face| face.glyph_id(c).0 != 0))
}

/// The first character of `text` that the documents cannot draw.
pub fn first_unprintable(text: &str) -> Option<char> {
    text.chars().find(|c| !c.is_control() && !printable(*c))
}

/// What is wrong with `text` as the content of a field, in words for the person who typed it,
/// or `None` when it may be stored.
pub fn text_problem(text: &str, lines: Lines) -> Option<String> {
    control_problem(text, lines).or_else(|| {
        let c = first_unprintable(text)?;
        Some(format!(
            "含有字符“{c}”（{}），文书字体中没有这个字，打印的文书无法显示：请删去或改用常用字",
            unicode_code(c)
        ))
    })
}

/// The control-character half of [`text_problem`], for text that never reaches a document
/// (reference data shown on the supervisors' pages and in their exports).
pub fn control_problem(text: &str, lines: Lines) -> Option<String> {
    let c = text
        .chars()
        .find(|c| c.is_control() && !(*c == '\n' && lines == Lines::Many))?;
    let what = match c {
        '\0' => "空字符（NUL）",
        '\n' | '\r' => "换行",
        '\t' => "制表符",
        _ => "控制字符",
    };
    Some(format!("含有{what} {}，不能保存：请删去", unicode_code(c)))
}

fn unicode_code(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Checks one field; the error names the field (`field` reads as a noun: 备注, 单位名称).
pub fn check_text(field: &str, text: &str, lines: Lines) -> Result<()> {
    match text_problem(text, lines) {
        Some(problem) => Err(Error::InvalidInput(format!("{field}{problem}"))),
        None => Ok(()),
    }
}

/// Every field of a record that people typed or that came from a register, with its name and
/// whether it may span lines.
pub fn record_texts(record: &Record) -> Vec<(String, &str, Lines)> {
    use Lines::{Many, One};
    let mut texts: Vec<(String, &str, Lines)> = vec![
        ("检查地点".into(), record.place.as_str(), One),
        ("单位名称".into(), record.enterprise.name.as_str(), One),
        ("单位地址".into(), record.enterprise.address.as_str(), One),
        (
            "法定代表人".into(),
            record.enterprise.legal_representative.as_str(),
            One,
        ),
        ("联系电话".into(), record.enterprise.phone.as_str(), One),
    ];
    for inspector in &record.inspectors {
        texts.push(("检查人员姓名".into(), inspector.name.as_str(), One));
        texts.push(("执法证号".into(), inspector.cert.as_str(), One));
    }
    if let Some(by) = &record.submitted_by {
        texts.push(("提交人姓名".into(), by.name.as_str(), One));
    }
    for document in &record.documents {
        texts.push(("文书编号".into(), document.number.as_str(), One));
        texts.push(("签发人姓名".into(), document.issued_by.name.as_str(), One));
    }
    if let Some(reinspects) = &record.reinspects {
        if let Some(order) = &reinspects.order_number {
            texts.push(("所复查的指令书编号".into(), order.as_str(), One));
        }
        for entry in &reinspects.hazards {
            let item = &entry.item;
            texts.push((
                format!("所复查隐患 {item} 的描述"),
                entry.hazard.description.as_str(),
                Many,
            ));
            texts.push((
                format!("所复查隐患 {item} 的依据"),
                entry.hazard.legal_basis.as_str(),
                Many,
            ));
            if let Some(note) = &entry.note {
                texts.push((format!("所复查隐患 {item} 的备注"), note.as_str(), Many));
            }
        }
    }
    let answers = record
        .answers
        .iter()
        .chain(record.conflicts.iter().flat_map(|conflict| {
            conflict
                .values
                .iter()
                .map(move |answer| (&conflict.item, answer))
        }));
    for (item, answer) in answers {
        if let Some(crate::record::AnswerValue::Text(text)) = &answer.value {
            texts.push((format!("检查项 {item} 的记录内容"), text.as_str(), Many));
        }
        if let Some(note) = &answer.note {
            texts.push((format!("检查项 {item} 的备注"), note.as_str(), Many));
        }
        texts.push((
            format!("检查项 {item} 的回答人姓名"),
            answer.by.name.as_str(),
            One,
        ));
        if let Some(by) = &answer.resolved_by {
            texts.push((format!("检查项 {item} 的处理人姓名"), by.name.as_str(), One));
        }
        if let Some(hazard) = &answer.hazard {
            texts.push((
                format!("检查项 {item} 的隐患描述"),
                hazard.description.as_str(),
                Many,
            ));
            texts.push((
                format!("检查项 {item} 的违法依据"),
                hazard.legal_basis.as_str(),
                Many,
            ));
            if let Some(measure) = &hazard.measure {
                texts.push((format!("检查项 {item} 的整改措施"), measure.as_str(), Many));
            }
        }
    }
    texts
}

/// Every problem of a record's text, each as one message naming the field.
pub fn record_text_problems(record: &Record) -> Vec<String> {
    record_texts(record)
        .into_iter()
        .filter_map(|(field, text, lines)| text_problem(text, lines).map(|p| format!("{field}{p}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_draws_what_inspectors_write() {
        let ordinary = "淄博市张店区某某化工有限公司 2号罐区 压力 1.6MPa（≤2.0）、温度 35℃；\
                        买买提·艾力 A-01_b/c@d.e 《安全生产法》第一百零二条 m³ ±5%";
        assert_eq!(first_unprintable(ordinary), None);
        assert_eq!(text_problem(ordinary, Lines::One), None);
    }

    #[test]
    fn emoji_and_extension_b_are_named_with_their_code() {
        let problem = text_problem("罐区😀", Lines::One).expect("refused");
        assert!(problem.contains("“😀”（U+1F600）"), "{problem}");
        let problem = text_problem("𠀀", Lines::Many).expect("refused");
        assert!(problem.contains("“𠀀”（U+20000）"), "{problem}");
    }

    #[test]
    fn control_characters_are_refused_and_line_breaks_only_where_lines_are() {
        for (text, code) in [
            ("a\0b", "U+0000"),
            ("a\u{1b}[2J", "U+001B"),
            ("a\rb", "U+000D"),
        ] {
            for lines in [Lines::One, Lines::Many] {
                let problem = text_problem(text, lines).expect("refused");
                assert!(problem.contains(code), "{text:?}: {problem}");
            }
        }
        assert_eq!(text_problem("第一行\n第二行", Lines::Many), None);
        assert!(text_problem("第一行\n第二行", Lines::One).is_some());
        assert!(text_problem("a\tb", Lines::Many).is_some());
        let error = check_text("备注", "a\0", Lines::Many).unwrap_err();
        assert!(
            error.to_string().contains("备注含有空字符（NUL） U+0000"),
            "{error}"
        );
    }
}
