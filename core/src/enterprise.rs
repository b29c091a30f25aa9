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

/// The industry whose enterprises 应急管理部令第10号 (工贸企业重大事故隐患判定标准) covers.
pub const TRADE_INDUSTRY: &str = "工贸";
/// The 细分行业 of 工贸 enterprises named by 10号令 第二条; its 第四–十条 judge 冶金 to 烟草
/// each by its own items (商贸 has none of its own: the general and special items only).
pub const TRADE_SECTORS: &[&str] = &[
    "冶金", "有色", "建材", "机械", "轻工", "纺织", "烟草", "商贸",
];
/// The special operations of 10号令 第十一–十三条, judged wherever an enterprise carries them out.
pub const SPECIAL_OPERATIONS: &[&str] = &["粉尘涉爆", "液氨制冷", "有限空间作业"];
/// What the register writes for an enterprise with none of the special operations.
pub const NO_SPECIAL_OPERATIONS: &str = "无";

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
    /// The 细分行业 of a 工贸 enterprise (one of [`TRADE_SECTORS`]); `None`: the register does
    /// not say, and every sector's items are shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// The special operations it carries out (of [`SPECIAL_OPERATIONS`]; empty: none);
    /// `None`: the register does not say, and every special item is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_operations: Option<Vec<String>>,
}

impl Enterprise {
    /// The special operations as the register's cell writes them: `粉尘涉爆、有限空间作业`,
    /// `无` for none, empty when unknown.
    pub fn special_operations_cell(&self) -> String {
        match &self.special_operations {
            None => String::new(),
            Some(list) if list.is_empty() => NO_SPECIAL_OPERATIONS.to_string(),
            Some(list) => list.join("、"),
        }
    }

    /// The special operations as a store's column keeps them: the register's cell, `NULL`
    /// (`None`) when the register does not say.
    pub fn special_operations_column(&self) -> Option<String> {
        self.special_operations
            .is_some()
            .then(|| self.special_operations_cell())
    }
}

/// Reads a register cell of special operations (`、`, `,`, `;` or `；` between names; `无`
/// for none; empty for unknown), refusing names that are not special operations.
pub fn parse_special_operations(cell: &str) -> std::result::Result<Option<Vec<String>>, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    if cell == NO_SPECIAL_OPERATIONS {
        return Ok(Some(Vec::new()));
    }
    let mut list: Vec<String> = Vec::new();
    for name in cell
        .split(['、', ',', ';', '；', '，'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if !SPECIAL_OPERATIONS.contains(&name) {
            return Err(format!(
                "专项作业 {name:?} 应为 {}，或写“{NO_SPECIAL_OPERATIONS}”",
                SPECIAL_OPERATIONS.join("、")
            ));
        }
        if !list.iter().any(|n| n == name) {
            list.push(name.to_string());
        }
    }
    // Stored in the order of SPECIAL_OPERATIONS so equal sets compare equal.
    list.sort_by_key(|name| SPECIAL_OPERATIONS.iter().position(|s| *s == name.as_str()));
    Ok(Some(list))
}

/// The SET clause of the stores' enterprise upsert for the two columns above, shared by the
/// device store and both server stores: a register that does not say (NULL) keeps what an
/// earlier one said, and an enterprise no longer 工贸 has neither.
pub const ENTERPRISE_SCOPE_ON_UPSERT: &str = "sector = CASE WHEN excluded.industry = '工贸'
        THEN COALESCE(excluded.sector, enterprises.sector) END,
    special_operations = CASE WHEN excluded.industry = '工贸'
        THEN COALESCE(excluded.special_operations, enterprises.special_operations) END";

/// The register's CSV header, in this order. The last two columns came with the 10号令
/// checklist; a register without them still imports, its enterprises' 细分行业 and special
/// operations unknown.
pub const CSV_HEADER: [&str; 9] = [
    "统一社会信用代码",
    "单位名称",
    "地址",
    "行业",
    "区划代码",
    "法定代表人",
    "联系电话",
    "细分行业",
    "专项作业",
];
/// The columns every register has.
const CSV_REQUIRED_COLUMNS: usize = 7;

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

    // Flexible: a spreadsheet may leave out a row's empty trailing cells; the count is
    // checked per row below.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| csv_error(format!("表头无法读取：{e}")))?
        .clone();
    let columns: Vec<&str> = header.iter().collect();
    let known =
        (CSV_REQUIRED_COLUMNS..=CSV_HEADER.len()).any(|n| columns.as_slice() == &CSV_HEADER[..n]);
    if !known {
        return Err(csv_error(format!(
            "表头应为 {}（最后两列可省略），实为 {}",
            CSV_HEADER.join(","),
            columns.join(",")
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
        if row.len() < CSV_REQUIRED_COLUMNS || row.len() > columns.len() {
            return Err(row_error(format!(
                "应有 {} 列，实有 {} 列",
                columns.len(),
                row.len()
            )));
        }
        let field = |i: usize| row.get(i).unwrap_or("").to_string();
        let credit_code = CreditCode::parse(&field(0)).map_err(|e| row_error(e.to_string()))?;
        let sector = Some(field(7)).filter(|s| !s.is_empty());
        let special_operations = parse_special_operations(&field(8)).map_err(row_error)?;
        let enterprise = Enterprise {
            credit_code,
            name: field(1),
            address: field(2),
            industry: field(3),
            region_code: field(4),
            legal_representative: field(5),
            phone: field(6),
            sector,
            special_operations,
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
    if let Some(sector) = &enterprise.sector {
        if enterprise.industry != TRADE_INDUSTRY {
            return Err(format!(
                "细分行业 {sector:?} 只适用于{TRADE_INDUSTRY}企业，行业为 {} 时应留空",
                enterprise.industry
            ));
        }
        if !TRADE_SECTORS.contains(&sector.as_str()) {
            return Err(format!(
                "细分行业 {sector:?} 应为 {} 之一",
                TRADE_SECTORS.join("、")
            ));
        }
    }
    if let Some(operations) = &enterprise.special_operations {
        if enterprise.industry != TRADE_INDUSTRY {
            return Err(format!(
                "专项作业只适用于{TRADE_INDUSTRY}企业，行业为 {} 时应留空",
                enterprise.industry
            ));
        }
        if let Some(unknown) = operations
            .iter()
            .find(|o| !SPECIAL_OPERATIONS.contains(&o.as_str()))
        {
            return Err(format!(
                "专项作业 {unknown:?} 应为 {}",
                SPECIAL_OPERATIONS.join("、")
            ));
        }
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

    /// A register as written before the 细分行业 and 专项作业 columns.
    fn old_csv(rows: &[&str]) -> Vec<u8> {
        let mut text = CSV_HEADER[..CSV_REQUIRED_COLUMNS].join(",");
        for row in rows {
            text.push('\n');
            text.push_str(row);
        }
        text.into_bytes()
    }

    #[test]
    fn a_register_without_the_sector_columns_still_imports_with_them_unknown() {
        let bytes = old_csv(&[
            "914403001922038216,华为技术有限公司,深圳市龙岗区,工贸,440307,赵明路,0755-28780808",
        ]);
        let enterprises = parse_enterprise_csv("old.csv", &bytes).unwrap();
        assert_eq!(enterprises[0].sector, None);
        assert_eq!(enterprises[0].special_operations, None);
    }

    #[test]
    fn the_sector_and_special_operations_columns_are_read_and_checked() {
        let bytes = csv(&[
            "914403001922038216,面粉公司,深圳市龙岗区,工贸,440307,赵明路,0755-28780808,轻工,有限空间作业、粉尘涉爆",
            "9144030071526726XG,商场,深圳市南山区,工贸,440305,马化腾,0755-86013388,商贸,无",
            "91110000802100433B,化工公司,北京市,危险化学品,110000,王五,010-12345678,,",
        ]);
        let enterprises = parse_enterprise_csv("e.csv", &bytes).unwrap();
        assert_eq!(enterprises[0].sector.as_deref(), Some("轻工"));
        // Kept in the order of SPECIAL_OPERATIONS, whatever the cell's order.
        assert_eq!(
            enterprises[0].special_operations,
            Some(vec!["粉尘涉爆".to_string(), "有限空间作业".to_string()])
        );
        assert_eq!(
            enterprises[0].special_operations_cell(),
            "粉尘涉爆、有限空间作业"
        );
        assert_eq!(enterprises[1].special_operations, Some(Vec::new()));
        assert_eq!(enterprises[1].special_operations_cell(), "无");
        assert_eq!(enterprises[2].sector, None);
        assert_eq!(enterprises[2].special_operations, None);

        for (row, expected) in [
            (
                "914403001922038216,甲,深圳,工贸,440307,赵明路,0755-28780808,化工,",
                "细分行业",
            ),
            (
                "914403001922038216,甲,深圳,危险化学品,440307,赵明路,0755-28780808,冶金,",
                "只适用于工贸企业",
            ),
            (
                "914403001922038216,甲,深圳,工贸,440307,赵明路,0755-28780808,机械,高处作业",
                "专项作业",
            ),
            (
                "914403001922038216,甲,深圳,非煤矿山,440307,赵明路,0755-28780808,,有限空间作业",
                "只适用于工贸企业",
            ),
        ] {
            let err = parse_enterprise_csv("e.csv", &csv(&[row])).unwrap_err();
            match err {
                Error::InvalidCsvRow { line, problem, .. } => {
                    assert_eq!(line, 2);
                    assert!(problem.contains(expected), "{row}: {problem}");
                }
                other => panic!("unexpected {other}"),
            }
        }
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
