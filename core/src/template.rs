//! Checklist templates: the TOML format of `templates/checklists/` (documented in
//! `templates/README.md`), its validation, and the lists shipped inside the binary.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::enterprise::{
    ANY_INDUSTRY, Enterprise, INDUSTRIES, SPECIAL_OPERATIONS, TRADE_INDUSTRY, TRADE_SECTORS,
};
use crate::error::{Error, Result};
use crate::text::{Lines, text_problem};

/// The checklists shipped with this build, as (file name, TOML text).
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    (
        "hazchem-enforcement.toml",
        include_str!("../../templates/checklists/hazchem-enforcement.toml"),
    ),
    (
        "mine-enforcement.toml",
        include_str!("../../templates/checklists/mine-enforcement.toml"),
    ),
    (
        "trade-enforcement.toml",
        include_str!("../../templates/checklists/trade-enforcement.toml"),
    ),
    (
        "self-monthly.toml",
        include_str!("../../templates/checklists/self-monthly.toml"),
    ),
    (
        "expert-general.toml",
        include_str!("../../templates/checklists/expert-general.toml"),
    ),
    (
        "resident-weekly.toml",
        include_str!("../../templates/checklists/resident-weekly.toml"),
    ),
];

/// Earlier versions of the shipped checklists, as (file name, TOML text). Records started on
/// them keep naming them, so every store and server learns them as well as the current ones: a
/// record exported from a tablet still on an older build, or kept in a store file whose
/// templates table lacks them, opens and can be answered anywhere. Kept byte for byte as shipped;
/// never edited (a change needs a new version of the current file).
pub const SUPERSEDED_TEMPLATES: &[(&str, &str)] = &[
    (
        "superseded/hazchem-enforcement.v1.toml",
        include_str!("../../templates/checklists/superseded/hazchem-enforcement.v1.toml"),
    ),
    (
        "superseded/mine-enforcement.v1.toml",
        include_str!("../../templates/checklists/superseded/mine-enforcement.v1.toml"),
    ),
    (
        "superseded/trade-enforcement.v1.toml",
        include_str!("../../templates/checklists/superseded/trade-enforcement.v1.toml"),
    ),
];

/// The hazard-class scales a template may use.
const CLASS_SCALES: [&[&str]; 2] = [&["重大", "一般"], &["A", "B", "C"]];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InspectionKind {
    /// 执法检查 by enforcement inspectors.
    Enforcement,
    /// 专家检查.
    Expert,
    /// 驻厂员 weekly inspection.
    Resident,
    /// 企业自查.
    #[serde(rename = "self")]
    SelfInspection,
}

impl InspectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InspectionKind::Enforcement => "enforcement",
            InspectionKind::Expert => "expert",
            InspectionKind::Resident => "resident",
            InspectionKind::SelfInspection => "self",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            InspectionKind::Enforcement,
            InspectionKind::Expert,
            InspectionKind::Resident,
            InspectionKind::SelfInspection,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            InspectionKind::Enforcement => "执法检查",
            InspectionKind::Expert => "专家检查",
            InspectionKind::Resident => "驻厂员检查",
            InspectionKind::SelfInspection => "企业自查",
        }
    }
}

/// How an item is answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AnswerKind {
    /// Pass, fail or not applicable.
    Check,
    /// A measured value, judged against inclusive bounds.
    Measure {
        unit: String,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Free text recorded by the inspector.
    Text,
}

impl AnswerKind {
    pub fn name(&self) -> &'static str {
        match self {
            AnswerKind::Check => "check",
            AnswerKind::Measure { .. } => "measure",
            AnswerKind::Text => "text",
        }
    }
}

/// The legal basis of an item for the inspections dated within a period. A law that replaces
/// another cites a different article for the same duty, and a document must cite the law in
/// force on the day of the inspection, so an item carries one basis per period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalBasis {
    /// First inspection day this basis applies to; `None`: every day before `effective_until`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<NaiveDate>,
    /// Last inspection day (inclusive) this basis applies to; `None`: no end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_until: Option<NaiveDate>,
    /// The citation: document, article, clause or item.
    pub text: String,
    /// Why a legal officer must check this citation before relying on it (for example article
    /// numbers of a new law not yet checked against the promulgated text); `None`: checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
}

impl LegalBasis {
    /// One basis for every inspection date.
    pub fn always(text: impl Into<String>) -> LegalBasis {
        LegalBasis {
            effective_from: None,
            effective_until: None,
            text: text.into(),
            review: None,
        }
    }

    pub fn applies_on(&self, date: NaiveDate) -> bool {
        self.effective_from.is_none_or(|from| from <= date)
            && self.effective_until.is_none_or(|until| date <= until)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub code: String,
    pub section: String,
    pub text: String,
    /// The finding written into the documents when the item fails.
    pub hazard: String,
    /// The legal basis per period of inspection dates, oldest first. Validation guarantees the
    /// periods cover every date exactly once; read it with [`Item::legal_basis_on`].
    pub legal_bases: Vec<LegalBasis>,
    /// The 细分行业 this item is judged for (工贸, 应急管理部令第10号 第四–十条); empty: all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<String>,
    /// The special operation this item is judged for (粉尘涉爆, 液氨制冷, 有限空间作业).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special: Option<String>,
    pub class: String,
    #[serde(flatten)]
    pub answer: AnswerKind,
    pub required: bool,
    pub guidance: String,
    /// The default rectification measure.
    pub measure: Option<String>,
}

impl Item {
    /// The legal basis in force for an inspection dated `date`.
    pub fn legal_basis_on(&self, date: NaiveDate) -> &LegalBasis {
        self.legal_bases
            .iter()
            .find(|basis| basis.applies_on(date))
            // Validation makes the periods cover every date; an item built in code has one
            // basis without dates. The newest basis is the answer should either not hold.
            .or(self.legal_bases.last())
            .expect("an item has at least one legal basis")
    }

    /// Whether the item is judged for this enterprise: an item of a 细分行业 or a special
    /// operation applies when the register says the enterprise is of that 细分行业 or carries
    /// out that operation, or does not say (a register without these columns shows every
    /// item, and the inspector answers 不适用 where it does not apply).
    pub fn applies_to(&self, enterprise: &Enterprise) -> bool {
        let sector_ok = self.sectors.is_empty()
            || enterprise
                .sector
                .as_deref()
                .is_none_or(|sector| self.sectors.iter().any(|s| s == sector));
        let special_ok = match (&self.special, &enterprise.special_operations) {
            (None, _) | (Some(_), None) => true,
            (Some(special), Some(operations)) => operations.contains(special),
        };
        sector_ok && special_ok
    }

    /// The requirement of a measured item in words, e.g. `≥ 30 m`.
    pub fn requirement(&self) -> Option<String> {
        match &self.answer {
            AnswerKind::Measure { unit, min, max } => Some(match (min, max) {
                (Some(min), Some(max)) => format!("{min}–{max} {unit}"),
                (Some(min), None) => format!("≥ {min} {unit}"),
                (None, Some(max)) => format!("≤ {max} {unit}"),
                (None, None) => unit.clone(),
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub industry: String,
    pub kind: InspectionKind,
    pub classes: Vec<String>,
    pub sources: Vec<String>,
    pub items: Vec<Item>,
    /// The TOML this template was parsed from, kept so that the store holds exactly what was
    /// shipped and a version can be compared byte for byte.
    #[serde(skip)]
    pub source_text: String,
}

impl Template {
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|item| item.code == code)
    }

    pub fn applies_to_industry(&self, industry: &str) -> bool {
        self.industry == ANY_INDUSTRY || self.industry == industry
    }

    /// Parses and validates a template. `file` names the source in error messages.
    pub fn parse(file: &str, text: &str) -> Result<Template> {
        let file_error = |problem: String| Error::InvalidTemplate {
            file: file.to_string(),
            problem,
        };
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| file_error(format!("不是有效的 TOML：{e}")))?;
        let raw_items = match table.remove("items") {
            Some(toml::Value::Array(items)) => items,
            Some(_) => return Err(file_error("items 应为 [[items]] 数组".into())),
            None => return Err(file_error("没有任何检查项（[[items]]）".into())),
        };
        let header = RawHeader::deserialize(toml::Value::Table(table))
            .map_err(|e| file_error(e.message().to_string()))?;

        let kind = InspectionKind::parse(&header.kind).ok_or_else(|| {
            file_error(format!(
                "kind {:?} 应为 enforcement、expert、resident 或 self",
                header.kind
            ))
        })?;
        check_id(&header.id).map_err(&file_error)?;
        if header.version == 0 {
            return Err(file_error("version 应为 ≥ 1 的整数".into()));
        }
        if header.industry != ANY_INDUSTRY && !INDUSTRIES.contains(&header.industry.as_str()) {
            return Err(file_error(format!(
                "industry {:?} 应为 {} 或 {ANY_INDUSTRY}",
                header.industry,
                INDUSTRIES.join("、")
            )));
        }
        if !CLASS_SCALES.iter().any(|scale| {
            scale
                .iter()
                .copied()
                .eq(header.classes.iter().map(String::as_str))
        }) {
            return Err(file_error(format!(
                "classes {:?} 应为 [\"重大\", \"一般\"] 或 [\"A\", \"B\", \"C\"]",
                header.classes
            )));
        }
        if header.title.trim().is_empty() {
            return Err(file_error("title 为空".into()));
        }
        if let Some(problem) = text_problem(&header.title, Lines::One) {
            return Err(file_error(format!("title {problem}")));
        }
        if header.sources.is_empty() || header.sources.iter().any(|s| s.trim().is_empty()) {
            return Err(file_error("sources 应列出检查表所依据的文件".into()));
        }

        let mut items = Vec::with_capacity(raw_items.len());
        let mut codes = HashSet::new();
        for (index, raw) in raw_items.into_iter().enumerate() {
            let label = raw
                .get("code")
                .and_then(toml::Value::as_str)
                .map_or_else(|| format!("第 {} 项", index + 1), str::to_string);
            let item_error = |problem: String| Error::InvalidTemplateItem {
                file: file.to_string(),
                item: label.clone(),
                problem,
            };
            let raw = RawItem::deserialize(raw).map_err(|e| item_error(e.message().to_string()))?;
            let item = raw.validate(&header.classes).map_err(&item_error)?;
            if (!item.sectors.is_empty() || item.special.is_some())
                && header.industry != TRADE_INDUSTRY
            {
                return Err(item_error(format!(
                    "sectors 和 special 只用于行业为 {TRADE_INDUSTRY} 的检查表"
                )));
            }
            if !codes.insert(item.code.clone()) {
                return Err(item_error("编码重复".into()));
            }
            items.push(item);
        }
        if items.is_empty() {
            return Err(file_error("没有任何检查项（[[items]]）".into()));
        }

        Ok(Template {
            id: header.id,
            version: header.version,
            title: header.title,
            industry: header.industry,
            kind,
            classes: header.classes,
            sources: header.sources,
            items,
            source_text: text.to_string(),
        })
    }

    /// The templates shipped in this build, parsed. A shipped file that does not validate is a
    /// build defect, caught by this crate's tests; at run time it is reported like any other.
    pub fn builtin() -> Result<Vec<Template>> {
        BUILTIN_TEMPLATES
            .iter()
            .map(|(file, text)| Template::parse(file, text))
            .collect()
    }

    /// The earlier versions of shipped lists ([`SUPERSEDED_TEMPLATES`]), parsed.
    pub fn superseded() -> Result<Vec<Template>> {
        SUPERSEDED_TEMPLATES
            .iter()
            .map(|(file, text)| Template::parse(file, text))
            .collect()
    }
}

fn check_id(id: &str) -> std::result::Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("id {id:?} 只能由小写字母、数字和 - 组成"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: String,
    version: u32,
    title: String,
    industry: String,
    kind: String,
    classes: Vec<String>,
    sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    code: String,
    section: String,
    text: String,
    hazard: String,
    legal_basis: Option<String>,
    legal_bases: Option<Vec<RawLegalBasis>>,
    sectors: Option<Vec<String>>,
    special: Option<String>,
    class: String,
    kind: String,
    required: bool,
    guidance: String,
    measure: Option<String>,
    unit: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLegalBasis {
    effective_from: Option<String>,
    effective_until: Option<String>,
    text: String,
    review: Option<String>,
}

/// Validates an item's legal bases: `legal_basis` for one basis on every date, or
/// `[[items.legal_bases]]` for bases by period. The periods must follow one another without a
/// gap or an overlap from the first (open start) to the last (open end), so every inspection
/// date has exactly one basis.
fn validate_legal_bases(
    single: Option<String>,
    dated: Option<Vec<RawLegalBasis>>,
) -> std::result::Result<Vec<LegalBasis>, String> {
    let raw = match (single, dated) {
        (Some(text), None) => vec![RawLegalBasis {
            effective_from: None,
            effective_until: None,
            text,
            review: None,
        }],
        (None, Some(list)) if !list.is_empty() => list,
        (None, Some(_)) | (None, None) => {
            return Err("legal_basis 为空：应写 legal_basis 或 [[items.legal_bases]]".into());
        }
        (Some(_), Some(_)) => {
            return Err("legal_basis 与 legal_bases 只能写其一".into());
        }
    };
    let count = raw.len();
    let mut bases: Vec<LegalBasis> = Vec::with_capacity(count);
    for (index, raw) in raw.into_iter().enumerate() {
        let label = format!("legal_bases 第 {} 条", index + 1);
        let date = |name: &str, value: Option<String>| {
            value
                .map(|text| crate::time::parse_date(name, &text))
                .transpose()
                .map_err(|problem| format!("{label}：{problem}"))
        };
        let basis = LegalBasis {
            effective_from: date("effective_from", raw.effective_from)?,
            effective_until: date("effective_until", raw.effective_until)?,
            text: raw.text,
            review: raw.review,
        };
        if basis.text.trim().is_empty() {
            return Err(format!("legal_basis 为空（{label}）"));
        }
        if let Some(problem) = text_problem(&basis.text, Lines::Many) {
            return Err(format!("legal_basis {problem}（{label}）"));
        }
        if !cites_a_provision(&basis.text) {
            return Err(format!(
                "legal_basis {:?} 应写明法规或标准及其条、款、项或条款号",
                basis.text
            ));
        }
        if basis.review.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(format!("{label}：review 为空（无需复核时请删去此行）"));
        }
        if let (Some(from), Some(until)) = (basis.effective_from, basis.effective_until)
            && from > until
        {
            return Err(format!(
                "{label}：effective_from {from} 晚于 effective_until {until}"
            ));
        }
        if index == 0 && basis.effective_from.is_some() {
            return Err(format!(
                "{label}：第一条不应有 effective_from，否则此前日期的检查没有依据"
            ));
        }
        if index + 1 == count && basis.effective_until.is_some() {
            return Err(format!(
                "{label}：最后一条不应有 effective_until，否则此后日期的检查没有依据"
            ));
        }
        if let Some(previous) = bases.last() {
            let Some(until) = previous.effective_until else {
                return Err(format!("legal_bases 第 {index} 条缺少 effective_until"));
            };
            let next_day = until.succ_opt().ok_or("effective_until 超出日期范围")?;
            match basis.effective_from {
                Some(from) if from == next_day => {}
                Some(from) if from <= until => {
                    return Err(format!(
                        "{label}：effective_from {from} 与前一条（至 {until}）重叠"
                    ));
                }
                Some(from) => {
                    return Err(format!(
                        "{label}：effective_from {from} 与前一条（至 {until}）之间有空档，应为 {next_day}"
                    ));
                }
                None => return Err(format!("{label}：缺少 effective_from（应为 {next_day}）")),
            }
        }
        bases.push(basis);
    }
    Ok(bases)
}

impl RawItem {
    fn validate(self, classes: &[String]) -> std::result::Result<Item, String> {
        if !is_item_code(&self.code) {
            return Err("编码应为 2–4 个大写字母、-、3 位数字，如 HC-001".into());
        }
        for (name, value) in [
            ("section", &self.section),
            ("text", &self.text),
            ("hazard", &self.hazard),
            ("guidance", &self.guidance),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{name} 为空"));
            }
        }
        if self.measure.as_deref().is_some_and(|m| m.trim().is_empty()) {
            return Err("measure 为空（不需要时请删去此行）".into());
        }
        // These words go into the issued documents, which must render.
        for (name, value) in [
            ("section", Some(&self.section)),
            ("text", Some(&self.text)),
            ("hazard", Some(&self.hazard)),
            ("guidance", Some(&self.guidance)),
            ("measure", self.measure.as_ref()),
            ("unit", self.unit.as_ref()),
        ] {
            if let Some(problem) = value.and_then(|v| text_problem(v, Lines::Many)) {
                return Err(format!("{name} {problem}"));
            }
        }
        let legal_bases = validate_legal_bases(self.legal_basis, self.legal_bases)?;
        let sectors = self.sectors.unwrap_or_default();
        if let Some(unknown) = sectors
            .iter()
            .find(|s| !TRADE_SECTORS.contains(&s.as_str()))
        {
            return Err(format!(
                "sectors 中的 {unknown:?} 不是细分行业（{}）",
                TRADE_SECTORS.join("、")
            ));
        }
        if let Some(special) = &self.special
            && !SPECIAL_OPERATIONS.contains(&special.as_str())
        {
            return Err(format!(
                "special {special:?} 应为 {}",
                SPECIAL_OPERATIONS.join("、")
            ));
        }
        if !sectors.is_empty() && self.special.is_some() {
            return Err("sectors 与 special 只能写其一".into());
        }
        if !classes.contains(&self.class) {
            return Err(format!("class {:?} 不在 {:?} 之中", self.class, classes));
        }
        let answer = match self.kind.as_str() {
            "check" | "text" => {
                if self.unit.is_some() || self.min.is_some() || self.max.is_some() {
                    return Err(format!("{} 类检查项不应有 unit、min 或 max", self.kind));
                }
                if self.kind == "check" {
                    AnswerKind::Check
                } else {
                    AnswerKind::Text
                }
            }
            "measure" => {
                let unit = self
                    .unit
                    .filter(|u| !u.trim().is_empty())
                    .ok_or("measure 类检查项应有 unit")?;
                match (self.min, self.max) {
                    (None, None) => return Err("measure 类检查项应有 min 或 max".into()),
                    (Some(min), Some(max)) if min > max => {
                        return Err(format!("min {min} 大于 max {max}"));
                    }
                    (min, max)
                        if min.is_some_and(|v| !v.is_finite())
                            || max.is_some_and(|v| !v.is_finite()) =>
                    {
                        return Err("min 和 max 应为有限数值".into());
                    }
                    _ => {}
                }
                AnswerKind::Measure {
                    unit,
                    min: self.min,
                    max: self.max,
                }
            }
            other => return Err(format!("kind {other:?} 应为 check、measure 或 text")),
        };
        Ok(Item {
            code: self.code,
            section: self.section,
            text: self.text,
            hazard: self.hazard,
            legal_bases,
            sectors,
            special: self.special,
            class: self.class,
            answer,
            required: self.required,
            guidance: self.guidance,
            measure: self.measure,
        })
    }
}

fn is_item_code(code: &str) -> bool {
    let Some((letters, digits)) = code.split_once('-') else {
        return false;
    };
    (2..=4).contains(&letters.len())
        && letters.bytes().all(|b| b.is_ascii_uppercase())
        && digits.len() == 3
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A legal basis must name a document (a titled law in 《》, a standard such as GB or AQ, or a
/// numbered document such as 〔2017〕121号) and point into it (第…条/款/项, or a clause number).
fn cites_a_provision(basis: &str) -> bool {
    let names_document = basis.contains('《')
        || basis.contains("GB")
        || basis.contains("AQ")
        || basis.contains('号');
    let chars: Vec<char> = basis.chars().collect();
    let has_article = chars.iter().enumerate().any(|(i, &c)| {
        c == '第'
            && chars[i + 1..]
                .iter()
                .take(8)
                .any(|c| matches!(c, '条' | '款' | '项' | '章' | '节'))
    });
    let has_clause_number = chars
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == '.' && w[2].is_ascii_digit());
    names_document && (has_article || has_clause_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "test-list"
version = 1
title = "测试检查表"
industry = "工贸"
kind = "enforcement"
classes = ["重大", "一般"]
sources = ["《中华人民共和国安全生产法》"]

[[items]]
code = "TT-001"
section = "基础管理"
text = "是否建立全员安全生产责任制"
hazard = "未建立全员安全生产责任制"
legal_basis = "《中华人民共和国安全生产法》第四条"
class = "一般"
kind = "check"
required = true
guidance = "查阅责任制文件"

[[items]]
code = "TT-002"
section = "现场"
text = "安全出口间距是否符合要求"
hazard = "安全出口间距不足"
legal_basis = "GB 16423-2020 6.1.1.2"
class = "重大"
kind = "measure"
unit = "m"
min = 30.0
required = true
guidance = "用测距仪测量"
"#;

    fn broken(from: &str, to: &str) -> Error {
        let text = MINIMAL.replacen(from, to, 1);
        assert_ne!(text, MINIMAL, "the replacement must change the template");
        Template::parse("broken.toml", &text).unwrap_err()
    }

    fn item_problem(err: Error) -> (String, String) {
        match err {
            Error::InvalidTemplateItem {
                file,
                item,
                problem,
            } => {
                assert_eq!(file, "broken.toml");
                (item, problem)
            }
            other => panic!("expected an item error, got {other}"),
        }
    }

    #[test]
    fn a_valid_template_parses_with_its_answer_kinds() {
        let template = Template::parse("t.toml", MINIMAL).unwrap();
        assert_eq!(template.items.len(), 2);
        assert_eq!(template.item("TT-001").unwrap().answer, AnswerKind::Check);
        assert_eq!(
            template.item("TT-002").unwrap().requirement().unwrap(),
            "≥ 30 m"
        );
        assert!(template.applies_to_industry("工贸"));
        assert!(!template.applies_to_industry("非煤矿山"));
    }

    #[test]
    fn a_missing_field_names_the_item() {
        let (item, problem) = item_problem(broken("hazard = \"未建立全员安全生产责任制\"\n", ""));
        assert_eq!(item, "TT-001");
        assert!(problem.contains("hazard"), "{problem}");
    }

    #[test]
    fn text_the_documents_cannot_render_is_refused() {
        let (item, problem) = item_problem(broken("安全出口间距不足", "安全出口间距不足😀"));
        assert_eq!(item, "TT-002");
        assert!(
            problem.contains("hazard") && problem.contains("U+1F600"),
            "{problem}"
        );
        let (_, problem) = item_problem(broken("查阅责任制文件", "查阅\\u0000文件"));
        assert!(
            problem.contains("guidance") && problem.contains("U+0000"),
            "{problem}"
        );
    }

    #[test]
    fn a_class_outside_the_scale_names_the_item() {
        let (item, problem) = item_problem(broken("class = \"重大\"", "class = \"A\""));
        assert_eq!(item, "TT-002");
        assert!(problem.contains("class"), "{problem}");
    }

    #[test]
    fn a_legal_basis_without_an_article_is_refused() {
        let (item, problem) = item_problem(broken(
            "legal_basis = \"《中华人民共和国安全生产法》第四条\"",
            "legal_basis = \"安全生产法\"",
        ));
        assert_eq!(item, "TT-001");
        assert!(problem.contains("legal_basis"), "{problem}");
    }

    #[test]
    fn measure_items_need_a_unit_and_consistent_bounds() {
        let (_, problem) = item_problem(broken("unit = \"m\"\n", ""));
        assert!(problem.contains("unit"), "{problem}");
        let (_, problem) = item_problem(broken("min = 30.0", "min = 30.0\nmax = 10.0"));
        assert!(problem.contains("大于"), "{problem}");
        let (_, problem) =
            item_problem(broken("kind = \"check\"", "kind = \"check\"\nunit = \"m\""));
        assert!(problem.contains("unit"), "{problem}");
    }

    #[test]
    fn duplicate_codes_unknown_fields_and_bad_codes_are_refused() {
        let (item, problem) = item_problem(broken("code = \"TT-002\"", "code = \"TT-001\""));
        assert_eq!(item, "TT-001");
        assert!(problem.contains("重复"));
        let (_, problem) =
            item_problem(broken("required = true", "required = true\nrequird = true"));
        assert!(problem.contains("requird"), "{problem}");
        let (item, _) = item_problem(broken("code = \"TT-001\"", "code = \"tt-1\""));
        assert_eq!(item, "tt-1");
    }

    #[test]
    fn header_problems_name_the_file() {
        for (from, to) in [
            ("kind = \"enforcement\"", "kind = \"audit\""),
            ("industry = \"工贸\"", "industry = \"互联网\""),
            ("version = 1", "version = 0"),
            ("id = \"test-list\"", "id = \"Test List\""),
            (
                "classes = [\"重大\", \"一般\"]",
                "classes = [\"高\", \"低\"]",
            ),
            ("[[items]]", "[items_x]\n[[items]]"),
        ] {
            match broken(from, to) {
                Error::InvalidTemplate { file, .. } => assert_eq!(file, "broken.toml"),
                other => panic!("{from} -> {to}: {other}"),
            }
        }
        assert!(matches!(
            Template::parse("x.toml", "id = ").unwrap_err(),
            Error::InvalidTemplate { .. }
        ));
    }

    #[test]
    fn shipped_templates_are_valid_and_complete() {
        let templates = Template::builtin().unwrap();
        let count = |id: &str| {
            templates
                .iter()
                .find(|t| t.id == id)
                .unwrap_or_else(|| panic!("{id} is shipped"))
                .items
                .len()
        };
        assert!(count("hazchem-enforcement") >= 40);
        assert!(count("mine-enforcement") >= 30);
        assert!(count("trade-enforcement") >= 90);
        assert!(count("self-monthly") >= 20);
        assert!(count("expert-general") >= 30);
        assert!(count("resident-weekly") >= 15);
        let kinds: HashSet<&str> = templates.iter().map(|t| t.kind.as_str()).collect();
        assert_eq!(
            kinds.len(),
            4,
            "every inspection kind has a shipped list: {kinds:?}"
        );
    }

    #[test]
    fn hazchem_list_carries_all_twenty_major_hazard_situations() {
        let templates = Template::builtin().unwrap();
        let hazchem = templates
            .iter()
            .find(|t| t.id == "hazchem-enforcement")
            .unwrap();
        let from_121 = hazchem
            .items
            .iter()
            .filter(|item| {
                item.legal_bases
                    .iter()
                    .all(|basis| basis.text.contains("〔2017〕121号"))
                    && item.class == "重大"
            })
            .count();
        assert!(from_121 >= 20, "only {from_121} items cite 121号");
    }

    #[test]
    fn mine_list_requires_a_leader_underground_on_every_shift() {
        let templates = Template::builtin().unwrap();
        let mine = templates
            .iter()
            .find(|t| t.id == "mine-enforcement")
            .unwrap();
        assert!(
            mine.items.iter().any(|item| item.text.contains("带班")
                && item.legal_bases.iter().any(|b| b.text.contains("第34号"))),
            "the 带班下井 rule of 总局令第34号 is missing"
        );
    }

    #[test]
    fn superseded_versions_parse_and_precede_the_shipped_ones() {
        let current = Template::builtin().unwrap();
        for old in Template::superseded().unwrap() {
            let now = current
                .iter()
                .find(|t| t.id == old.id)
                .unwrap_or_else(|| panic!("{} is still shipped", old.id));
            assert!(old.version < now.version, "{} v{}", old.id, old.version);
            assert_ne!(old.source_text, now.source_text);
        }
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../templates/checklists/superseded"
        );
        let on_disk = std::fs::read_dir(dir).unwrap().count();
        assert_eq!(
            on_disk,
            SUPERSEDED_TEMPLATES.len(),
            "every superseded file is shipped"
        );
    }

    #[test]
    fn every_checklist_file_is_shipped() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../templates/checklists");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut shipped: Vec<String> = BUILTIN_TEMPLATES
            .iter()
            .map(|(f, _)| f.to_string())
            .collect();
        shipped.sort();
        assert_eq!(on_disk, shipped);
    }
    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn shipped(id: &str) -> Template {
        Template::builtin()
            .unwrap()
            .into_iter()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("{id} is shipped"))
    }

    const DATED: &str = r#"legal_basis = "《中华人民共和国安全生产法》第四条"
"#;

    /// MINIMAL with TT-001's basis replaced by the given `[[items.legal_bases]]` tables (placed
    /// after TT-001's keys, where TOML wants them).
    fn with_bases(tables: &str) -> String {
        let text = MINIMAL.replacen(DATED, "", 1).replacen(
            "guidance = \"查阅责任制文件\"\n",
            &format!("guidance = \"查阅责任制文件\"\n{tables}"),
            1,
        );
        assert_ne!(text, MINIMAL);
        text
    }

    const OLD_AND_NEW: &str = r#"
[[items.legal_bases]]
effective_until = "2026-04-30"
text = "《危险化学品安全管理条例》第二十四条"

[[items.legal_bases]]
effective_from = "2026-05-01"
text = "《中华人民共和国危险化学品安全法》第四十一条"
review = "条号未与公布文本核对"
"#;

    #[test]
    fn an_item_cites_the_basis_in_force_on_the_inspection_date() {
        let template = Template::parse("t.toml", &with_bases(OLD_AND_NEW)).unwrap();
        let item = template.item("TT-001").unwrap();
        let before = item.legal_basis_on(day("2026-04-30"));
        assert_eq!(before.text, "《危险化学品安全管理条例》第二十四条");
        assert_eq!(before.review, None);
        let after = item.legal_basis_on(day("2026-05-01"));
        assert_eq!(after.text, "《中华人民共和国危险化学品安全法》第四十一条");
        assert_eq!(after.review.as_deref(), Some("条号未与公布文本核对"));
        assert_eq!(
            item.legal_basis_on(day("2019-01-01")).text,
            before.text,
            "the first basis has no start"
        );
        // An undated basis holds on every date.
        let plain = template.item("TT-002").unwrap();
        assert_eq!(
            plain.legal_basis_on(day("2030-01-01")).text,
            "GB 16423-2020 6.1.1.2"
        );
    }

    #[test]
    fn dated_bases_must_cover_every_date_exactly_once() {
        let cases = [
            // A gap: nothing applies on 2026-05-01.
            (
                OLD_AND_NEW.replace("\"2026-05-01\"", "\"2026-05-02\""),
                "空档",
            ),
            // An overlap: both apply on 2026-04-30.
            (
                OLD_AND_NEW.replace("\"2026-05-01\"", "\"2026-04-30\""),
                "重叠",
            ),
            // The first basis starts: older inspections would have none.
            (
                OLD_AND_NEW.replacen(
                    "effective_until = \"2026-04-30\"",
                    "effective_from = \"2020-01-01\"\neffective_until = \"2026-04-30\"",
                    1,
                ),
                "第一条",
            ),
            // The last basis ends: later inspections would have none.
            (
                OLD_AND_NEW.replacen(
                    "effective_from = \"2026-05-01\"",
                    "effective_from = \"2026-05-01\"\neffective_until = \"2030-12-31\"",
                    1,
                ),
                "最后一条",
            ),
            // A review note must say something.
            (OLD_AND_NEW.replace("条号未与公布文本核对", " "), "review"),
            // A date that is not one.
            (
                OLD_AND_NEW.replace("2026-04-30", "2026-04-31"),
                "effective_until",
            ),
            // Each period's citation is checked like any other.
            (
                OLD_AND_NEW.replace(
                    "《中华人民共和国危险化学品安全法》第四十一条",
                    "危险化学品安全法",
                ),
                "legal_basis",
            ),
        ];
        for (tables, expected) in cases {
            let (item, problem) =
                item_problem(Template::parse("broken.toml", &with_bases(&tables)).unwrap_err());
            assert_eq!(item, "TT-001");
            assert!(problem.contains(expected), "{expected}: {problem}");
        }
        let both = with_bases(OLD_AND_NEW).replacen(
            "guidance = \"查阅责任制文件\"",
            "guidance = \"查阅责任制文件\"\nlegal_basis = \"《中华人民共和国安全生产法》第四条\"",
            1,
        );
        let (_, problem) = item_problem(Template::parse("broken.toml", &both).unwrap_err());
        assert!(problem.contains("只能写其一"), "{problem}");
        let neither = with_bases("");
        let (_, problem) = item_problem(Template::parse("broken.toml", &neither).unwrap_err());
        assert!(problem.contains("legal_basis"), "{problem}");
    }

    #[test]
    fn sectors_and_special_operations_are_checked() {
        let (_, problem) = item_problem(broken(
            "section = \"基础管理\"",
            "section = \"基础管理\"\nsectors = [\"化工\"]",
        ));
        assert!(problem.contains("化工"), "{problem}");
        let (_, problem) = item_problem(broken(
            "section = \"基础管理\"",
            "section = \"基础管理\"\nspecial = \"高处作业\"",
        ));
        assert!(problem.contains("special"), "{problem}");
        let text = MINIMAL
            .replacen("industry = \"工贸\"", "industry = \"非煤矿山\"", 1)
            .replacen(
                "section = \"基础管理\"",
                "section = \"基础管理\"\nsectors = [\"冶金\"]",
                1,
            );
        let (_, problem) = item_problem(Template::parse("broken.toml", &text).unwrap_err());
        assert!(problem.contains("工贸"), "{problem}");
    }

    fn trade_enterprise(sector: Option<&str>, special: Option<&[&str]>) -> Enterprise {
        Enterprise {
            credit_code: crate::enterprise::CreditCode::parse("914403001922038216").unwrap(),
            name: "测试企业".into(),
            address: "测试地址".into(),
            industry: "工贸".into(),
            region_code: "440307".into(),
            legal_representative: "赵一".into(),
            phone: "0755-28780808".into(),
            sector: sector.map(str::to_string),
            special_operations: special.map(|list| list.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn codes_for(template: &Template, enterprise: &Enterprise) -> Vec<String> {
        template
            .items
            .iter()
            .filter(|item| item.applies_to(enterprise))
            .map(|item| item.code.clone())
            .collect()
    }

    #[test]
    fn an_enterprise_s_sector_and_special_operations_pick_its_order_10_items() {
        let trade = shipped("trade-enforcement");
        let sector_of = |code: &str| trade.item(code).unwrap().sectors.clone();
        let special_of = |code: &str| trade.item(code).unwrap().special.clone();

        // A register that does not say: every item is asked.
        let unknown = codes_for(&trade, &trade_enterprise(None, None));
        assert_eq!(unknown.len(), trade.items.len());

        // A flour mill with combustible dust: general items, 轻工's and the dust items.
        let mill = codes_for(&trade, &trade_enterprise(Some("轻工"), Some(&["粉尘涉爆"])));
        for code in &mill {
            let sectors = sector_of(code);
            assert!(
                sectors.is_empty() || sectors == ["轻工"],
                "{code}: {sectors:?}"
            );
            let special = special_of(code);
            assert!(
                special.is_none() || special.as_deref() == Some("粉尘涉爆"),
                "{code}"
            );
        }
        assert!(mill.contains(&"IT-001".to_string()), "general items stay");
        assert!(
            mill.iter()
                .any(|c| special_of(c).as_deref() == Some("粉尘涉爆"))
        );
        assert!(mill.iter().any(|c| sector_of(c) == ["轻工"]));
        assert!(!mill.iter().any(|c| sector_of(c) == ["冶金"]));
        assert!(
            !mill
                .iter()
                .any(|c| special_of(c).as_deref() == Some("液氨制冷"))
        );

        // A 商贸 enterprise with no special operations: the general items only, since 10号令
        // has no 商贸 article.
        let shop = codes_for(&trade, &trade_enterprise(Some("商贸"), Some(&[])));
        assert!(
            shop.iter()
                .all(|c| sector_of(c).is_empty() && special_of(c).is_none()),
            "{shop:?}"
        );
        // Known sector, unknown special operations: every special item stays.
        let steel = codes_for(&trade, &trade_enterprise(Some("冶金"), None));
        assert!(
            steel
                .iter()
                .any(|c| special_of(c).as_deref() == Some("液氨制冷"))
        );
        assert!(!steel.iter().any(|c| sector_of(c) == ["有色"]));
    }

    /// The item numbers of 应急管理部令第10号 each article lists, by the article's 细分行业 or
    /// special operation (第三条: every 工贸 enterprise). 第五条 (有色) lists 13 situations; the
    /// list carries the 12 whose text could be gathered, each marked for review.
    const ORDER_10: &[(&str, &str, usize)] = &[
        ("第三条", "", 3),
        ("第四条", "冶金", 8),
        ("第五条", "有色", 12),
        ("第六条", "建材", 8),
        ("第七条", "机械", 7),
        ("第八条", "轻工", 7),
        ("第九条", "纺织", 2),
        ("第十条", "烟草", 2),
        ("第十一条", "粉尘涉爆", 10),
        ("第十二条", "液氨制冷", 2),
        ("第十三条", "有限空间作业", 2),
    ];

    const ITEM_NUMBERS: [&str; 13] = [
        "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三",
    ];

    #[test]
    fn trade_list_carries_order_10_item_by_item_for_its_sector() {
        let trade = shipped("trade-enforcement");
        let standard = "《工贸企业重大事故隐患判定标准》";
        for &(article, scope, count) in ORDER_10 {
            for number in &ITEM_NUMBERS[..count] {
                let citation = format!("{standard}{article}第（{number}）项");
                let items: Vec<&Item> = trade
                    .items
                    .iter()
                    .filter(|item| item.legal_bases.iter().any(|b| b.text.contains(&citation)))
                    .collect();
                assert_eq!(
                    items.len(),
                    1,
                    "{citation}: {:?}",
                    items.iter().map(|i| &i.code).collect::<Vec<_>>()
                );
                let item = items[0];
                assert_eq!(item.class, "重大", "{citation}");
                let picked_by = item
                    .special
                    .clone()
                    .or_else(|| item.sectors.first().cloned())
                    .unwrap_or_default();
                assert_eq!(picked_by, scope, "{} ({citation})", item.code);
            }
        }
        // Every citation of the standard's judging articles names the item (IT-008 cited
        // 第四条 alone).
        for item in &trade.items {
            for basis in &item.legal_bases {
                for (at, _) in basis.text.match_indices(standard) {
                    let rest = &basis.text[at + standard.len()..];
                    let article_end = rest.find('条').map_or(0, |i| i + '条'.len_utf8());
                    let article = &rest[..article_end];
                    let judging = ORDER_10.iter().any(|(a, _, _)| *a == article);
                    assert!(
                        !judging || rest[article_end..].starts_with("第（"),
                        "{}: {} names no item",
                        item.code,
                        basis.text
                    );
                }
            }
        }
    }

    #[test]
    fn the_new_hazardous_chemicals_law_is_cited_only_from_2026_05_01_and_marked_for_review() {
        let law = "《中华人民共和国危险化学品安全法》";
        let in_force = day("2026-05-01");
        let mut dated = 0;
        for template in Template::builtin().unwrap() {
            for item in &template.items {
                let before = item.legal_basis_on(in_force.pred_opt().unwrap());
                assert!(
                    !before.text.contains(law),
                    "{} {} cites the law before it is in force",
                    template.id,
                    item.code
                );
                for basis in item.legal_bases.iter().filter(|b| b.text.contains(law)) {
                    assert!(basis.effective_from.is_some_and(|from| from >= in_force));
                    assert!(
                        basis.review.is_some(),
                        "{} article numbers unchecked",
                        item.code
                    );
                    dated += 1;
                }
            }
        }
        assert!(dated >= 15, "only {dated} bases cite the law");
        let hazchem = shipped("hazchem-enforcement");
        let storage = hazchem.item("HC-037").unwrap();
        assert!(
            storage
                .legal_basis_on(day("2026-04-30"))
                .text
                .contains("《危险化学品安全管理条例》第二十四条")
        );
        assert!(storage.legal_basis_on(in_force).text.contains(law));
    }

    #[test]
    fn the_four_wrong_citations_are_corrected() {
        let on = day("2026-11-20");
        let basis = |template: &str, code: &str| {
            shipped(template)
                .item(code)
                .unwrap_or_else(|| panic!("{code}"))
                .legal_basis_on(on)
                .text
                .clone()
        };
        let hc001 = basis("hazchem-enforcement", "HC-001");
        assert!(!hc001.contains("第3号）第九条"), "{hc001}");
        assert!(
            hc001.contains("《中华人民共和国安全生产法》第二十七条第二款"),
            "{hc001}"
        );
        let nm027 = basis("mine-enforcement", "NM-027");
        assert!(!nm027.contains("实施条例》第二十一条"), "{nm027}");
        assert!(nm027.contains("〔2022〕88号"), "{nm027}");
        let it040 = basis("trade-enforcement", "IT-040");
        assert!(!it040.contains("消防法》第十六条"), "{it040}");
        assert!(
            it040.contains("《中华人民共和国消防法》第二十七条第二款"),
            "{it040}"
        );
        let it008 = basis("trade-enforcement", "IT-008");
        assert!(it008.contains("第四条第（六）项"), "{it008}");
    }

    #[test]
    fn hazchem_list_checks_the_permit_and_leaders_on_duty() {
        let hazchem = shipped("hazchem-enforcement");
        let on = day("2026-11-20");
        assert!(hazchem.items.iter().any(|item| {
            item.text.contains("安全生产许可证")
                && item.text.contains("有效期")
                && item
                    .legal_basis_on(on)
                    .text
                    .contains("《安全生产许可证条例》第二条")
        }));
        assert!(
            hazchem
                .items
                .iter()
                .any(|item| item.text.contains("重大危险源")
                    && item.text.contains("带班")
                    && item.legal_basis_on(on).review.is_some())
        );
    }
}
