//! The issuing agency's configuration (`templates/agency.example.toml`): its names, how its
//! document numbers are written, and the authorities named in an order's remedy sentence.
//! The device keeps the file's text as given; this module reads and checks it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The three enforcement documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocType {
    /// 现场检查记录.
    Record,
    /// 责令限期整改指令书.
    Order,
    /// 整改复查意见书.
    Reinspection,
}

impl DocType {
    pub const ALL: [DocType; 3] = [DocType::Record, DocType::Order, DocType::Reinspection];

    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Record => "record",
            DocType::Order => "order",
            DocType::Reinspection => "reinspection",
        }
    }

    pub fn parse(text: &str) -> Option<DocType> {
        DocType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    pub fn title(self) -> &'static str {
        match self {
            DocType::Record => "现场检查记录",
            DocType::Order => "责令限期整改指令书",
            DocType::Reinspection => "整改复查意见书",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeCodes {
    pub record: String,
    pub order: String,
    pub reinspection: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    pub pattern: String,
    pub serial_width: usize,
    pub type_codes: TypeCodes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remedy {
    pub review_government: String,
    pub review_department: String,
    pub court: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agency {
    /// Full name, as in 我们是<机关名称>行政执法人员….
    pub name: String,
    /// The short name used in document numbers, e.g. 淄 in (淄)安监责改〔2026〕0012号.
    pub short_name: String,
    /// The agency's administrative division code.
    pub region_code: String,
    pub numbering: Numbering,
    pub remedy: Remedy,
    /// A PNG of the agency's seal for electronic copies, relative to the configuration file.
    pub seal: Option<String>,
    #[serde(skip)]
    pub source_text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgency {
    name: String,
    short_name: String,
    region_code: String,
    numbering: Numbering,
    remedy: Remedy,
    seal: Option<String>,
}

const TOKENS: [&str; 4] = ["{short}", "{type}", "{year}", "{serial}"];

impl Agency {
    pub fn parse(file: &str, text: &str) -> Result<Agency> {
        let invalid = |problem: String| Error::InvalidInput(format!("机关配置 {file}：{problem}"));
        let raw: RawAgency = toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
        for (field, value) in [
            ("name", &raw.name),
            ("short_name", &raw.short_name),
            ("remedy.review_government", &raw.remedy.review_government),
            ("remedy.review_department", &raw.remedy.review_department),
            ("remedy.court", &raw.remedy.court),
            (
                "numbering.type_codes.record",
                &raw.numbering.type_codes.record,
            ),
            (
                "numbering.type_codes.order",
                &raw.numbering.type_codes.order,
            ),
            (
                "numbering.type_codes.reinspection",
                &raw.numbering.type_codes.reinspection,
            ),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(format!("{field} 不能为空")));
            }
            // Every one of these is printed on the documents.
            if let Some(problem) = crate::text::text_problem(value, crate::text::Lines::One) {
                return Err(invalid(format!("{field} {problem}")));
            }
        }
        let region = raw.region_code.trim();
        if ![6, 9].contains(&region.len()) || !region.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!(
                "region_code {region:?} 应为 6 或 9 位数字"
            )));
        }
        let numbering = &raw.numbering;
        if !(1..=8).contains(&numbering.serial_width) {
            return Err(invalid("numbering.serial_width 应在 1 到 8 之间".into()));
        }
        for token in ["{type}", "{year}", "{serial}"] {
            if numbering.pattern.matches(token).count() != 1 {
                return Err(invalid(format!(
                    "numbering.pattern 应含一个且仅一个 {token}"
                )));
            }
        }
        let codes = &numbering.type_codes;
        if codes.record == codes.order
            || codes.order == codes.reinspection
            || codes.record == codes.reinspection
        {
            return Err(invalid(
                "numbering.type_codes 三种文书的类型代码应各不相同".into(),
            ));
        }
        Ok(Agency {
            name: raw.name.trim().to_string(),
            short_name: raw.short_name.trim().to_string(),
            region_code: region.to_string(),
            numbering: raw.numbering,
            remedy: raw.remedy,
            seal: raw.seal.filter(|s| !s.trim().is_empty()),
            source_text: text.to_string(),
        })
    }

    pub fn type_code(&self, doc_type: DocType) -> &str {
        let codes = &self.numbering.type_codes;
        match doc_type {
            DocType::Record => &codes.record,
            DocType::Order => &codes.order,
            DocType::Reinspection => &codes.reinspection,
        }
    }

    /// Writes a document number in the agency's pattern.
    pub fn format_number(&self, doc_type: DocType, year: i32, serial: u32) -> String {
        let width = self.numbering.serial_width;
        self.numbering
            .pattern
            .replace("{short}", &self.short_name)
            .replace("{type}", self.type_code(doc_type))
            .replace("{year}", &year.to_string())
            .replace("{serial}", &format!("{serial:0width$}"))
    }

    /// Reads a document number written in the agency's pattern back into its parts.
    pub fn parse_number(&self, number: &str) -> Option<(DocType, i32, u32)> {
        let mut rest = number.trim();
        let mut pattern = self.numbering.pattern.as_str();
        let (mut doc_type, mut year, mut serial) = (None, None, None);
        while !pattern.is_empty() {
            let token = TOKENS.iter().find(|t| pattern.starts_with(**t));
            match token {
                Some(&"{short}") => rest = rest.strip_prefix(self.short_name.as_str())?,
                Some(&"{type}") => {
                    let found = DocType::ALL
                        .into_iter()
                        .find(|t| rest.starts_with(self.type_code(*t)))?;
                    rest = &rest[self.type_code(found).len()..];
                    doc_type = Some(found);
                }
                Some(&"{year}") | Some(&"{serial}") => {
                    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                    if digits == 0 {
                        return None;
                    }
                    let value = &rest[..digits];
                    rest = &rest[digits..];
                    if token == Some(&"{year}") {
                        year = Some(value.parse().ok()?);
                    } else {
                        serial = Some(value.parse().ok()?);
                    }
                }
                _ => {
                    let literal = pattern.chars().next()?;
                    rest = rest.strip_prefix(literal)?;
                    pattern = &pattern[literal.len_utf8()..];
                    continue;
                }
            }
            pattern = &pattern[token.map_or(0, |t| t.len())..];
        }
        if !rest.is_empty() {
            return None;
        }
        Some((doc_type?, year?, serial?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../templates/agency.example.toml");

    fn example() -> Agency {
        Agency::parse("agency.example.toml", EXAMPLE).unwrap()
    }

    #[test]
    fn the_example_configuration_parses() {
        let agency = example();
        assert!(agency.name.ends_with("局"), "{}", agency.name);
        assert_eq!(agency.type_code(DocType::Order), "责改");
        assert!(!agency.remedy.court.is_empty());
    }

    #[test]
    fn numbers_follow_the_pattern_and_read_back() {
        let agency = example();
        let number = agency.format_number(DocType::Order, 2026, 12);
        assert_eq!(number, "(淄)安监责改〔2026〕0012号");
        assert_eq!(
            agency.parse_number(&number),
            Some((DocType::Order, 2026, 12))
        );
        assert_eq!(
            agency.parse_number("(淄)安监复查〔2027〕10001号"),
            Some((DocType::Reinspection, 2027, 10001))
        );
        for bad in [
            "(鲁)安监责改〔2026〕0012号",
            "(淄)安监责改〔2026〕号",
            "(淄)安监责改〔2026〕0012",
            "",
        ] {
            assert_eq!(agency.parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_post_2018_style_is_configuration_too() {
        let text = EXAMPLE.replace(
            "({short})安监{type}〔{year}〕{serial}号",
            "({short})应急字{type}[{year}]({serial})号",
        );
        let agency = Agency::parse("a.toml", &text).unwrap();
        let number = agency.format_number(DocType::Record, 2019, 7);
        assert_eq!(number, "(淄)应急字检记[2019](0007)号");
        assert_eq!(
            agency.parse_number(&number),
            Some((DocType::Record, 2019, 7))
        );
    }

    #[test]
    fn missing_or_inconsistent_settings_are_named() {
        let err = Agency::parse("a.toml", "name = \"某局\"").unwrap_err();
        assert!(err.to_string().contains("a.toml"), "{err}");
        let no_serial = EXAMPLE.replace("〔{year}〕{serial}号", "〔{year}〕号");
        let err = Agency::parse("a.toml", &no_serial).unwrap_err();
        assert!(err.to_string().contains("{serial}"), "{err}");
        let same_codes = EXAMPLE.replace("order = \"责改\"", "order = \"检记\"");
        assert!(Agency::parse("a.toml", &same_codes).is_err());
    }
}
