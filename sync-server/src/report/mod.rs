//! Reports: the rows behind each analysis page and the forms they leave the server in.
//!
//! One [`Table`] feeds the JSON API ([`table::to_json`]), the CSV download ([`table::to_csv`]),
//! the Excel download ([`xlsx::workbook`]) and, through the same values, the page's chart
//! ([`svg`]). Everything here is pure: no store, no HTTP, no clock.
//!
//! Architecture invariant: no JavaScript. Charts are inline SVG drawn on the server and the
//! workbooks are written on the server by `rust_xlsxwriter`, so an intranet deployment needs
//! nothing from outside and the page works under `Content-Security-Policy: default-src 'self'`.

pub mod svg;
pub mod table;
pub mod xlsx;

pub use table::{Cell, Column, Table};

/// Escapes text for XML (and HTML) content and attribute values alike, and drops the
/// characters XML 1.0 cannot carry at all (C0 controls other than tab, LF and CR, and
/// U+FFFE/U+FFFF), which a parser would otherwise reject the whole document for.
///
/// Tab, LF and CR are written as character references: inside an attribute a parser would
/// otherwise normalise them to spaces, and a literal CR would be folded into the LF after it.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !xml_char(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether XML 1.0 allows `c` in a document. Rust chars are never surrogates, so only the C0
/// controls and the two noncharacters at the end of the BMP are out.
pub(crate) fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// The shortest text that reads back as the same `f64` (Rust's `Display`, which never uses
/// exponent notation, so Excel, CSV readers and SVG attributes all take it), without the sign
/// of negative zero. Callers deal with non-finite values before asking.
fn number(value: f64) -> String {
    if value == 0.0 {
        "0".to_string()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Just enough XML reading for the tests to check what the writers produce, without an
    //! XML crate in the dependency tree.

    use std::collections::BTreeMap;

    /// Panics unless every tag in `xml` is closed in order; declarations, comments and
    /// self-closing tags are accepted.
    pub fn assert_well_formed(xml: &str) {
        let mut open: Vec<&str> = Vec::new();
        let mut rest = xml;
        while let Some(start) = rest.find('<') {
            let end = start + rest[start..].find('>').expect("every tag is closed with >");
            let tag = &rest[start + 1..end];
            rest = &rest[end + 1..];
            if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(name), "closing tag out of order in {xml}");
            } else {
                let name = tag.split_whitespace().next().expect("a tag has a name");
                open.push(name);
            }
        }
        assert!(open.is_empty(), "unclosed tags {open:?}");
    }

    /// The attributes of every element whose start tag begins with `prefix` (for example
    /// `<rect class="bar"`), in document order.
    pub fn elements(xml: &str, prefix: &str) -> Vec<BTreeMap<String, String>> {
        let mut found = Vec::new();
        let mut rest = xml;
        while let Some(start) = rest.find(prefix) {
            let tag_start = start + 1;
            let end = start + rest[start..].find('>').expect("the tag is closed");
            found.push(attributes(&rest[tag_start..end]));
            rest = &rest[end..];
        }
        found
    }

    fn attributes(tag: &str) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        let mut rest = tag;
        while let Some(eq) = rest.find("=\"") {
            let name = rest[..eq]
                .rsplit(' ')
                .next()
                .unwrap_or_default()
                .to_string();
            let value_start = eq + 2;
            let value_end = value_start + rest[value_start..].find('"').expect("quoted value");
            map.insert(name, rest[value_start..value_end].to_string());
            rest = &rest[value_end + 1..];
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_drops_characters_xml_cannot_carry() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("甲\u{0}乙\u{1b}丙\u{FFFE}"), "甲乙丙");
        assert_eq!(escape("a\tb\r\nc"), "a&#9;b&#13;&#10;c");
        assert_eq!(escape("😀"), "😀");
    }

    #[test]
    fn numbers_round_trip_without_exponents_or_negative_zero() {
        assert_eq!(number(1234.0), "1234");
        assert_eq!(number(0.875), "0.875");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(1e21), "1000000000000000000000");
    }
}
