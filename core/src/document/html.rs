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
        number = escape(&document.number),
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
                    escape(value)
                );
            }
            Block::Paragraph { text } => {
                let _ = writeln!(html, "<p class=\"paragraph\">{}</p>", escape(text));
            }
            Block::Addressee { text } => {
                let _ = writeln!(html, "<p>{}</p>", escape(text));
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
                    let _ = write!(html, "<li>{}", escape(&item.text));
                    if let Some(basis) = &item.basis {
                        let _ = write!(
                            html,
                            "<br><span class=\"basis\">依据：{}</span>",
                            escape(basis)
                        );
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
}
