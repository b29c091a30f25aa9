//! A/B/C/D grading of towns from quantitative indicators only. The weights and the grade lines
//! are configuration (`templates/grading.toml`); this module checks the configuration and turns
//! a town's indicator rates into a score, a grade and the breakdown the page shows.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The indicators a grading may weigh; each is computed by the analyses as a rate in 0..=1.
pub const INDICATORS: [&str; 10] = [
    "self_upload_rate",
    "self_pass_rate",
    "enforcement_coverage",
    "enforcement_pass_rate",
    "expert_coverage",
    "expert_pass_rate",
    "resident_weekly_rate",
    "duty_attendance_rate",
    "health_declaration_rate",
    "permit_valid_rate",
];

/// The shipped configuration.
pub const DEFAULT_CONFIG: &str = include_str!("../../../templates/grading.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub key: String,
    pub label: String,
    pub weight: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    #[serde(rename = "A")]
    pub a: f64,
    #[serde(rename = "B")]
    pub b: f64,
    #[serde(rename = "C")]
    pub c: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingConfig {
    pub thresholds: Thresholds,
    pub indicators: Vec<Indicator>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
        }
    }
}

/// One indicator's part of a town's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub key: String,
    pub label: String,
    /// The configured weight, out of 100.
    pub weight: f64,
    /// The weight after indicators without data were left out (they add up to 100).
    pub effective_weight: f64,
    /// The rate in 0..=1; `None` when the town has no data for it.
    pub rate: Option<f64>,
    pub points: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TownGrade {
    pub score: f64,
    pub grade: Grade,
    pub parts: Vec<Part>,
}

impl GradingConfig {
    /// Parses and checks a configuration; the message names what is wrong, in Chinese.
    pub fn parse(file: &str, text: &str) -> Result<GradingConfig, String> {
        let config: GradingConfig =
            toml::from_str(text).map_err(|e| format!("分级配置 {file}：{e}"))?;
        config
            .check()
            .map_err(|problem| format!("分级配置 {file}：{problem}"))?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if self.indicators.is_empty() {
            return Err("至少要有一项指标".into());
        }
        let mut seen = BTreeMap::new();
        for indicator in &self.indicators {
            if !INDICATORS.contains(&indicator.key.as_str()) {
                return Err(format!(
                    "未知指标 {}：可用的指标为 {}",
                    indicator.key,
                    INDICATORS.join("、")
                ));
            }
            if seen.insert(indicator.key.as_str(), ()).is_some() {
                return Err(format!("指标 {} 重复", indicator.key));
            }
            if !(indicator.weight.is_finite() && indicator.weight > 0.0) {
                return Err(format!("指标 {} 的权重应为正数", indicator.key));
            }
        }
        let total: f64 = self.indicators.iter().map(|i| i.weight).sum();
        if (total - 100.0).abs() > 1e-6 {
            return Err(format!("权重之和应为 100，现为 {total}"));
        }
        let Thresholds { a, b, c } = self.thresholds;
        if !(a <= 100.0 && a > b && b > c && c > 0.0) {
            return Err(format!(
                "等级线应满足 100 ≥ A > B > C > 0，现为 A={a}、B={b}、C={c}"
            ));
        }
        Ok(())
    }

    /// A town's score and grade from its rates (keyed by indicator; a missing key or a value
    /// outside 0..=1 means no data). A town with no data at all is graded D with score 0.
    pub fn grade(&self, rates: &BTreeMap<String, f64>) -> TownGrade {
        let rate_of = |key: &str| {
            rates
                .get(key)
                .copied()
                .filter(|r| r.is_finite() && (0.0..=1.0).contains(r))
        };
        let available: f64 = self
            .indicators
            .iter()
            .filter(|i| rate_of(&i.key).is_some())
            .map(|i| i.weight)
            .sum();
        let parts: Vec<Part> = self
            .indicators
            .iter()
            .map(|indicator| {
                let rate = rate_of(&indicator.key);
                let effective_weight = match rate {
                    Some(_) if available > 0.0 => indicator.weight * 100.0 / available,
                    _ => 0.0,
                };
                Part {
                    key: indicator.key.clone(),
                    label: indicator.label.clone(),
                    weight: indicator.weight,
                    effective_weight,
                    rate,
                    points: effective_weight * rate.unwrap_or(0.0),
                }
            })
            .collect();
        let score = parts.iter().map(|p| p.points).sum::<f64>();
        // Rounded to 0.01 before comparing, as the page shows it: a town shown with 90.00 is A.
        let shown = (score * 100.0).round() / 100.0;
        let Thresholds { a, b, c } = self.thresholds;
        let grade = if shown >= a {
            Grade::A
        } else if shown >= b {
            Grade::B
        } else if shown >= c {
            Grade::C
        } else {
            Grade::D
        };
        TownGrade {
            score: shown,
            grade,
            parts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> GradingConfig {
        GradingConfig::parse("grading.toml", DEFAULT_CONFIG).expect("the shipped configuration")
    }

    fn rates(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn the_shipped_configuration_weighs_every_indicator_to_100() {
        let config = config();
        assert_eq!(config.indicators.len(), INDICATORS.len());
        let total: f64 = config.indicators.iter().map(|i| i.weight).sum();
        assert_eq!(total, 100.0);
    }

    #[test]
    fn perfect_rates_score_100_and_grade_a() {
        let all = rates(&INDICATORS.map(|k| (k, 1.0)));
        let graded = config().grade(&all);
        assert_eq!(graded.score, 100.0);
        assert_eq!(graded.grade, Grade::A);
        assert!(graded.parts.iter().all(|p| p.points == p.weight));
    }

    #[test]
    fn grade_lines_are_inclusive_at_the_shown_score() {
        let config = config();
        for (rate, grade) in [
            (0.90, Grade::A),
            (0.8999, Grade::B),
            (0.75, Grade::B),
            (0.60, Grade::C),
            (0.5999, Grade::D),
            (0.0, Grade::D),
        ] {
            let graded = config.grade(&rates(&INDICATORS.map(|k| (k, rate))));
            assert_eq!(graded.grade, grade, "rate {rate}: score {}", graded.score);
        }
    }

    #[test]
    fn indicators_without_data_are_left_out_and_the_others_scaled_to_100() {
        let mut town = rates(&INDICATORS.map(|k| (k, 0.8)));
        town.remove("duty_attendance_rate");
        town.insert("health_declaration_rate".into(), f64::NAN);
        let graded = config().grade(&town);
        assert_eq!(graded.score, 80.0);
        let attendance = graded
            .parts
            .iter()
            .find(|p| p.key == "duty_attendance_rate")
            .expect("listed");
        assert_eq!((attendance.rate, attendance.effective_weight), (None, 0.0));
        let total: f64 = graded.parts.iter().map(|p| p.effective_weight).sum();
        assert!((total - 100.0).abs() < 1e-9);
        // 15 of the 85 weights that have data.
        let self_upload = &graded.parts[0];
        assert!((self_upload.effective_weight - 15.0 * 100.0 / 85.0).abs() < 1e-9);
    }

    #[test]
    fn a_town_with_no_data_is_d() {
        let graded = config().grade(&BTreeMap::new());
        assert_eq!((graded.score, graded.grade), (0.0, Grade::D));
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        let base = DEFAULT_CONFIG;
        for (text, expected) in [
            (
                base.replace("weight = 15", "weight = 16"),
                "权重之和应为 100",
            ),
            (base.replace("A = 90.0", "A = 70.0"), "等级线"),
            (
                base.replace("key = \"self_pass_rate\"", "key = \"pass_rate\""),
                "未知指标 pass_rate",
            ),
            (
                base.replace("key = \"self_pass_rate\"", "key = \"self_upload_rate\""),
                "重复",
            ),
            (
                base.replace("weight = 5\n", "weight = -5\n"),
                "权重应为正数",
            ),
            (format!("{base}\nextra = 1\n"), "extra"),
        ] {
            let problem = GradingConfig::parse("grading.toml", &text).expect_err(expected);
            assert!(problem.contains(expected), "{problem}");
        }
    }
}
