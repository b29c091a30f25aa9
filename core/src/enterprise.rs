//! Enterprises under supervision: the unified social credit code (GB 32100-2015) and the
//! enterprise register's CSV format, shared by the field command and the server.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::{Lines, text_problem};

/// The 31 characters of GB 32100-2015 in value order (no I, O, Z, S, V).
const CREDIT_CODE_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weight of position i is 3^i mod 31.
const CREDIT_CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Industries the checklists are written for. `通用` templates apply to every one of them.
pub const INDUSTRIES: &[&str] = &["危险化学品", "非煤矿山", "工贸", "冶金"];
pub const ANY_INDUSTRY: &str = "通用";

/// A validated unified social credit code (统一社会信用代码).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses and validates a code: 18 characters of the GB 32100 alphabet, an administrative
    /// division code of six digits in positions 3–8, and the check character in position 18.
    /// Lower-case letters and surrounding spaces are accepted and normalised.
    pub fn parse(input: &str) -> Result<Self> {
        let code = input.trim().to_ascii_uppercase();
        let invalid = |reason: String| Error::InvalidCreditCode {
            code: input.trim().to_string(),
            reason,
        };
        if code.chars().count() != 18 {
            return Err(invalid(format!(
                "应为 18 位，实为 {} 位",
                code.chars().count()
            )));
        }
        let mut values = [0u32; 18];
        for (i, byte) in code.bytes().enumerate() {
            values[i] = CREDIT_CODE_ALPHABET
                .iter()
                .position(|&c| c == byte)
                .ok_or_else(|| {
                    invalid(format!(
                        "第 {} 位字符 {:?} 不在代码字符集中",
                        i + 1,
                        byte as char
                    ))
                })? as u32;
        }
        if !code.as_bytes()[2..8].iter().all(u8::is_ascii_digit) {
            return Err(invalid("第 3–8 位行政区划码应为数字".into()));
        }
        let expected = check_character(&values[..17]);
        let found = code.as_bytes()[17] as char;
        if expected != found {
            return Err(invalid(format!("校验码应为 {expected}，实为 {found}")));
        }
        Ok(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check character for the first 17 values (GB 32100-2015, 5.3).
fn check_character(values: &[u32]) -> char {
    let sum: u32 = values
        .iter()
        .zip(CREDIT_CODE_WEIGHTS)
        .map(|(value, weight)| value * weight)
        .sum();
    let check = (31 - sum % 31) % 31;
    CREDIT_CODE_ALPHABET[check as usize] as char
}

impl TryFrom<String> for CreditCode {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        CreditCode::parse(&value)
    }
}

impl From<CreditCode> for String {
    fn from(code: CreditCode) -> String {
        code.0
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An enterprise as the register lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    pub credit_code: CreditCode,
    pub name: String,
    pub address: String,
    pub industry: String,
    /// Administrative division code: 6 digits (county), 9 (town/street) or 12 (village).
    pub region_code: String,
    pub legal_representative: String,
    pub phone: String,
}

/// The register's CSV header, in this order.
pub const CSV_HEADER: [&str; 7] = [
    "统一社会信用代码",
    "单位名称",
    "地址",
    "行业",
    "区划代码",
    "法定代表人",
    "联系电话",
];

/// Parses a whole register file. All rows are validated before anything is returned, so a file
/// with one bad row yields an error naming that row's line and no enterprise at all.
pub fn parse_enterprise_csv(file_label: &str, bytes: &[u8]) -> Result<Vec<Enterprise>> {
    let csv_error = |problem: String| Error::InvalidCsv {
        file: file_label.to_string(),
        problem,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| {
        csv_error("不是 UTF-8 编码：请在表格软件中另存为“CSV UTF-8”后再导入".into())
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| csv_error(format!("表头无法读取：{e}")))?
        .clone();
    if header.iter().collect::<Vec<_>>() != CSV_HEADER {
        return Err(csv_error(format!(
            "表头应为 {}，实为 {}",
            CSV_HEADER.join(","),
            header.iter().collect::<Vec<_>>().join(",")
        )));
    }

    let mut enterprises: Vec<Enterprise> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            Error::InvalidCsvRow {
                file: file_label.to_string(),
                line,
                problem: format!("格式错误：{e}"),
            }
        })?;
        let line = row.position().map_or(0, csv::Position::line);
        let row_error = |problem: String| Error::InvalidCsvRow {
            file: file_label.to_string(),
            line,
            problem,
        };
        if row.iter().all(str::is_empty) {
            continue;
        }
        let field = |i: usize| row.get(i).unwrap_or("").to_string();
        let credit_code = CreditCode::parse(&field(0)).map_err(|e| row_error(e.to_string()))?;
        let enterprise = Enterprise {
            credit_code,
            name: field(1),
            address: field(2),
            industry: field(3),
            region_code: field(4),
            legal_representative: field(5),
            phone: field(6),
        };
        validate_enterprise(&enterprise).map_err(row_error)?;
        if let Some(first_line) = seen.insert(enterprise.credit_code.clone(), line) {
            return Err(row_error(format!(
                "统一社会信用代码 {} 与第 {first_line} 行重复",
                enterprise.credit_code
            )));
        }
        enterprises.push(enterprise);
    }
    if enterprises.is_empty() {
        return Err(csv_error("没有任何企业数据".into()));
    }
    Ok(enterprises)
}

/// Field rules beyond the credit code; the message names the field.
pub fn validate_enterprise(enterprise: &Enterprise) -> std::result::Result<(), String> {
    if enterprise.name.is_empty() {
        return Err("单位名称为空".into());
    }
    if enterprise.address.is_empty() {
        return Err("地址为空".into());
    }
    for (field, text) in [
        ("单位名称", &enterprise.name),
        ("地址", &enterprise.address),
        ("法定代表人", &enterprise.legal_representative),
    ] {
        if let Some(problem) = text_problem(text, Lines::One) {
            return Err(format!("{field}{problem}"));
        }
    }
    if !INDUSTRIES.contains(&enterprise.industry.as_str()) {
        return Err(format!(
            "行业 {:?} 不在 {} 之中",
            enterprise.industry,
            INDUSTRIES.join("、")
        ));
    }
    let region = &enterprise.region_code;
    if ![6, 9, 12].contains(&region.len()) || !region.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("区划代码 {region:?} 应为 6、9 或 12 位数字"));
    }
    if enterprise.legal_representative.is_empty() {
        return Err("法定代表人为空".into());
    }
    let phone = &enterprise.phone;
    let phone_ok = (7..=20).contains(&phone.len())
        && phone
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-+ ()".contains(&b));
    if !phone_ok {
        return Err(format!("联系电话 {phone:?} 无效"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Codes of real, publicly registered companies.
    const REAL_CODES: [&str; 3] = [
        "914403001922038216",
        "9144030071526726XG",
        "91110000802100433B",
    ];

    #[test]
    fn real_credit_codes_pass_their_check_character() {
        for code in REAL_CODES {
            assert_eq!(CreditCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn a_changed_character_breaks_the_check() {
        let err = CreditCode::parse("914403001922038217").unwrap_err();
        assert!(err.to_string().contains("校验码应为 6"), "{err}");
    }

    #[test]
    fn excluded_letters_and_wrong_lengths_are_refused() {
        assert!(CreditCode::parse("9144030071526726XI").is_err());
        assert!(CreditCode::parse("91440300715267").is_err());
        assert!(CreditCode::parse("").is_err());
        // Letters in the division-code part.
        assert!(CreditCode::parse("91A4030071526726XG").is_err());
    }

    #[test]
    fn lower_case_and_spaces_are_normalised() {
        let code = CreditCode::parse(" 9144030071526726xg ").unwrap();
        assert_eq!(code.as_str(), "9144030071526726XG");
    }

    #[test]
    fn every_check_value_round_trips() {
        // Vary one digit of the body; each variant has exactly one valid check character.
        for digit in 0..10u8 {
            let body = format!("91440300{digit}15267260");
            let values: Vec<u32> = body
                .bytes()
                .map(|b| CREDIT_CODE_ALPHABET.iter().position(|&c| c == b).unwrap() as u32)
                .collect();
            let code = format!("{body}{}", check_character(&values));
            assert!(CreditCode::parse(&code).is_ok(), "{code}");
        }
    }

    fn csv(rows: &[&str]) -> Vec<u8> {
        let mut text = CSV_HEADER.join(",");
        for row in rows {
            text.push('\n');
            text.push_str(row);
        }
        text.into_bytes()
    }

    #[test]
    fn a_register_with_a_bom_parses() {
        let mut bytes = "\u{feff}".as_bytes().to_vec();
        bytes.extend(csv(&[
            "914403001922038216,华为技术有限公司,深圳市龙岗区坂田华为基地,工贸,440307,赵明路,0755-28780808",
        ]));
        let enterprises = parse_enterprise_csv("e.csv", &bytes).unwrap();
        assert_eq!(enterprises.len(), 1);
        assert_eq!(enterprises[0].industry, "工贸");
    }

    #[test]
    fn a_bad_row_is_named_by_its_line() {
        let bytes = csv(&[
            "914403001922038216,华为技术有限公司,深圳市龙岗区,工贸,440307,赵明路,0755-28780808",
            "9144030071526726XG,腾讯,深圳市南山区,互联网,440305,马化腾,0755-86013388",
        ]);
        let err = parse_enterprise_csv("e.csv", &bytes).unwrap_err();
        match err {
            Error::InvalidCsvRow { line, problem, .. } => {
                assert_eq!(line, 3);
                assert!(problem.contains("行业"), "{problem}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn duplicate_codes_and_wrong_headers_are_refused() {
        let row = "914403001922038216,华为,深圳,工贸,440307,赵明路,0755-28780808";
        let err = parse_enterprise_csv("e.csv", &csv(&[row, row])).unwrap_err();
        assert!(err.to_string().contains("与第 2 行重复"), "{err}");
        let err = parse_enterprise_csv("e.csv", "代码,名称\n1,2".as_bytes()).unwrap_err();
        assert!(matches!(err, Error::InvalidCsv { .. }));
        let gbk = [0xb5u8, 0xa5, 0xce, 0xbb];
        let err = parse_enterprise_csv("e.csv", &gbk).unwrap_err();
        assert!(err.to_string().contains("UTF-8"));
    }

    #[test]
    fn names_with_control_characters_or_characters_outside_the_font_are_refused() {
        for (name, shown) in [
            ("华为\u{0}技术", "U+0000"),
            ("华为\u{1b}技术", "U+001B"),
            ("华为😀技术", "“😀”（U+1F600）"),
            ("𠀀华为", "“𠀀”（U+20000）"),
        ] {
            let row =
                format!("914403001922038216,\"{name}\",深圳,工贸,440307,赵明路,0755-28780808");
            let err = parse_enterprise_csv("e.csv", &csv(&[&row])).unwrap_err();
            let message = err.to_string();
            assert!(message.contains("第 2 行"), "{message}");
            assert!(message.contains("单位名称"), "{message}");
            assert!(message.contains(shown), "{message}");
        }
        let row = "914403001922038216,华为,深圳,工贸,440307,\"赵\n明路\",0755-28780808";
        let err = parse_enterprise_csv("e.csv", &csv(&[row])).unwrap_err();
        assert!(err.to_string().contains("法定代表人含有换行"), "{err}");
    }
}
