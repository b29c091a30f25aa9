//! The Zibo demo world: the regions of the demo enterprises, the example agency, the shipped
//! checklists, the demo enterprise register, and one account of every role. `serve --demo`
//! loads it into an empty server; the end-to-end tests start from it.

use chrono::NaiveDate;

use crate::admin::{self, NewAccount};
use crate::error::{AppError, AppResult};
use crate::store::{Region, Store};

pub const REGIONS_CSV: &str = include_str!("../../templates/demo/regions.csv");
pub const ENTERPRISES_CSV: &str = include_str!("../../templates/demo/enterprises.csv");
pub const AGENCY_TOML: &str = include_str!("../../templates/agency.example.toml");

/// Accounts of the demo world: login, name, role, scope, enforcement certificate.
pub const ACCOUNTS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    ("city", "王市监", "city_supervisor", "370300", None),
    ("district", "赵区监", "district_supervisor", "370303", None),
    ("town", "钱镇监", "town_supervisor", "370303007", None),
    ("zhang", "张伟", "inspector", "370303007", Some("37030001")),
    ("li", "李娜", "inspector", "370303007", Some("37030002")),
    ("expert", "孙专家", "expert", "370303", None),
    (
        "resident",
        "周驻厂",
        "resident_inspector",
        "370303007",
        None,
    ),
    (
        "officer",
        "陈安全",
        "enterprise_officer",
        "913703030226339277",
        None,
    ),
    ("chen", "陈刚", "inspector", "370302103", Some("37020001")),
    ("wu", "吴敏", "inspector", "370302103", Some("37020002")),
    (
        "foreign_town",
        "郑镇监",
        "town_supervisor",
        "370302103",
        None,
    ),
    (
        "foreign_officer",
        "吴安全",
        "enterprise_officer",
        "913703020590819387",
        None,
    ),
];

/// The demo regions, parents before children.
pub fn regions() -> AppResult<Vec<Region>> {
    REGIONS_CSV
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            match fields.as_slice() {
                [code, name, parent] => Ok(Region {
                    code: code.to_string(),
                    name: name.to_string(),
                    parent: Some(parent.to_string()).filter(|p| !p.is_empty()),
                }),
                _ => Err(AppError::internal("demo regions", line)),
            }
        })
        .collect()
}

/// Loads the demo world; every demo account gets `password`. Accounts that exist are kept.
pub fn seed(store: &Store, password: &str) -> AppResult<()> {
    let known = store.regions()?;
    for region in regions()? {
        if !known.iter().any(|r| r.code == region.code) {
            admin::add_region(store, &region)?;
        }
    }
    admin::set_agency(store, "agency.example.toml", AGENCY_TOML)?;
    admin::publish_builtin_templates(store)?;
    admin::import_enterprises(store, "enterprises.csv", ENTERPRISES_CSV.as_bytes())?;
    for (login, name, role, scope, cert) in ACCOUNTS {
        if store.user(login)?.is_some() {
            continue;
        }
        admin::add_user(
            store,
            &NewAccount {
                login: login.to_string(),
                name: name.to_string(),
                role: role.to_string(),
                scope: scope.to_string(),
                cert: cert.map(str::to_string),
                cert_valid_until: cert.and(NaiveDate::from_ymd_opt(2030, 12, 31)),
                password: password.to_string(),
            },
        )?;
    }
    Ok(())
}
