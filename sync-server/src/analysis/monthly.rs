//! The monthly self-inspection rule: an enterprise uploads the self-inspection of a month by a
//! deadline in the following month (by default the 5th, inclusive, China time). Each month of
//! a range is on time, late or missing; the late and missing lists feed penalty decisions.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::store::EnterpriseActivity;

/// The default deadline: the 5th of the following month.
pub const DEFAULT_DEADLINE_DAY: u32 = 5;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }

    pub fn last_day(self) -> Option<NaiveDate> {
        self.next().first_day()?.pred_opt()
    }

    /// The upload deadline of this month's self-inspection: day `deadline_day` of the next
    /// month, or its last day when the month is shorter.
    pub fn deadline(self, deadline_day: u32) -> Option<NaiveDate> {
        let next = self.next();
        let first = next.first_day()?;
        let last = next.next().first_day()?.pred_opt()?;
        Some(
            first
                .with_day(deadline_day.clamp(1, 31).min(last.day()))
                .unwrap_or(last),
        )
    }

    /// Every month from `from` to `to`, both included.
    pub fn range(from: Month, to: Month) -> Vec<Month> {
        let mut months = Vec::new();
        let mut month = from;
        while month <= to {
            months.push(month);
            month = month.next();
        }
        months
    }

    /// `2026-03`
    pub fn label(self) -> String {
        format!("{}-{:02}", self.year, self.month)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthStatus {
    OnTime,
    Late,
    Missing,
}

impl MonthStatus {
    pub fn label(self) -> &'static str {
        match self {
            MonthStatus::OnTime => "按时",
            MonthStatus::Late => "逾期",
            MonthStatus::Missing => "未报",
        }
    }
}

/// Each enterprise's first submission in each month of a period (consecutive months), from
/// its activity over the period (an enterprise that moved region has one per region; the
/// earliest submission counts).
#[derive(Debug)]
pub struct FirstSubmissions<'a> {
    first: Option<Month>,
    months: usize,
    by_enterprise: HashMap<&'a str, Vec<Option<NaiveDate>>>,
}

impl<'a> FirstSubmissions<'a> {
    /// From activities read over the period's days, first to last.
    pub fn of(
        activities: impl IntoIterator<Item = &'a EnterpriseActivity>,
        period: &[Month],
    ) -> FirstSubmissions<'a> {
        let mut first = FirstSubmissions {
            first: period.first().copied(),
            months: period.len(),
            by_enterprise: HashMap::new(),
        };
        for activity in activities {
            if activity.self_first_submitted.is_empty() {
                continue;
            }
            let slots = first
                .by_enterprise
                .entry(&activity.enterprise_code)
                .or_insert_with(|| vec![None; period.len()]);
            for (slot, day) in slots.iter_mut().zip(&activity.self_first_submitted) {
                if let Some(day) = *day {
                    *slot = Some(slot.map_or(day, |earliest| earliest.min(day)));
                }
            }
        }
        first
    }

    /// From (enterprise, month, submission day) triples; months outside `period` are left out.
    pub fn from_submissions(
        submissions: impl IntoIterator<Item = (&'a str, Month, NaiveDate)>,
        period: &[Month],
    ) -> FirstSubmissions<'a> {
        let mut first = FirstSubmissions {
            first: period.first().copied(),
            months: period.len(),
            by_enterprise: HashMap::new(),
        };
        for (code, month, day) in submissions {
            let Some(index) = first.index(month) else {
                continue;
            };
            let slot = &mut first
                .by_enterprise
                .entry(code)
                .or_insert_with(|| vec![None; first.months])[index];
            *slot = Some(slot.map_or(day, |earliest| earliest.min(day)));
        }
        first
    }

    fn index(&self, month: Month) -> Option<usize> {
        let first = self.first?;
        let offset = (i64::from(month.year) - i64::from(first.year)) * 12 + i64::from(month.month)
            - i64::from(first.month);
        usize::try_from(offset).ok().filter(|i| *i < self.months)
    }

    /// The enterprise's first submission in each month of the period (in order; empty when it
    /// submitted none).
    pub fn enterprise(&self, credit_code: &str) -> &[Option<NaiveDate>] {
        self.by_enterprise
            .get(credit_code)
            .map_or(&[][..], Vec::as_slice)
    }
}

/// The deadline of each month of a period, computed once for every enterprise.
pub fn deadlines(period: &[Month], deadline_day: u32) -> Vec<Option<NaiveDate>> {
    period.iter().map(|m| m.deadline(deadline_day)).collect()
}

/// A month's status given its deadline and the day its first self-inspection was submitted;
/// see [`month_status`].
pub fn status_by(
    deadline: Option<NaiveDate>,
    first: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<MonthStatus> {
    let deadline = deadline?;
    match first {
        Some(first) if first <= deadline => Some(MonthStatus::OnTime),
        Some(_) => Some(MonthStatus::Late),
        None if today <= deadline => None,
        None => Some(MonthStatus::Missing),
    }
}

/// A month's status given the dates (China time) self-inspections covering that month were
/// submitted; the earliest counts. A month whose deadline is after `today` and that has no
/// upload yet is not missing: `None`, still open.
pub fn month_status(
    month: Month,
    submitted: &[NaiveDate],
    deadline_day: u32,
    today: NaiveDate,
) -> Option<MonthStatus> {
    status_by(
        month.deadline(deadline_day),
        submitted.iter().min().copied(),
        today,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    #[test]
    fn the_deadline_is_in_the_following_month_and_clamped_to_its_length() {
        let march = Month {
            year: 2026,
            month: 3,
        };
        assert_eq!(march.deadline(5), Some(date(2026, 4, 5)));
        let december = Month {
            year: 2025,
            month: 12,
        };
        assert_eq!(december.deadline(5), Some(date(2026, 1, 5)));
        let january = Month {
            year: 2028,
            month: 1,
        };
        assert_eq!(
            january.deadline(31),
            Some(date(2028, 2, 29)),
            "leap February"
        );
    }

    #[test]
    fn the_deadline_day_itself_is_on_time() {
        let march = Month {
            year: 2026,
            month: 3,
        };
        let today = date(2026, 6, 1);
        assert_eq!(
            month_status(march, &[date(2026, 4, 5)], 5, today),
            Some(MonthStatus::OnTime)
        );
        assert_eq!(
            month_status(march, &[date(2026, 4, 6)], 5, today),
            Some(MonthStatus::Late)
        );
        // Of several uploads for a month, the earliest counts.
        assert_eq!(
            month_status(march, &[date(2026, 5, 1), date(2026, 4, 2)], 5, today),
            Some(MonthStatus::OnTime)
        );
        assert_eq!(
            month_status(march, &[], 5, today),
            Some(MonthStatus::Missing)
        );
    }

    #[test]
    fn a_month_still_open_is_not_missing() {
        let march = Month {
            year: 2026,
            month: 3,
        };
        assert_eq!(month_status(march, &[], 5, date(2026, 4, 5)), None);
        assert_eq!(
            month_status(march, &[], 5, date(2026, 4, 6)),
            Some(MonthStatus::Missing)
        );
    }

    /// November 2025 to February 2026: a period across a year's end.
    fn november_to_february() -> Vec<Month> {
        Month::range(
            Month {
                year: 2025,
                month: 11,
            },
            Month {
                year: 2026,
                month: 2,
            },
        )
    }

    #[test]
    fn a_range_lists_every_month_across_years() {
        let labels: Vec<String> = november_to_february()
            .into_iter()
            .map(Month::label)
            .collect();
        assert_eq!(labels, ["2025-11", "2025-12", "2026-01", "2026-02"]);
    }

    #[test]
    fn first_submissions_take_each_months_earliest_day_across_regions() {
        use crate::store::EnterpriseActivity;
        let period = november_to_february();
        let code = "913703030226339277";
        let activity = |region: &str, submitted: &[(usize, NaiveDate)]| {
            let mut activity = EnterpriseActivity::new(code, region);
            for (index, day) in submitted {
                activity.submitted_self(*index, period.len(), *day);
            }
            activity
        };
        let activities = [
            activity(
                "370303001",
                &[
                    (0, date(2025, 11, 2)),
                    (1, date(2025, 12, 4)),
                    (2, date(2026, 2, 2)),
                ],
            ),
            // The enterprise recorded under another region too: its earlier day counts.
            activity(
                "370303002",
                &[(1, date(2025, 12, 1)), (2, date(2026, 2, 9))],
            ),
            // Nothing submitted: no slots.
            activity("370303003", &[]),
            EnterpriseActivity::new("913703020590819387", "370303001"),
        ];
        assert!(activities[2].self_first_submitted.is_empty());
        let first = FirstSubmissions::of(&activities, &period);
        assert_eq!(
            first.enterprise(code),
            [
                Some(date(2025, 11, 2)),
                Some(date(2025, 12, 1)),
                Some(date(2026, 2, 2)),
                None
            ]
        );
        assert_eq!(first.enterprise("913703020590819387"), []);
    }
}
