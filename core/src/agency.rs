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
    /// Zero-padding of the serial. 0, the default: none (GB/T 9704-2012 §7.2.5, 不编虚位).
    #[serde(default)]
    pub serial_width: usize,
    pub type_codes: TypeCodes,
}

/// Where an order may be challenged, as its remedy sentence names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remedy {
    /// The 复议机关: the people's government at the agency's level (行政复议法 as revised, in
    /// force 2024-01-01), or two bodies only where an agency sets both explicitly.
    pub review_bodies: Vec<String>,
    pub court: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRemedy {
    #[serde(default)]
    review_bodies: Vec<String>,
    /// Before 2024: 本级人民政府 or 上一级主管部门. Read only to say what changed.
    review_government: Option<String>,
    review_department: Option<String>,
    court: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Footer {
    /// The body named in 本文书一式两份：一份由<filing_body>备案…; the agency itself by default.
    pub filing_body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agency {
    /// Full name, as in 我们是<机关名称>行政执法人员….
    pub name: String,
    /// The short name used in document numbers, e.g. 淄 in （淄）应急责改〔2026〕12号.
    pub short_name: String,
    /// The agency's administrative division code.
    pub region_code: String,
    pub numbering: Numbering,
    pub remedy: Remedy,
    pub footer: Footer,
    /// The `https://` address under which anyone can check a document's QR code
    /// (`<address>/v/<record id>?h=<hash>`); without it the documents carry no QR code.
    pub public_address: Option<String>,
    /// A PNG of the agency's seal for electronic copies, relative to the configuration file.
    pub seal: Option<String>,
    /// What this file still says in an older form, and how it was read: for whoever loads it.
    #[serde(skip)]
    pub notices: Vec<String>,
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
    remedy: RawRemedy,
    footer: Option<Footer>,
    public_address: Option<String>,
    seal: Option<String>,
}

const TOKENS: [&str; 4] = ["{short}", "{type}", "{year}", "{serial}"];

impl Agency {
    /// Reads a configuration. A file in the pre-2024 form (two review authorities in
    /// `review_government`/`review_department`) still loads, naming the people's government
    /// only, with a notice in [`Agency::notices`] that says what changed and which key to set.
    pub fn parse(file: &str, text: &str) -> Result<Agency> {
        let invalid = |problem: String| Error::InvalidInput(format!("机关配置 {file}：{problem}"));
        let raw: RawAgency = toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
        let mut notices = Vec::new();
        let mut review_bodies: Vec<String> = raw
            .remedy
            .review_bodies
            .iter()
            .map(|b| b.trim().to_string())
            .collect();
        match (&raw.remedy.review_government, review_bodies.is_empty()) {
            (Some(_), false) => {
                return Err(invalid(
                    "remedy.review_bodies 与旧的 remedy.review_government 不能同时设置：请删除 review_government 和 review_department".into(),
                ));
            }
            (Some(government), true) => {
                review_bodies.push(government.trim().to_string());
                let department = raw.remedy.review_department.as_deref().unwrap_or("").trim();
                notices.push(format!(
                    "机关配置 {file}：remedy.review_government/review_department 是旧写法。修订后的《行政复议法》（2024年1月1日起施行）规定县级以上地方人民政府工作部门的行政行为由本级人民政府管辖复议，文书只写“向{}申请行政复议”{}；请改为 remedy.review_bodies = [\"{}\"]",
                    government.trim(),
                    if department.is_empty() {
                        String::new()
                    } else {
                        format!("，不再写“或者{department}”")
                    },
                    government.trim()
                ));
            }
            (None, _) if raw.remedy.review_department.is_some() => {
                return Err(invalid(
                    "remedy.review_department 已不再使用：请用 remedy.review_bodies 列出复议机关"
                        .into(),
                ));
            }
            (None, _) => {}
        }
        if review_bodies.is_empty() || review_bodies.len() > 2 {
            return Err(invalid(
                "remedy.review_bodies 应列出一个复议机关（本级人民政府），依法可由两个机关复议时才列两个"
                    .into(),
            ));
        }
        if review_bodies.iter().any(String::is_empty)
            || (review_bodies.len() == 2 && review_bodies[0] == review_bodies[1])
        {
            return Err(invalid(
                "remedy.review_bodies 中的复议机关不能为空或重复".into(),
            ));
        }
        for (field, value) in [
            ("name", &raw.name),
            ("short_name", &raw.short_name),
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
        if numbering.serial_width > 8 {
            return Err(invalid("numbering.serial_width 应在 0 到 8 之间".into()));
        }
        if numbering.serial_width > 1 {
            notices.push(format!(
                "机关配置 {file}：numbering.serial_width = {} 使序号补零（如 0012）；GB/T 9704-2012 要求不编虚位（12），如无特别要求请删除此项",
                numbering.serial_width
            ));
        }
        if numbering.pattern.contains("({short})") {
            notices.push(format!(
                "机关配置 {file}：numbering.pattern 中地方简称用的是半角括号，公文应为全角括号：（{{short}}）"
            ));
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
        let public_address = match raw.public_address.as_deref().map(str::trim) {
            None | Some("") => {
                notices.push(format!(
                    "机关配置 {file}：未设置 public_address（文书核验地址，如 https://aqjg.example.gov.cn），文书上不印核验二维码"
                ));
                None
            }
            Some(address) => {
                let host = address.strip_prefix("https://").unwrap_or("");
                if host.is_empty() || host.contains(['?', '#', ' ']) {
                    return Err(invalid(format!(
                        "public_address {address:?} 应为 https:// 开头的网址，如 https://aqjg.example.gov.cn"
                    )));
                }
                Some(address.trim_end_matches('/').to_string())
            }
        };
        let name = raw.name.trim().to_string();
        let footer = match raw.footer {
            Some(footer) if footer.filing_body.trim().is_empty() => {
                return Err(invalid("footer.filing_body 不能为空".into()));
            }
            Some(footer) => Footer {
                filing_body: footer.filing_body.trim().to_string(),
            },
            None => Footer {
                filing_body: name.clone(),
            },
        };
        Ok(Agency {
            name,
            short_name: raw.short_name.trim().to_string(),
            region_code: region.to_string(),
            numbering: raw.numbering,
            remedy: Remedy {
                review_bodies,
                court: raw.remedy.court.trim().to_string(),
            },
            footer,
            public_address,
            seal: raw.seal.filter(|s| !s.trim().is_empty()),
            notices,
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

    /// The agency file as shipped before 2024-law support: two review authorities, padded serials.
    const PRE_2024: &str = include_str!("../tests/fixtures/agency-pre-2024.toml");

    #[test]
    fn the_example_configuration_is_a_bureau_under_the_2024_law() {
        let agency = example();
        assert!(agency.name.ends_with("应急管理局"), "{}", agency.name);
        assert_eq!(agency.type_code(DocType::Order), "责改");
        assert_eq!(agency.remedy.review_bodies, ["淄博市人民政府"]);
        assert!(!agency.remedy.court.is_empty());
        assert_eq!(agency.footer.filing_body, "淄博市应急管理局");
        assert_eq!(agency.notices, Vec::<String>::new());
        assert_eq!(
            agency.public_address.as_deref(),
            Some("https://aqjg.example.gov.cn")
        );
    }

    #[test]
    fn numbers_are_unpadded_in_full_width_brackets_and_read_back() {
        let agency = example();
        let number = agency.format_number(DocType::Order, 2026, 12);
        assert_eq!(number, "（淄）应急责改〔2026〕12号");
        assert_eq!(
            agency.parse_number(&number),
            Some((DocType::Order, 2026, 12))
        );
        assert_eq!(
            agency.format_number(DocType::Record, 2026, 1),
            "（淄）应急检记〔2026〕1号"
        );
        assert_eq!(
            agency.parse_number("（淄）应急复查〔2027〕10001号"),
            Some((DocType::Reinspection, 2027, 10001))
        );
        for bad in [
            "（鲁）应急责改〔2026〕12号",
            "（淄）应急责改〔2026〕号",
            "（淄）应急责改〔2026〕12",
            "",
        ] {
            assert_eq!(agency.parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_pre_2024_configuration_loads_naming_the_government_only_and_says_what_changed() {
        let agency = Agency::parse("old.toml", PRE_2024).unwrap();
        assert_eq!(agency.remedy.review_bodies, ["淄博市人民政府"]);
        let notices = agency.notices.join("\n");
        for expected in [
            "old.toml",
            "2024年1月1日",
            "不再写“或者山东省应急管理厅”",
            "remedy.review_bodies",
            "serial_width",
            "全角括号",
            "public_address",
        ] {
            assert!(notices.contains(expected), "{expected}: {notices}");
        }
        // An agency's explicit padding is kept, so its numbering does not change mid-year.
        assert_eq!(
            agency.format_number(DocType::Order, 2026, 12),
            "(淄)安监责改〔2026〕0012号"
        );
        // The footer's filing body defaults to the agency.
        assert_eq!(agency.footer.filing_body, "淄博市应急管理局");
    }

    #[test]
    fn review_bodies_are_one_or_two_set_explicitly() {
        let two = EXAMPLE.replace(
            r#"review_bodies = ["淄博市人民政府"]"#,
            r#"review_bodies = ["某市人民政府", "某省某局"]"#,
        );
        let agency = Agency::parse("a.toml", &two).unwrap();
        assert_eq!(agency.remedy.review_bodies.len(), 2);
        for (bad, key) in [
            (r#"review_bodies = []"#, "remedy.review_bodies"),
            (
                r#"review_bodies = ["甲", "乙", "丙"]"#,
                "remedy.review_bodies",
            ),
            (r#"review_bodies = ["甲", "甲"]"#, "重复"),
            (
                r#"review_bodies = ["甲"]
review_government = "乙""#,
                "review_government",
            ),
            (r#"review_department = "乙""#, "review_department"),
        ] {
            let text = EXAMPLE.replace(r#"review_bodies = ["淄博市人民政府"]"#, bad);
            let err = Agency::parse("a.toml", &text).unwrap_err().to_string();
            assert!(err.contains("a.toml") && err.contains(key), "{bad}: {err}");
        }
        let not_https = EXAMPLE.replace("https://aqjg", "http://aqjg");
        let err = Agency::parse("a.toml", &not_https).unwrap_err().to_string();
        assert!(err.contains("public_address"), "{err}");
    }

    #[test]
    fn the_post_2018_style_is_configuration_too() {
        let text = EXAMPLE.replace(
            "（{short}）应急{type}〔{year}〕{serial}号",
            "({short})应急字{type}[{year}]({serial})号",
        );
        let agency = Agency::parse("a.toml", &text).unwrap();
        let number = agency.format_number(DocType::Record, 2019, 7);
        assert_eq!(number, "(淄)应急字检记[2019](7)号");
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
