//! What happened: every inspection of the period as a plan (who, where, when, which items
//! failed, when it was uploaded), then each plan written into a record document exactly as a
//! device writes one — core's `RecordDoc` and `build_answer`, documents numbered from blocks
//! leased to the device.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};

use anjian_core::agency::{Agency, DocType};
use anjian_core::inspection::{AnswerDetails, Attribution, build_answer, checklist};
use anjian_core::record::{
    HazardEntry, Inspector, IssuedDocument, NewRecord, Person, Record, RecordDoc, RecordKind,
    Reinspects,
};
use anjian_core::template::{AnswerKind, InspectionKind, Item, Template};
use anjian_core::time::{china, china_date};

use super::names::PLACES;
use super::rng::Rng;
use super::world::{Staff, World, district_of, months_between};

/// Checklists by inspection kind and industry.
pub struct Checklists {
    pub by_id: HashMap<String, Arc<Template>>,
}

impl Checklists {
    pub const SELF: &'static str = "self-monthly";
    pub const EXPERT: &'static str = "expert-general";
    pub const RESIDENT: &'static str = "resident-weekly";

    /// The enforcement checklist of an industry, if one is shipped.
    pub fn enforcement_for(industry: &str) -> Option<&'static str> {
        match industry {
            "危险化学品" => Some("hazchem-enforcement"),
            "非煤矿山" => Some("mine-enforcement"),
            "工贸" => Some("trade-enforcement"),
            _ => None,
        }
    }

    fn get(&self, id: &str) -> &Template {
        &self.by_id[id]
    }
}

/// How often things happen, per enterprise and month unless said otherwise.
pub struct Rates {
    pub monthly_self_done: f64,
    pub monthly_self_late: f64,
    pub extra_self: f64,
    pub expert: f64,
    pub enforcement: f64,
    pub resident_week_done: f64,
    /// Mean failed items per inspection of each kind.
    pub failures: [(InspectionKind, f64); 4],
}

impl Rates {
    /// About 200,000 self-inspections, 20,000 expert checks and 60,000 enforcement
    /// inspections for 2,600 enterprises over 36 months, and 140,000 hazards.
    pub const CITY: Rates = Rates {
        monthly_self_done: 0.90,
        monthly_self_late: 0.15,
        extra_self: 1.24,
        expert: 0.214,
        enforcement: 0.641,
        resident_week_done: 0.92,
        failures: [
            (InspectionKind::SelfInspection, 0.2),
            (InspectionKind::Expert, 2.0),
            (InspectionKind::Enforcement, 1.0),
            (InspectionKind::Resident, 0.3),
        ],
    };

    fn failures(&self, kind: InspectionKind) -> f64 {
        self.failures
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0.0, |f| f.1)
    }
}

/// One inspection: found hazards are (item, deadline).
#[derive(Debug, Clone)]
pub struct Inspection {
    pub enterprise: usize,
    pub kind: InspectionKind,
    pub template: &'static str,
    pub colleague: Option<usize>,
    pub started_at: DateTime<Utc>,
    /// `None`: still a draft when uploaded.
    pub submitted_at: Option<DateTime<Utc>>,
    pub failures: Vec<(String, NaiveDate)>,
    pub place: &'static str,
}

/// The re-inspection of an inspection's hazards; `still_failing` is an item found not yet
/// rectified, with its new deadline.
#[derive(Debug, Clone)]
pub struct Recheck {
    pub original: usize,
    pub started_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    pub still_failing: Option<(String, NaiveDate)>,
}

#[derive(Debug, Clone)]
pub enum Work {
    Inspection(Inspection),
    Recheck(Recheck),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub upload_at: DateTime<Utc>,
    /// The account whose device creates and uploads the record.
    pub owner: usize,
    pub work: Work,
}

impl Plan {
    pub fn submitted(&self) -> bool {
        match &self.work {
            Work::Inspection(i) => i.submitted_at.is_some(),
            Work::Recheck(_) => true,
        }
    }
}

/// An instant from a date and a time of day in China.
pub fn china_instant(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let local = date.and_hms_opt(hour, minute, 0).unwrap_or_default();
    china()
        .from_local_datetime(&local)
        .single()
        .map_or_else(Utc::now, |at| at.with_timezone(&Utc))
}

/// A working day in the month: the drawn day, moved to the Monday after a weekend when that
/// stays in the month.
fn working_day(rng: &mut Rng, first: NaiveDate, last: NaiveDate) -> NaiveDate {
    let day = first + Duration::days(rng.between(0, (last - first).num_days()));
    let shifted = match day.weekday() {
        Weekday::Sat => day + Duration::days(2),
        Weekday::Sun => day + Duration::days(1),
        _ => day,
    };
    if shifted <= last { shifted } else { day }
}

/// Days to rectify a hazard of a class: the gravest longest, as orders give time for works.
fn rectification_days(class: &str) -> i64 {
    match class {
        "重大" | "A" => 30,
        "一般" | "B" => 15,
        _ => 7,
    }
}

/// Who inspects: the kind and checklist, the account whose device writes the record, and
/// the enforcement colleague.
#[derive(Debug, Clone, Copy)]
struct Who {
    kind: InspectionKind,
    template: &'static str,
    owner: usize,
    colleague: Option<usize>,
}

impl Who {
    fn alone(kind: InspectionKind, template: &'static str, owner: usize) -> Who {
        Who {
            kind,
            template,
            owner,
            colleague: None,
        }
    }
}

/// The days a history covers (China dates) and the instant it ends.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub now: DateTime<Utc>,
}

/// Plans every record of the period up to its end, in no particular order.
pub fn plan(
    rng: &mut Rng,
    world: &World,
    staff: &Staff,
    checklists: &Checklists,
    rates: &Rates,
    period: Period,
) -> Vec<Plan> {
    let Period { first, last, now } = period;
    let mut plans = Vec::new();
    let months = months_between(first, last);
    let recent = now - Duration::days(14);
    for (index, enterprise) in world.enterprises.iter().enumerate() {
        let officer = staff.officers[index];
        let district = district_of(&enterprise.region_code);
        let enforcement = Checklists::enforcement_for(&enterprise.industry);
        let self_check = Who {
            kind: InspectionKind::SelfInspection,
            template: Checklists::SELF,
            owner: officer,
            colleague: None,
        };
        let inspect = |rng: &mut Rng,
                       plans: &mut Vec<Plan>,
                       who: &Who,
                       started_at: DateTime<Utc>,
                       submitted_at: DateTime<Utc>| {
            let Who {
                kind,
                template,
                owner,
                colleague,
            } = *who;
            if started_at > now {
                return;
            }
            let draft = submitted_at > now
                || (kind != InspectionKind::SelfInspection
                    && started_at > recent
                    && rng.chance(0.05));
            let failures = if draft {
                Vec::new()
            } else {
                failures(
                    rng,
                    checklists.get(template),
                    rates.failures(kind),
                    china_date(started_at),
                )
            };
            let upload_at = if draft {
                (started_at + Duration::minutes(rng.between(30, 120))).min(now)
            } else {
                (submitted_at + Duration::minutes(rng.between(10, 600))).min(now)
            };
            let inspection = Inspection {
                enterprise: index,
                kind,
                template,
                colleague,
                started_at,
                submitted_at: (!draft).then_some(submitted_at),
                failures,
                place: PLACES[rng.below(PLACES.len() as u64) as usize],
            };
            let original = plans.len();
            let recheck = recheck_of(rng, &inspection, original, now);
            plans.push(Plan {
                upload_at,
                owner,
                work: Work::Inspection(inspection),
            });
            // A re-inspection starts after the inspection reached the server.
            if let Some(recheck) = recheck.filter(|r| r.started_at > upload_at) {
                plans.push(Plan {
                    upload_at: (recheck.submitted_at + Duration::minutes(rng.between(10, 600)))
                        .min(now),
                    owner,
                    work: Work::Recheck(recheck),
                });
            }
        };
        for (month_first, month_last) in &months {
            if rng.chance(rates.monthly_self_done) {
                let (started, submitted) = if rng.chance(rates.monthly_self_late) {
                    // Started at the month's end, finished after the 5th of the next.
                    let started = china_instant(
                        (*month_last - Duration::days(rng.between(0, 5))).max(*month_first),
                        15,
                        0,
                    );
                    let next = *month_last + Duration::days(rng.between(6, 20));
                    (started, china_instant(next, 10, rng.between(0, 59) as u32))
                } else {
                    let day = working_day(rng, *month_first, *month_last);
                    let started = china_instant(day, rng.between(8, 15) as u32, 0);
                    (started, started + Duration::minutes(rng.between(20, 90)))
                };
                inspect(rng, &mut plans, &self_check, started, submitted);
            }
            for _ in 0..rng.poisson(rates.extra_self) {
                let day = working_day(rng, *month_first, *month_last);
                let started = china_instant(day, rng.between(8, 16) as u32, 0);
                let submitted = started + Duration::minutes(rng.between(20, 90));
                inspect(rng, &mut plans, &self_check, started, submitted);
            }
            for _ in 0..rng.poisson(rates.expert) {
                let expert = *rng.pick(&staff.experts[district]);
                let day = working_day(rng, *month_first, *month_last);
                let started = china_instant(day, rng.between(8, 14) as u32, 30);
                let submitted = started + Duration::minutes(rng.between(90, 240));
                let visit = Who::alone(InspectionKind::Expert, Checklists::EXPERT, expert);
                inspect(rng, &mut plans, &visit, started, submitted);
            }
            if let Some(template) = enforcement {
                for _ in 0..rng.poisson(rates.enforcement) {
                    let (owner, colleague) = *rng.pick(&staff.teams[district]);
                    let day = working_day(rng, *month_first, *month_last);
                    let started = china_instant(day, rng.between(8, 14) as u32, 0);
                    let submitted = started + Duration::minutes(rng.between(60, 180));
                    let team = Who {
                        kind: InspectionKind::Enforcement,
                        template,
                        owner,
                        colleague: Some(colleague),
                    };
                    inspect(rng, &mut plans, &team, started, submitted);
                }
            }
        }
        if let Some(&resident) = staff.residents.get(&index) {
            let mut monday = first - Duration::days(first.weekday().num_days_from_monday() as i64);
            while monday <= last {
                if rng.chance(rates.resident_week_done) {
                    let day = (monday + Duration::days(rng.between(0, 4))).max(first);
                    let started = china_instant(day, rng.between(9, 15) as u32, 0);
                    let submitted = started + Duration::minutes(rng.between(30, 90));
                    let visit =
                        Who::alone(InspectionKind::Resident, Checklists::RESIDENT, resident);
                    inspect(rng, &mut plans, &visit, started, submitted);
                }
                monday += Duration::days(7);
            }
        }
    }
    plans
}

/// Items that fail (answerable pass/fail: check and measured items), each with its
/// deadline.
fn failures(
    rng: &mut Rng,
    template: &Template,
    mean: f64,
    found: NaiveDate,
) -> Vec<(String, NaiveDate)> {
    let candidates: Vec<&Item> = template
        .items
        .iter()
        .filter(|i| i.required && !matches!(i.answer, AnswerKind::Text))
        .collect();
    let count = (rng.poisson(mean) as usize).min(candidates.len());
    let mut chosen = HashSet::new();
    let mut list = Vec::new();
    while list.len() < count {
        let item = candidates[rng.below(candidates.len() as u64) as usize];
        if chosen.insert(&item.code) {
            let deadline = found + Duration::days(rectification_days(&item.class));
            list.push((item.code.clone(), deadline));
        }
    }
    list
}

/// The re-inspection of a submitted inspection's hazards: most on or before the earliest
/// deadline, some late, some not yet done; a few find one hazard still there.
fn recheck_of(
    rng: &mut Rng,
    inspection: &Inspection,
    original: usize,
    now: DateTime<Utc>,
) -> Option<Recheck> {
    let submitted = inspection.submitted_at?;
    let deadline = inspection.failures.iter().map(|f| f.1).min()?;
    let found = china_date(submitted);
    let roll = rng.unit();
    let day = if roll < 0.80 {
        let slack = (deadline - found).num_days().clamp(1, 5);
        (deadline - Duration::days(rng.between(0, slack - 1))).max(found + Duration::days(1))
    } else if roll < 0.92 {
        (deadline + Duration::days(rng.between(1, 20))).max(found + Duration::days(1))
    } else {
        return None;
    };
    let started_at = china_instant(day, rng.between(9, 15) as u32, 0);
    let submitted_at = started_at + Duration::minutes(rng.between(20, 60));
    if submitted_at > now {
        return None;
    }
    let still_failing = (roll < 0.80 && rng.chance(0.04)).then(|| {
        let item = inspection.failures[rng.below(inspection.failures.len() as u64) as usize]
            .0
            .clone();
        (item, day + Duration::days(15))
    });
    Some(Recheck {
        original,
        started_at,
        submitted_at,
        still_failing,
    })
}

/// How many numbers of each type each device issues each year: the blocks to lease.
pub fn numbers_needed(plans: &[Plan]) -> BTreeMap<(usize, DocType, i32), u32> {
    let mut needed = BTreeMap::new();
    for plan in plans {
        let (at, types): (DateTime<Utc>, &[DocType]) = match &plan.work {
            Work::Inspection(i) if i.kind == InspectionKind::Enforcement => match i.submitted_at {
                Some(at) if i.failures.is_empty() => (at, &[DocType::Record]),
                Some(at) => (at, &[DocType::Record, DocType::Order]),
                None => continue,
            },
            Work::Recheck(r) if is_enforcement(plans, r) => {
                (r.submitted_at, &[DocType::Reinspection])
            }
            _ => continue,
        };
        for doc_type in types {
            *needed
                .entry((plan.owner, *doc_type, china_date(at).year()))
                .or_insert(0) += 1;
        }
    }
    needed
}

fn is_enforcement(plans: &[Plan], recheck: &Recheck) -> bool {
    matches!(&plans[recheck.original].work, Work::Inspection(i) if i.kind == InspectionKind::Enforcement)
}

/// What a later re-inspection needs of an inspection once it is written.
pub struct Written {
    pub record_id: String,
    pub started_at: DateTime<Utc>,
    pub hazards: Vec<HazardEntry>,
    pub order: Option<(String, DateTime<Utc>)>,
}

/// A record ready to upload.
pub struct Built {
    pub id: String,
    pub heads: Vec<String>,
    pub bytes: Vec<u8>,
}

/// Writes plans into record documents: one per plan, in upload order, keeping what
/// re-inspections need of the inspections they follow.
pub struct Writer<'a> {
    pub world: &'a World,
    pub staff: &'a Staff,
    pub checklists: &'a Checklists,
    pub agency: &'a Agency,
    /// The next serial of each (owner, type, year), from its leased block.
    pub serials: HashMap<(usize, DocType, i32), u32>,
    /// Inspections that a planned re-inspection follows up.
    pub followed: HashSet<usize>,
    pub written: HashMap<usize, Written>,
}

type Result<T> = std::result::Result<T, String>;

impl Writer<'_> {
    fn inspector(&self, account: usize) -> Inspector {
        let a = &self.staff.accounts[account];
        Inspector {
            name: a.name.clone(),
            cert: a.signature().to_string(),
            cert_valid_until: a.cert.as_ref().and(NaiveDate::from_ymd_opt(2030, 12, 31)),
        }
    }

    fn person(&self, account: usize) -> Person {
        let a = &self.staff.accounts[account];
        Person {
            name: a.name.clone(),
            cert: a.signature().to_string(),
        }
    }

    fn number(&mut self, owner: usize, doc_type: DocType, at: DateTime<Utc>) -> Result<String> {
        let year = china_date(at).year();
        let serial = self
            .serials
            .get_mut(&(owner, doc_type, year))
            .ok_or_else(|| format!("no block leased for {doc_type:?} {year}"))?;
        let number = self.agency.format_number(doc_type, year, *serial);
        *serial += 1;
        Ok(number)
    }

    pub fn write(&mut self, plans: &[Plan], index: usize) -> Result<Built> {
        let plan = &plans[index];
        match &plan.work {
            Work::Inspection(inspection) => self.inspection(index, plan.owner, inspection),
            Work::Recheck(recheck) => self.recheck(plans, plan.owner, recheck),
        }
    }

    /// A new record of `inspection`'s kind, enterprise, checklist and inspectors, created on
    /// `owner`'s device.
    fn create(
        &self,
        kind: RecordKind,
        owner: usize,
        inspection: &Inspection,
        started_at: DateTime<Utc>,
        reinspects: Option<Reinspects>,
    ) -> Result<RecordDoc> {
        let template = self.checklists.get(inspection.template);
        let mut inspectors = vec![self.inspector(owner)];
        inspectors.extend(inspection.colleague.map(|c| self.inspector(c)));
        RecordDoc::create(&NewRecord {
            kind,
            inspection_kind: inspection.kind,
            agency: (inspection.kind == InspectionKind::Enforcement)
                .then(|| self.agency.name.clone()),
            template_id: template.id.clone(),
            template_version: template.version,
            enterprise: self.world.enterprises[inspection.enterprise].clone(),
            inspectors,
            place: inspection.place.to_string(),
            gps: None,
            started_at,
            device_id: self.staff.accounts[owner].device_id.clone(),
            reinspects,
            amends: None,
        })
        .map_err(|e| e.to_string())
    }

    /// Issues a document of the record with the owner's next number; returns the number.
    fn issue(
        &mut self,
        doc: &mut RecordDoc,
        owner: usize,
        doc_type: DocType,
        issued_at: DateTime<Utc>,
    ) -> Result<String> {
        let number = self.number(owner, doc_type, issued_at)?;
        doc.put_document(&IssuedDocument {
            doc_type,
            number: number.clone(),
            issued_at,
            issued_by: self.person(owner),
        })
        .map_err(|e| e.to_string())?;
        Ok(number)
    }

    fn inspection(&mut self, index: usize, owner: usize, plan: &Inspection) -> Result<Built> {
        let template = self.checklists.get(plan.template);
        let mut doc = self.create(RecordKind::Inspection, owner, plan, plan.started_at, None)?;
        let record = doc.read().map_err(|e| e.to_string())?;
        let by = self.attribution(owner, plan.started_at);
        let required: Vec<&Item> = template.items.iter().filter(|i| i.required).collect();
        let answered = if plan.submitted_at.is_some() {
            required.len()
        } else {
            required.len() / 2
        };
        for (n, item) in required.iter().take(answered).enumerate() {
            let failing = plan.failures.iter().find(|f| f.0 == item.code);
            let input = match failing {
                Some(_) => failing_input(&item.answer),
                None => passing_input(&item.answer),
            };
            let at = plan.started_at + Duration::seconds(40 * n as i64);
            answer(
                &mut doc,
                &record,
                item,
                &input,
                failing.map(|f| f.1),
                &by,
                at,
            )?;
        }
        let mut order = None;
        if let Some(submitted_at) = plan.submitted_at {
            if plan.kind == InspectionKind::Enforcement {
                self.issue(
                    &mut doc,
                    owner,
                    DocType::Record,
                    submitted_at - Duration::minutes(5),
                )?;
                if !plan.failures.is_empty() {
                    let issued_at = submitted_at - Duration::minutes(4);
                    let number = self.issue(&mut doc, owner, DocType::Order, issued_at)?;
                    order = Some((number, issued_at));
                }
            }
            doc.mark_submitted(submitted_at, &by.by)
                .map_err(|e| e.to_string())?;
        }
        let (record, built) = finish(doc)?;
        if self.followed.contains(&index) {
            self.written.insert(
                index,
                Written {
                    record_id: record.id,
                    started_at: record.started_at,
                    hazards: record.hazards,
                    order,
                },
            );
        }
        Ok(built)
    }

    fn recheck(&mut self, plans: &[Plan], owner: usize, plan: &Recheck) -> Result<Built> {
        let Work::Inspection(inspection) = &plans[plan.original].work else {
            return Err("a re-inspection of a re-inspection".into());
        };
        let original = self
            .written
            .remove(&plan.original)
            .ok_or("a re-inspection planned before its inspection")?;
        let (order_number, order_issued_at) = original.order.unzip();
        let reinspects = Reinspects {
            record_id: original.record_id,
            inspected_at: Some(original.started_at),
            order_number,
            order_issued_at,
            hazards: original.hazards,
        };
        let mut doc = self.create(
            RecordKind::Reinspection,
            owner,
            inspection,
            plan.started_at,
            Some(reinspects),
        )?;
        let record = doc.read().map_err(|e| e.to_string())?;
        let by = self.attribution(owner, plan.started_at);
        let template = self.checklists.get(inspection.template);
        for (n, item) in checklist(&record, template).iter().enumerate() {
            let failing = plan
                .still_failing
                .as_ref()
                .filter(|(code, _)| *code == item.code);
            let input = if failing.is_some() { "fail" } else { "pass" };
            let at = plan.started_at + Duration::seconds(60 * n as i64);
            answer(
                &mut doc,
                &record,
                item,
                input,
                failing.map(|f| f.1),
                &by,
                at,
            )?;
        }
        if inspection.kind == InspectionKind::Enforcement {
            let issued_at = plan.submitted_at - Duration::minutes(2);
            self.issue(&mut doc, owner, DocType::Reinspection, issued_at)?;
        }
        doc.mark_submitted(plan.submitted_at, &by.by)
            .map_err(|e| e.to_string())?;
        Ok(finish(doc)?.1)
    }

    fn attribution(&self, owner: usize, at: DateTime<Utc>) -> Attribution {
        Attribution {
            by: self.person(owner),
            device: self.staff.accounts[owner].device_id.clone(),
            at,
        }
    }
}

/// Answers an item as the device would from the inspector's input, with the deadline of a
/// failed item.
fn answer(
    doc: &mut RecordDoc,
    record: &Record,
    item: &Item,
    input: &str,
    deadline: Option<NaiveDate>,
    by: &Attribution,
    at: DateTime<Utc>,
) -> Result<()> {
    let details = AnswerDetails {
        deadline,
        ..AnswerDetails::default()
    };
    let attribution = Attribution { at, ..by.clone() };
    let answer = build_answer(record, item, input, &details, Vec::new(), &attribution)
        .map_err(|e| e.to_string())?;
    doc.put_answer(&item.code, &answer)
        .map_err(|e| e.to_string())
}

/// The record as written, and what its upload carries.
fn finish(mut doc: RecordDoc) -> Result<(Record, Built)> {
    let record = doc.read().map_err(|e| e.to_string())?;
    let built = Built {
        id: record.id.clone(),
        heads: record.heads.clone(),
        bytes: doc.save(),
    };
    Ok((record, built))
}

fn passing_input(kind: &AnswerKind) -> String {
    match kind {
        AnswerKind::Check => "pass".into(),
        AnswerKind::Measure { min, max, .. } => min.or(*max).unwrap_or(0.0).to_string(),
        AnswerKind::Text => "已检查，情况正常".into(),
    }
}

fn failing_input(kind: &AnswerKind) -> String {
    match kind {
        AnswerKind::Measure { max: Some(max), .. } => (max + max.abs() * 0.2 + 1.0).to_string(),
        AnswerKind::Measure { min: Some(min), .. } => (min - min.abs() * 0.2 - 1.0).to_string(),
        _ => "fail".into(),
    }
}
