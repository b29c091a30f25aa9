//! HTML rendering of a document: one self-contained page (no external assets), for the review
//! pages and an on-screen preview before printing.

use std::fmt::Write as _;

use super::model::{Block, Document};

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escaped text with each document number in a span that never breaks
/// ([`super::layout::document_numbers`]).
fn text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for number in super::layout::document_numbers(&chars) {
        out.push_str(&escape(&chars[at..number.start].iter().collect::<String>()));
        let _ = write!(
            out,
            "<span class=\"nobr\">{}</span>",
            escape(&chars[number.clone()].iter().collect::<String>())
        );
        at = number.end;
    }
    out.push_str(&escape(&chars[at..].iter().collect::<String>()));
    out
}

const STYLE: &str = "
body { font-family: 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif;
       max-width: 170mm; margin: 2em auto; line-height: 1.8; color: #000; }
header { text-align: center; }
.heading { font-size: 1.1em; letter-spacing: 0.2em; }
.agency { font-size: 1.3em; font-weight: bold; }
.title { font-size: 1.6em; font-weight: bold; letter-spacing: 0.3em; margin: 0.2em 0; }
.number { text-align: right; }
.label { font-weight: bold; }
.paragraph { text-indent: 2em; }
.seal { text-align: right; margin-top: 2em; }
ol { padding-left: 2em; }
.basis { color: #333; font-size: 0.95em; }
.signature { margin-top: 1.2em; }
.signature .blank { display: inline-block; min-width: 10em; border-bottom: 1px solid #000; }
.nobr { white-space: nowrap; }
.set { margin-top: 2em; }
footer { margin-top: 2em; font-size: 0.8em; color: #555; word-break: break-all; }
";

/// A complete HTML page for the document.
pub fn render(document: &Document) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title} {number}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<div class=\"heading\">{heading}</div>\n<div class=\"agency\">{agency}</div>\n\
         <div class=\"title\">{title}</div>\n</header>\n<p class=\"number\">{number}</p>\n",
        title = escape(document.title),
        number = text(&document.number),
        heading = escape(document.heading),
        agency = escape(&document.agency),
    );
    for block in &document.blocks {
        match block {
            Block::Field { label, value } => {
                let _ = writeln!(
                    html,
                    "<p><span class=\"label\">{}：</span>{}</p>",
                    escape(label),
                    text(value)
                );
            }
            Block::Paragraph { text: line } => {
                let _ = writeln!(html, "<p class=\"paragraph\">{}</p>", text(line));
            }
            Block::Addressee { text: line } => {
                let _ = writeln!(html, "<p>{}</p>", text(line));
            }
            Block::Seal { text } => {
                let _ = writeln!(html, "<p class=\"seal\">{}</p>", escape(text));
            }
            Block::Numbered { heading, items } => {
                if let Some(heading) = heading {
                    let _ = writeln!(html, "<p>{}</p>", escape(heading));
                }
                html.push_str("<ol>\n");
                for item in items {
                    let _ = write!(html, "<li>{}", text(&item.text));
                    if let Some(basis) = &item.basis {
                        let _ = write!(html, "<br><span class=\"basis\">{}</span>", text(basis));
                    }
                    html.push_str("</li>\n");
                }
                html.push_str("</ol>\n");
            }
            Block::Signatures { lines } => {
                for line in lines {
                    let _ = write!(
                        html,
                        "<p class=\"signature\"><span class=\"label\">{}：</span><span class=\"blank\"></span>",
                        escape(&line.label)
                    );
                    if let Some(name) = &line.name {
                        let _ = write!(html, " {}", escape(name));
                    }
                    if let Some(cert) = &line.cert {
                        let _ = write!(html, "（证号 {}）", escape(cert));
                    }
                    html.push_str("</p>\n");
                }
            }
        }
    }
    let _ = writeln!(html, "<p class=\"set\">{}</p>", escape(&document.footer));
    let _ = write!(
        html,
        "<footer>记录编号 {} · 内容校验 SHA-256 {}</footer>\n</body>\n</html>\n",
        escape(&document.record_id),
        document.content_hash()
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_the_content_is_escaped() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn document_numbers_are_kept_on_one_line() {
        assert_eq!(
            text("决定[（淄）应急责改〔2026〕21号]<"),
            "决定[<span class=\"nobr\">（淄）应急责改〔2026〕21号</span>]&lt;"
        );
    }
}
