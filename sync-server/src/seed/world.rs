//! Who and what the synthetic history happens to: the regions, the enterprise register, the
//! accounts that upload (and supervise), and the supervisors' reference data as the CSV files
//! of `docs/import-formats.md`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate};

use anjian_core::enterprise::{CSV_HEADER, CreditCode, Enterprise, parse_enterprise_csv};
use anjian_core::sync::protocol::Role;

use super::names::{
    CITY, DISTRICTS, FIRM_STEMS, GIVEN_NAMES, HOTLINE_SUMMARIES, MAILBOX_SUMMARIES, SURNAMES,
    TOWN_STEMS, TRADES,
};
use super::rng::Rng;
use crate::demo;
use crate::error::{AppError, AppResult};
use crate::store::{ImportKind, Region};

/// The regions and enterprises of the seeded city.
pub struct World {
    pub regions: Vec<Region>,
    pub enterprises: Vec<Enterprise>,
}

/// The district (6 digits) a region code lies in.
pub fn district_of(region_code: &str) -> &str {
    &region_code[..6.min(region_code.len())]
}

impl World {
    /// The demo world: its regions and its twelve enterprises.
    pub fn demo() -> AppResult<World> {
        let enterprises = parse_enterprise_csv("enterprises.csv", demo::ENTERPRISES_CSV.as_bytes())
            .map_err(|e| AppError::internal("demo enterprises", e))?;
        Ok(World {
            regions: demo::regions()?,
            enterprises,
        })
    }

    /// A city of `towns_per_district` towns in each of Zibo's eight districts and
    /// `enterprises` enterprises spread unevenly over them.
    pub fn city(rng: &mut Rng, towns_per_district: usize, enterprises: usize) -> World {
        let mut regions = vec![Region {
            code: CITY.0.into(),
            name: CITY.1.into(),
            parent: None,
        }];
        let mut stems = TOWN_STEMS.to_vec();
        let mut towns = Vec::new();
        for (district, name) in DISTRICTS {
            regions.push(Region {
                code: district.to_string(),
                name: name.to_string(),
                parent: Some(CITY.0.into()),
            });
            for i in 0..towns_per_district {
                let stem = stems.swap_remove(rng.below(stems.len() as u64) as usize);
                // Streets (街道) are numbered from 001, towns (镇) from 100, as in GB/T 2260's
                // town codes.
                let (code, name) = if i < towns_per_district / 3 {
                    (format!("{district}{:03}", i + 1), format!("{stem}街道"))
                } else {
                    (format!("{district}{:03}", 100 + i), format!("{stem}镇"))
                };
                towns.push((code.clone(), stem, 1 + rng.below(4)));
                regions.push(Region {
                    code,
                    name,
                    parent: Some(district.to_string()),
                });
            }
        }
        let total_weight: u64 = towns.iter().map(|t| t.2).sum();
        let mut names = HashSet::new();
        let mut codes = HashSet::new();
        let mut list = Vec::with_capacity(enterprises);
        while list.len() < enterprises {
            let mut target = rng.below(total_weight);
            let (town, town_stem, _) = towns
                .iter()
                .find(|t| {
                    if target < t.2 {
                        true
                    } else {
                        target -= t.2;
                        false
                    }
                })
                .unwrap_or(&towns[0]);
            let industry = match rng.unit() {
                x if x < 0.18 => "危险化学品",
                x if x < 0.28 => "非煤矿山",
                _ => "工贸",
            };
            let trades = TRADES
                .iter()
                .find(|(i, _)| *i == industry)
                .map_or(&[][..], |t| t.1);
            let stem = rng.pick(FIRM_STEMS);
            let trade = rng.pick(trades);
            let mut name = format!("淄博{stem}{trade}有限公司");
            if !names.insert(name.clone()) {
                name = format!("淄博{town_stem}{stem}{trade}有限公司");
                if !names.insert(name.clone()) {
                    continue;
                }
            }
            let district = district_of(town);
            let credit_code = loop {
                let code = credit_code(rng, district);
                if codes.insert(code.as_str().to_string()) {
                    break code;
                }
            };
            let district_name = DISTRICTS
                .iter()
                .find(|d| d.0 == district)
                .map_or("", |d| d.1);
            let town_name = regions
                .iter()
                .find(|r| &r.code == town)
                .map_or("", |r| r.name.as_str());
            list.push(Enterprise {
                credit_code,
                name,
                address: format!(
                    "淄博市{district_name}{town_name}工业路{}号",
                    rng.between(1, 300)
                ),
                industry: industry.into(),
                region_code: town.clone(),
                legal_representative: person_name(rng),
                phone: format!("0533-{}", rng.between(2_000_000, 8_999_999)),
                // The demo register is one written before the 细分行业 columns: every 10号令
                // item is asked and answered.
                sector: None,
                special_operations: None,
            });
        }
        World {
            regions,
            enterprises: list,
        }
    }

    pub fn districts(&self) -> Vec<&str> {
        let mut districts: Vec<&str> = self
            .enterprises
            .iter()
            .map(|e| district_of(&e.region_code))
            .collect();
        districts.sort_unstable();
        districts.dedup();
        districts
    }

    /// The register as the enterprise import reads it.
    pub fn register_csv(&self) -> String {
        let mut csv = CSV_HEADER.join(",");
        csv.push('\n');
        for e in &self.enterprises {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{}",
                e.credit_code.as_str(),
                e.name,
                e.address,
                e.industry,
                e.region_code,
                e.legal_representative,
                e.phone,
                e.sector.as_deref().unwrap_or(""),
                e.special_operations_cell()
            );
        }
        csv
    }
}

/// A unified social credit code of a company (登记管理部门 9, 类别 1) registered in `district`,
/// with its check character.
fn credit_code(rng: &mut Rng, district: &str) -> CreditCode {
    const BODY: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut body = String::from("91");
    body.push_str(district);
    for _ in 0..9 {
        // Organisation codes are mostly digits.
        let c = if rng.chance(0.85) {
            BODY[rng.below(10) as usize]
        } else {
            BODY[rng.below(BODY.len() as u64) as usize]
        };
        body.push(c as char);
    }
    BODY.iter()
        .find_map(|check| CreditCode::parse(&format!("{body}{}", *check as char)).ok())
        .unwrap_or_else(|| unreachable!("one of the 31 characters is the check character"))
}

pub fn person_name(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN_NAMES))
}

/// An account the seed creates, with the one device it uploads from.
#[derive(Debug, Clone)]
pub struct Account {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub scope: String,
    pub cert: Option<String>,
    pub device_id: String,
}

impl Account {
    /// What the account signs records with: its certificate, or its login.
    pub fn signature(&self) -> &str {
        self.cert.as_deref().unwrap_or(&self.login)
    }
}

/// The accounts of the history, by what they do.
pub struct Staff {
    pub accounts: Vec<Account>,
    /// Enforcement pairs per district: (the device's owner, the colleague).
    pub teams: BTreeMap<String, Vec<(usize, usize)>>,
    pub experts: BTreeMap<String, Vec<usize>>,
    /// The resident inspector of each enterprise that has one, by enterprise index.
    pub residents: BTreeMap<usize, usize>,
    /// The safety officer of each enterprise, by enterprise index.
    pub officers: Vec<usize>,
}

impl Staff {
    /// Enforcement pairs and experts for each district in proportion to its enterprises, a
    /// resident inspector at about one in eight dangerous-goods and mining enterprises, an
    /// officer at every enterprise; and for the city scale its supervisors.
    pub fn hire(rng: &mut Rng, world: &World, supervisors: bool) -> Staff {
        let mut accounts = Vec::new();
        let mut add = |rng: &mut Rng, login: String, role: Role, scope: &str, cert| {
            accounts.push(Account {
                login,
                name: person_name(rng),
                role,
                scope: scope.to_string(),
                cert,
                device_id: rng.uuid(),
            });
            accounts.len() - 1
        };
        if supervisors {
            for region in &world.regions {
                let (login, role) = match region.code.len() {
                    _ if region.parent.is_none() => ("city".to_string(), Role::CitySupervisor),
                    6 => (format!("qu{}", region.code), Role::DistrictSupervisor),
                    _ => (format!("zhen{}", region.code), Role::TownSupervisor),
                };
                add(rng, login, role, &region.code, None);
            }
        }
        let mut teams = BTreeMap::new();
        let mut experts = BTreeMap::new();
        for district in world.districts() {
            let count = world
                .enterprises
                .iter()
                .filter(|e| district_of(&e.region_code) == district)
                .count();
            let pairs = (count / 80).max(1);
            let team = (0..pairs)
                .map(|p| {
                    let [a, b] = [2 * p + 1, 2 * p + 2].map(|n| {
                        add(
                            rng,
                            format!("zf{district}{n:02}"),
                            Role::Inspector,
                            district,
                            Some(format!("{district}Z{n:02}")),
                        )
                    });
                    (a, b)
                })
                .collect();
            teams.insert(district.to_string(), team);
            let list = (1..=(count / 300).max(1))
                .map(|n| {
                    add(
                        rng,
                        format!("zj{district}{n:02}"),
                        Role::Expert,
                        district,
                        None,
                    )
                })
                .collect();
            experts.insert(district.to_string(), list);
        }
        let mut residents = BTreeMap::new();
        let dangerous: Vec<usize> = (0..world.enterprises.len())
            .filter(|&i| {
                ["危险化学品", "非煤矿山"].contains(&world.enterprises[i].industry.as_str())
            })
            .collect();
        let wanted = dangerous.len().div_ceil(8);
        for (n, &i) in dangerous.iter().step_by(8).take(wanted).enumerate() {
            let town = world.enterprises[i].region_code.clone();
            let login = format!("zc{:04}", n + 1);
            residents.insert(i, add(rng, login, Role::ResidentInspector, &town, None));
        }
        let officers = world
            .enterprises
            .iter()
            .map(|e| {
                let code = e.credit_code.as_str();
                add(
                    rng,
                    format!("qy{}", code.to_ascii_lowercase()),
                    Role::EnterpriseOfficer,
                    code,
                    None,
                )
            })
            .collect();
        Staff {
            accounts,
            teams,
            experts,
            residents,
            officers,
        }
    }
}

/// One import file of reference data.
pub struct ReferenceFile {
    pub kind: ImportKind,
    pub label: String,
    pub csv: String,
}

/// The supervisors' reference data of the world over `first..=last`, as the import files a
/// bureau would load: licences (some renewed late), major hazard sources, certified staff
/// (some certificates expired or expiring), emergency plans, occupational-health
/// declarations, 12350 hotline tickets, mailbox letters, and the mines' daily duty-leader
/// shifts (one file per month).
pub fn reference_files(
    rng: &mut Rng,
    world: &World,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<ReferenceFile> {
    let mut files = Vec::new();
    let mut file = |kind: ImportKind, label: String, header: &str, rows: Vec<String>| {
        if !rows.is_empty() {
            files.push(ReferenceFile {
                kind,
                label,
                csv: format!("{header}\n{}\n", rows.join("\n")),
            });
        }
    };
    let day = |rng: &mut Rng, from: NaiveDate, to: NaiveDate| {
        from + Duration::days(rng.between(0, (to - from).num_days().max(0)))
    };

    let mut permits = Vec::new();
    let mut sources = Vec::new();
    let mut staff = Vec::new();
    let mut plans = Vec::new();
    let mut declarations = Vec::new();
    for (index, e) in world.enterprises.iter().enumerate() {
        let code = e.credit_code.as_str();
        let permit = match e.industry.as_str() {
            "危险化学品" if rng.chance(0.5) => Some(("安全生产许可证", "WH安许证字")),
            "危险化学品" => Some(("危险化学品经营许可证", "淄危化经字")),
            "非煤矿山" => Some(("安全生产许可证", "FM安许证字")),
            _ => None,
        };
        if let Some((permit_type, word)) = permit {
            let mut from = first - Duration::days(rng.between(0, 1000));
            let number = format!("(鲁){word}〔{}〕{:06}号", from.year(), index + 1);
            while from <= last {
                let until = from + Duration::days(3 * 365 - 1);
                permits.push(format!(
                    "{code},{permit_type},{number},山东省应急管理厅,{from},{until}"
                ));
                // Most renew on time; some lapse for weeks before renewing.
                from = until
                    + Duration::days(if rng.chance(0.15) {
                        rng.between(10, 90)
                    } else {
                        1
                    });
            }
        }
        if e.industry == "危险化学品" && rng.chance(0.3) {
            let names = [
                "液氨储罐区",
                "甲醇罐区",
                "液化石油气储罐区",
                "氯气储存区",
                "苯罐区",
            ];
            for name in names.iter().take(rng.between(1, 3) as usize) {
                let level = rng.pick(&["一级", "二级", "三级", "四级"]);
                let filed = day(rng, first - Duration::days(800), first);
                sources.push(format!("{code},{name},{level},{filed}"));
            }
        }
        let validity = |rng: &mut Rng| {
            day(
                rng,
                last - Duration::days(200),
                last + Duration::days(3 * 365),
            )
        };
        let prefix = format!("GM-{}-{:05}", &e.region_code[..4], index);
        let principal = format!(
            "{}行业主要负责人安全生产知识和管理能力考核合格证",
            short_industry(&e.industry)
        );
        let until = validity(rng);
        staff.push(format!(
            "{code},主要负责人,{},{prefix}-1,{principal},{until}",
            e.legal_representative
        ));
        for n in 0..rng.between(1, 2) {
            let until = validity(rng);
            staff.push(format!(
                "{code},安全管理人员,{},{prefix}-{},{}行业安全生产管理人员安全生产知识和管理能力考核合格证,{until}",
                person_name(rng),
                n + 2,
                short_industry(&e.industry)
            ));
        }
        for n in 0..rng.between(0, 4) {
            let person = person_name(rng);
            let number = format!("T{}{:06}{n}", &e.region_code[..6], index);
            let operations = [
                "电工作业/低压电工作业",
                "焊接与热切割作业/熔化焊接与热切割作业",
                "高处作业/登高架设作业",
            ];
            for operation in operations.iter().take(rng.between(1, 2) as usize) {
                let until = validity(rng);
                staff.push(format!(
                    "{code},特种作业人员,{person},{number},{operation},{until}"
                ));
            }
        }
        let mut filed = day(rng, first - Duration::days(1000), first);
        loop {
            let until = filed + Duration::days(3 * 365 - 1);
            plans.push(format!("{code},生产安全事故综合应急预案,{filed},{until}"));
            if until >= last || rng.chance(0.2) {
                break;
            }
            filed = until - Duration::days(rng.between(0, 30));
        }
        for year in first.year()..=last.year() {
            if rng.chance(0.85) {
                let declared = NaiveDate::from_ymd_opt(year, 3, 1).unwrap_or(first)
                    + Duration::days(rng.between(0, 90));
                if declared <= last {
                    declarations.push(format!("{code},{year},{declared}"));
                }
            }
        }
    }
    file(
        ImportKind::Permits,
        "permits.csv".into(),
        "统一社会信用代码,许可证类型,许可证编号,发证机关,有效期起,有效期至",
        permits,
    );
    file(
        ImportKind::HazardSources,
        "hazard-sources.csv".into(),
        "统一社会信用代码,危险源名称,等级,备案日期",
        sources,
    );
    file(
        ImportKind::Staff,
        "staff.csv".into(),
        "统一社会信用代码,人员类别,姓名,证书编号,证书类型,有效期至",
        staff,
    );
    file(
        ImportKind::EmergencyPlans,
        "emergency-plans.csv".into(),
        "统一社会信用代码,预案名称,备案日期,有效期至",
        plans,
    );
    file(
        ImportKind::HealthDeclarations,
        "health-declarations.csv".into(),
        "统一社会信用代码,申报年度,申报日期",
        declarations,
    );

    let districts = world.districts();
    let mut hotline = Vec::new();
    let mut mailbox = Vec::new();
    let months = months_between(first, last);
    let letters_per_month = (world.enterprises.len() as f64 / 325.0).max(1.0);
    for (month_first, month_last) in &months {
        let mut serial = 0;
        for e in &world.enterprises {
            for _ in 0..rng.poisson(0.06) {
                serial += 1;
                let on = day(rng, *month_first, *month_last);
                let category = *rng.pick(&["举报", "举报", "投诉", "投诉", "咨询", "建议", "其他"]);
                let status =
                    *rng.pick(&["已办结", "已办结", "已办结", "处理中", "待处理", "不予受理"]);
                let (industry, code) = if rng.chance(0.7) {
                    ("", e.credit_code.as_str())
                } else {
                    ("其他", "")
                };
                hotline.push(format!(
                    "12350-{}-{serial:04},{on} {:02}:{:02},{},{industry},{category},{code},{},{status}",
                    on.format("%Y%m%d"),
                    rng.between(8, 21),
                    rng.between(0, 59),
                    district_of(&e.region_code),
                    rng.pick(HOTLINE_SUMMARIES)
                ));
            }
        }
        for n in 0..rng.poisson(letters_per_month) {
            let on = day(rng, *month_first, *month_last);
            let kind = *rng.pick(&["建议", "投诉", "咨询"]);
            let district = if rng.chance(0.8) {
                *rng.pick(&districts)
            } else {
                ""
            };
            let status = *rng.pick(&["已办结", "已办结", "处理中", "待处理"]);
            mailbox.push(format!(
                "JZXX-{}-{:03},{on},{kind},{district},{},{status}",
                month_first.format("%Y%m"),
                n + 1,
                rng.pick(MAILBOX_SUMMARIES)
            ));
        }
    }
    file(
        ImportKind::Hotline,
        "hotline.csv".into(),
        "工单编号,受理时间,区县代码,行业,类别,统一社会信用代码,内容摘要,办理状态",
        hotline,
    );
    file(
        ImportKind::Mailbox,
        "mailbox.csv".into(),
        "信件编号,收信日期,类型,区县代码,内容摘要,办理状态",
        mailbox,
    );

    // Mines keep a duty leader on the day shift; each mine has its own discipline.
    let mines: Vec<(&Enterprise, [String; 2], f64)> = world
        .enterprises
        .iter()
        .filter(|e| e.industry == "非煤矿山")
        .map(|e| {
            let leaders = [person_name(rng), person_name(rng)];
            (e, leaders, 0.85 + 0.14 * rng.unit())
        })
        .collect();
    for (month_first, month_last) in &months {
        let mut rows = Vec::new();
        for (e, leaders, discipline) in &mines {
            let mut on = *month_first;
            while on <= *month_last {
                let leader = &leaders[(on.day() % 2) as usize];
                let present = if rng.chance(*discipline) {
                    "是"
                } else {
                    "否"
                };
                rows.push(format!(
                    "{},{on},白班,{leader},{present}",
                    e.credit_code.as_str()
                ));
                on += Duration::days(1);
            }
        }
        file(
            ImportKind::Attendance,
            format!("attendance-{}.csv", month_first.format("%Y-%m")),
            "统一社会信用代码,日期,班次,带班领导,是否在岗",
            rows,
        );
    }
    // The same leaders as the face terminals know them (simulate-iot's check-ins use L01–L03).
    let roster = mines
        .iter()
        .flat_map(|(e, leaders, _)| {
            leaders.iter().zip(["矿长", "安全副矿长"]).enumerate().map(
                move |(n, (name, position))| {
                    format!("{},L{:02},{name},{position}", e.credit_code.as_str(), n + 1)
                },
            )
        })
        .collect();
    file(
        ImportKind::DutyLeaders,
        "duty-leaders.csv".into(),
        "统一社会信用代码,人员编号,姓名,职务",
        roster,
    );
    files
}

fn short_industry(industry: &str) -> &str {
    match industry {
        "危险化学品" => "危险化学品",
        "非煤矿山" => "金属非金属矿山",
        _ => "工贸",
    }
}

/// The first and last day of every month from `first`'s to `last`'s, clipped to the range.
pub fn months_between(first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut months = Vec::new();
    let mut start = first;
    while start <= last {
        let next = if start.month() == 12 {
            NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
        }
        .unwrap_or(last + Duration::days(1));
        let end = (next - Duration::days(1)).min(last);
        months.push((start, end));
        start = next;
    }
    months
}
