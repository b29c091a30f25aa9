//! Checklist templates: the TOML format of `templates/checklists/` (documented in
//! `templates/README.md`), its validation, and the lists shipped inside the binary.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::enterprise::{ANY_INDUSTRY, INDUSTRIES};
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub code: String,
    pub section: String,
    pub text: String,
    /// The finding written into the documents when the item fails.
    pub hazard: String,
    pub legal_basis: String,
    pub class: String,
    #[serde(flatten)]
    pub answer: AnswerKind,
    pub required: bool,
    pub guidance: String,
    /// The default rectification measure.
    pub measure: Option<String>,
}

impl Item {
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
    legal_basis: String,
    class: String,
    kind: String,
    required: bool,
    guidance: String,
    measure: Option<String>,
    unit: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
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
            ("legal_basis", &self.legal_basis),
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
            ("legal_basis", Some(&self.legal_basis)),
            ("guidance", Some(&self.guidance)),
            ("measure", self.measure.as_ref()),
            ("unit", self.unit.as_ref()),
        ] {
            if let Some(problem) = value.and_then(|v| text_problem(v, Lines::Many)) {
                return Err(format!("{name} {problem}"));
            }
        }
        if !cites_a_provision(&self.legal_basis) {
            return Err(format!(
                "legal_basis {:?} 应写明法规或标准及其条、款、项或条款号",
                self.legal_basis
            ));
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
            legal_basis: self.legal_basis,
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
        assert!(count("trade-enforcement") >= 25);
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
            .filter(|item| item.legal_basis.contains("〔2017〕121号") && item.class == "重大")
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
            mine.items
                .iter()
                .any(|item| item.text.contains("带班") && item.legal_basis.contains("第34号")),
            "the 带班下井 rule of 总局令第34号 is missing"
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
}
