//! The issuing agency's configuration (`templates/agency.example.toml`). The field command keeps
//! the file's text as given; this module reads the parts the core needs.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agency {
    /// Full name, as in 我们是<机关名称>行政执法人员….
    pub name: String,
    /// The short name used in document numbers, e.g. 淄 in (淄)安监责改〔2026〕0012号.
    pub short_name: String,
    /// The agency's administrative division code.
    pub region_code: String,
    #[serde(skip)]
    pub source_text: String,
}

#[derive(Deserialize)]
struct RawAgency {
    name: String,
    short_name: String,
    region_code: String,
}

impl Agency {
    pub fn parse(file: &str, text: &str) -> Result<Agency> {
        let invalid = |problem: String| Error::InvalidInput(format!("机关配置 {file}：{problem}"));
        let raw: RawAgency = toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
        if raw.name.trim().is_empty() || raw.short_name.trim().is_empty() {
            return Err(invalid("name 和 short_name 不能为空".into()));
        }
        let region = raw.region_code.trim();
        if ![6, 9].contains(&region.len()) || !region.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!(
                "region_code {region:?} 应为 6 或 9 位数字"
            )));
        }
        Ok(Agency {
            name: raw.name.trim().to_string(),
            short_name: raw.short_name.trim().to_string(),
            region_code: region.to_string(),
            source_text: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configuration_parses() {
        let text = include_str!("../../templates/agency.example.toml");
        let agency = Agency::parse("agency.example.toml", text).unwrap();
        assert!(agency.name.ends_with("局"), "{}", agency.name);
        assert!(!agency.short_name.is_empty());
    }

    #[test]
    fn missing_fields_are_named() {
        let err = Agency::parse("a.toml", "name = \"某局\"").unwrap_err();
        assert!(err.to_string().contains("short_name"), "{err}");
    }
}
