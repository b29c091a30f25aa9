//! Rain events at a mine's gauge: a continuous rain event is the wet readings (rain in their
//! interval) whose dry gaps are each shorter than the configured dry period; a gap of the dry
//! period or longer ends the event, and the next wet reading starts a new one from zero.
//! The event's cumulative rainfall reaching the mine's threshold (at or above it: 50.0 mm
//! when the threshold is 50.0) means 停产撤人 at once.
//!
//! Amounts are integer tenths of a millimetre, so that exactly 50.0 compares exactly.

pub use crate::store::iot::{Episode, Reading};

/// The rain events that `readings` make, continuing `open` (an event whose readings all end
/// at or before every one of `readings` starts) when the first is close enough. Readings
/// without rain are ignored: they neither extend nor end an event (only time does).
pub fn fold(
    open: Option<Episode>,
    readings: &[Reading],
    dry_ms: i64,
    threshold_tenths: i64,
) -> Vec<Episode> {
    let mut wet: Vec<Reading> = readings.iter().copied().filter(|r| r.tenths > 0).collect();
    wet.sort_by_key(|r| (r.start_ms, r.end_ms));
    let mut episodes: Vec<Episode> = open.into_iter().collect();
    for reading in wet {
        match episodes.last_mut() {
            Some(current) if reading.start_ms - current.last_wet_ms < dry_ms => {
                current.total_tenths += reading.tenths;
                current.last_wet_ms = current.last_wet_ms.max(reading.end_ms);
                if current.reached_ms.is_none() && current.total_tenths >= threshold_tenths {
                    current.reached_ms = Some(reading.end_ms);
                }
            }
            _ => episodes.push(Episode {
                started_ms: reading.start_ms,
                last_wet_ms: reading.end_ms,
                total_tenths: reading.tenths,
                reached_ms: (reading.tenths >= threshold_tenths).then_some(reading.end_ms),
            }),
        }
    }
    episodes
}

/// Whether an event has ended by `now_ms`: the dry period has passed since its last rain.
pub fn ended(episode: &Episode, now_ms: i64, dry_ms: i64) -> bool {
    now_ms - episode.last_wet_ms >= dry_ms
}

/// Tenths of a millimetre as the millimetres people read: `500` → `50.0`.
pub fn tenths_text(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, (tenths % 10).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;
    const DRY: i64 = 360 * MINUTE;
    const THRESHOLD: i64 = 500;

    /// A one-minute reading ending at minute `m`.
    fn at(m: i64, tenths: i64) -> Reading {
        Reading {
            start_ms: (m - 1) * MINUTE,
            end_ms: m * MINUTE,
            tenths,
        }
    }

    fn totals(episodes: &[Episode]) -> Vec<(i64, Option<i64>)> {
        episodes
            .iter()
            .map(|e| (e.total_tenths, e.reached_ms.map(|ms| ms / MINUTE)))
            .collect()
    }

    #[test]
    fn exactly_the_threshold_reaches_it_and_a_tenth_less_does_not() {
        let below: Vec<Reading> = (1..=499).map(|m| at(m, 1)).collect();
        assert_eq!(totals(&fold(None, &below, DRY, THRESHOLD)), [(499, None)]);
        let exactly: Vec<Reading> = (1..=500).map(|m| at(m, 1)).collect();
        assert_eq!(
            totals(&fold(None, &exactly, DRY, THRESHOLD)),
            [(500, Some(500))]
        );
        // One reading of 50.0 mm reaches it by itself; the crossing is kept when more falls.
        assert_eq!(
            totals(&fold(None, &[at(10, 500), at(11, 3)], DRY, THRESHOLD)),
            [(503, Some(10))]
        );
        // A mine's own threshold.
        assert_eq!(
            totals(&fold(None, &[at(10, 449), at(11, 1)], DRY, 450)),
            [(450, Some(11))]
        );
    }

    #[test]
    fn rain_that_stops_for_less_than_the_dry_period_continues_the_event() {
        // 30 mm, a dry gap one minute short of six hours, then 20 mm: 50.0 mm, one event.
        let first = at(1, 300);
        let gap = DRY / MINUTE - 1;
        let second = at(1 + gap + 1, 200);
        assert_eq!(second.start_ms - first.end_ms, DRY - MINUTE);
        assert_eq!(
            totals(&fold(None, &[first, second], DRY, THRESHOLD)),
            [(500, Some(1 + gap + 1))]
        );
    }

    #[test]
    fn rain_that_stops_for_the_dry_period_starts_a_new_event_from_zero() {
        let first = at(1, 300);
        let second = at(1 + DRY / MINUTE + 1, 200);
        assert_eq!(second.start_ms - first.end_ms, DRY);
        assert_eq!(
            totals(&fold(None, &[first, second], DRY, THRESHOLD)),
            [(300, None), (200, None)]
        );
        assert!(ended(
            &fold(None, &[first], DRY, THRESHOLD)[0],
            first.end_ms + DRY,
            DRY
        ));
        assert!(!ended(
            &fold(None, &[first], DRY, THRESHOLD)[0],
            first.end_ms + DRY - 1,
            DRY
        ));
    }

    #[test]
    fn readings_in_any_order_make_the_same_events() {
        let readings: Vec<Reading> = [(1, 100), (2, 100), (3, 0), (4, 150), (500, 200), (501, 400)]
            .into_iter()
            .map(|(m, t)| at(m, t))
            .collect();
        let expected = fold(None, &readings, DRY, THRESHOLD);
        assert_eq!(totals(&expected), [(350, None), (600, Some(501))]);
        let mut reversed = readings.clone();
        reversed.reverse();
        assert_eq!(fold(None, &reversed, DRY, THRESHOLD), expected);
    }

    #[test]
    fn continuing_an_open_event_equals_folding_everything_at_once() {
        let readings: Vec<Reading> = (1..=40).map(|m| at(m * 10, 17)).collect();
        let whole = fold(None, &readings, DRY, THRESHOLD);
        for split in 1..readings.len() {
            let mut first = fold(None, &readings[..split], DRY, THRESHOLD);
            let open = first.pop();
            let mut continued = first;
            continued.extend(fold(open, &readings[split..], DRY, THRESHOLD));
            assert_eq!(continued, whole, "split at {split}");
        }
    }
}
