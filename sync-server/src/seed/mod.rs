//! Synthetic history, for the demonstration (`serve --demo`) and the city-scale benchmarks
//! (`anjian-server seed --scale city`): one generator at two scales.
//!
//! Everything goes in through the paths real data takes: regions through `admin::add_region`,
//! the register and the supervisors' reference data as the CSV files an administrator imports
//! (`admin::import_enterprises`, `admin::import_reference`), and every record as a device
//! writes it (core's `RecordDoc` and `build_answer`, documents numbered from blocks leased to
//! the device) and uploads it: a [`SyncRequest`] handled by [`crate::sync::handle_sync`], the
//! upload handler itself, at the instant the device would have synced. Only two shortcuts:
//! the seeded accounts share one Argon2 hash of the one password (hashing 2,800 passwords
//! would cost minutes and prove nothing), and each device's number blocks are leased once per
//! type and year, sized to what it issues, through the same `Store::lease_block` the sync
//! uses.

mod history;
mod names;
pub mod rng;
mod world;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::mpsc;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use anjian_core::agency::Agency;
use anjian_core::sync::protocol::{RecordUpload, SyncRequest, UploadResult};
use anjian_core::template::InspectionKind;
use anjian_core::time::china_date;

use crate::admin;
use crate::auth::{Caller, hash_password};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::User;
use history::{Checklists, Plan, Rates, Work, Writer, china_instant};
use rng::Rng;
use world::{Staff, World};

/// How big a world to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The demo world's 12 enterprises and accounts, and a year of their history.
    Demo,
    /// 2,600 enterprises in 88 towns of 8 districts, and three years of history.
    City,
}

impl Scale {
    pub fn parse(text: &str) -> Option<Scale> {
        match text {
            "demo" => Some(Scale::Demo),
            "city" => Some(Scale::City),
            _ => None,
        }
    }

    fn months(self) -> u32 {
        match self {
            Scale::Demo => 12,
            Scale::City => 36,
        }
    }
}

/// What a seed wrote.
#[derive(Debug, Default)]
pub struct SeedSummary {
    pub regions: usize,
    pub enterprises: usize,
    pub accounts: usize,
    /// Rows per reference import kind.
    pub reference: BTreeMap<&'static str, usize>,
    /// Records per inspection kind (re-inspections included).
    pub records: BTreeMap<&'static str, usize>,
    pub reinspections: usize,
    pub drafts: usize,
    pub hazards: usize,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub seconds: f64,
}

impl SeedSummary {
    pub fn total_records(&self) -> usize {
        self.records.values().sum()
    }
}

impl std::fmt::Display for SeedSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let label = |kind: &str| {
            InspectionKind::parse(kind).map_or("复查".to_string(), |k| k.label().to_string())
        };
        let records: Vec<String> = self
            .records
            .iter()
            .map(|(kind, n)| format!("{}{n}", label(kind)))
            .collect();
        let reference: Vec<String> = self
            .reference
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        write!(
            f,
            "{}至{}：区划 {} 个，企业 {} 家，账号 {} 个；检查记录 {} 份（{}；其中复查 {}、草稿 {}），隐患 {} 项；参考数据 {}；用时 {:.0} 秒",
            self.from.map(|d| d.to_string()).unwrap_or_default(),
            self.until.map(|d| d.to_string()).unwrap_or_default(),
            self.regions,
            self.enterprises,
            self.accounts,
            self.total_records(),
            records.join("、"),
            self.reinspections,
            self.drafts,
            self.hazards,
            reference.join("、"),
            self.seconds
        )
    }
}

/// Seeds an empty store with a world of `scale` and its history up to `now`; every account
/// it creates gets `password`. `progress` hears a line now and then.
pub fn seed(
    state: &AppState,
    scale: Scale,
    password: &str,
    now: DateTime<Utc>,
    progress: &mut dyn FnMut(&str),
) -> AppResult<SeedSummary> {
    let started = Instant::now();
    let store = state.store.as_ref();
    if !store.regions()?.is_empty() {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "not_empty",
            "数据库中已有区划和数据：模拟数据只能写入新建的空数据库",
        ));
    }
    let mut rng = Rng::new(match scale {
        Scale::Demo => 2024,
        Scale::City => 370300,
    });
    admin::publish_builtin_templates(store)?;
    let world = match scale {
        Scale::Demo => {
            crate::demo::seed(store, password)?;
            World::demo()?
        }
        Scale::City => {
            let world = World::city(&mut rng.fork(1), 11, 2_600);
            for region in &world.regions {
                admin::add_region(store, region)?;
            }
            admin::import_enterprises(store, "enterprises.csv", world.register_csv().as_bytes())?;
            admin::set_agency(store, "agency.example.toml", crate::demo::AGENCY_TOML)?;
            world
        }
    };
    let mut summary = SeedSummary {
        regions: world.regions.len(),
        enterprises: world.enterprises.len(),
        ..SeedSummary::default()
    };
    progress(&format!(
        "区划 {} 个、企业 {} 家已登记",
        summary.regions, summary.enterprises
    ));

    let staff = Staff::hire(&mut rng.fork(2), &world, scale == Scale::City);
    let hash = hash_password(password).map_err(|e| AppError::internal("password hash", e))?;
    let users: Vec<User> = staff
        .accounts
        .iter()
        .map(|a| User {
            login: a.login.clone(),
            name: a.name.clone(),
            role: a.role,
            scope: a.scope.clone(),
            cert: a.cert.clone(),
            cert_valid_until: a.cert.as_ref().and(NaiveDate::from_ymd_opt(2030, 12, 31)),
            password_hash: hash.clone(),
            disabled: false,
        })
        .collect();
    for user in &users {
        store.add_user(user)?;
    }
    summary.accounts = users.len();

    let last = china_date(now);
    let first = months_back(last, scale.months());
    summary.from = Some(first);
    summary.until = Some(last);
    for file in world::reference_files(&mut rng.fork(3), &world, first, last) {
        let imported = admin::import_reference(store, file.kind, &file.label, file.csv.as_bytes())?;
        *summary.reference.entry(file.kind.name()).or_insert(0) += imported.total();
    }
    progress(&format!("账号 {} 个、参考数据已导入", summary.accounts));

    let mut checklists = Checklists {
        by_id: HashMap::new(),
    };
    for id in [
        Checklists::SELF,
        Checklists::EXPERT,
        Checklists::RESIDENT,
        "hazchem-enforcement",
        "mine-enforcement",
        "trade-enforcement",
    ] {
        let template = state.template(id, 1)?.ok_or_else(|| {
            AppError::internal("seed", format!("checklist {id} version 1 is not published"))
        })?;
        checklists.by_id.insert(id.to_string(), template);
    }
    let agency_text = store
        .agency()?
        .ok_or_else(|| AppError::internal("seed", "no agency"))?
        .0;
    let agency =
        Agency::parse("agency", &agency_text).map_err(|e| AppError::internal("agency", e))?;

    let plans = history::plan(
        &mut rng.fork(4),
        &world,
        &staff,
        &checklists,
        &Rates::CITY,
        history::Period { first, last, now },
    );
    let mut serials = HashMap::new();
    for ((owner, doc_type, year), count) in history::numbers_needed(&plans) {
        let account = &staff.accounts[owner];
        let year_start = NaiveDate::from_ymd_opt(year, 1, 1)
            .unwrap_or(first)
            .max(first);
        let block = store.lease_block(
            &agency.name,
            doc_type,
            year,
            &account.device_id,
            &account.login,
            count,
            china_instant(year_start, 8, 0),
        )?;
        serials.insert((owner, doc_type, year), block.first);
    }
    let followed: HashSet<usize> = plans
        .iter()
        .filter_map(|p| match &p.work {
            Work::Recheck(r) => Some(r.original),
            Work::Inspection(_) => None,
        })
        .collect();
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&i| (plans[i].upload_at, i));
    progress(&format!("计划写入检查记录 {} 份", plans.len()));

    let mut writer = Writer {
        world: &world,
        staff: &staff,
        checklists: &checklists,
        agency: &agency,
        serials,
        followed,
        written: HashMap::new(),
    };
    let total = plans.len();
    std::thread::scope(|scope| -> AppResult<()> {
        // Writing documents and uploading them each take about half the work: one thread
        // each.
        let (sender, receiver) = mpsc::sync_channel(256);
        let plans = &plans;
        let order = &order;
        scope.spawn(move || {
            for &index in order {
                let built = writer.write(plans, index);
                let failed = built.is_err();
                if sender.send((index, built)).is_err() || failed {
                    break;
                }
            }
        });
        let mut done = 0;
        for (index, built) in receiver {
            let built = built.map_err(|e| AppError::internal("seed record", e))?;
            let plan = &plans[index];
            upload(
                state,
                &users[plan.owner],
                &staff.accounts[plan.owner].device_id,
                plan,
                built,
            )?;
            count(&mut summary, plan);
            done += 1;
            if done % 20_000 == 0 {
                progress(&format!(
                    "已上传 {done}/{total} 份（{:.0} 份/秒）",
                    done as f64 / started.elapsed().as_secs_f64()
                ));
            }
        }
        if done < total {
            return Err(AppError::internal("seed", "the writer stopped early"));
        }
        Ok(())
    })?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The first day of the month `months - 1` months before `last`'s: `months` calendar
/// months ending with `last`'s.
fn months_back(last: NaiveDate, months: u32) -> NaiveDate {
    let index = last.year() * 12 + last.month0() as i32 - (months as i32 - 1);
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(last - Duration::days(30 * months as i64))
}

/// Uploads one record as its device would, and insists that it was taken as planned.
fn upload(
    state: &AppState,
    user: &User,
    device_id: &str,
    plan: &Plan,
    built: history::Built,
) -> AppResult<()> {
    let caller = Caller {
        user: user.clone(),
        device_id: device_id.to_string(),
        token_hash: String::new(),
    };
    let request = SyncRequest {
        device_id: device_id.to_string(),
        cursor: state.store.current_seq()?,
        records: vec![RecordUpload {
            id: built.id.clone(),
            known_heads: Vec::new(),
            heads: built.heads,
            changes: built.bytes,
        }],
        voided_numbers: Vec::new(),
        number_requests: Vec::new(),
        known_audit_head: None,
    };
    let response = crate::sync::handle_sync(state, &caller, request, plan.upload_at)?;
    let expected = if plan.submitted() {
        UploadResult::Locked
    } else {
        UploadResult::Accepted
    };
    match response.records.first() {
        Some(result) if result.result == expected => Ok(()),
        Some(result) => Err(AppError::internal(
            "seed upload",
            format!(
                "record {} was {:?}: {}",
                built.id,
                result.result,
                result.message.clone().unwrap_or_default()
            ),
        )),
        None => Err(AppError::internal("seed upload", "no result")),
    }
}

fn count(summary: &mut SeedSummary, plan: &Plan) {
    let kind = match &plan.work {
        Work::Inspection(i) => {
            summary.hazards += i.failures.len();
            summary.drafts += usize::from(i.submitted_at.is_none());
            i.kind.as_str()
        }
        Work::Recheck(_) => {
            summary.reinspections += 1;
            "reinspection"
        }
    };
    *summary.records.entry(kind).or_insert(0) += 1;
}
