//! Partition mappings across an edge: which upstream partitions a downstream partition
//! reads, and which downstream partitions an upstream partition affects.
//!
//! Windows are compared by their UTC instants, so the two sides may be in different
//! time zones: a daily partition in `Europe/London` of an hourly UTC upstream reads the
//! 24 hours of that local day (23 on the day the clocks go forward, 25 on the day they go
//! back).

use std::fmt;

use chrono::{Datelike, Days, Duration, Months, TimeZone, Utc};
use phlo_core::partition::{PartitionKey, PartitionsDef, TimeWindow, TimeWindows};
use phlo_core::spec::Cadence;

use super::MappingError;

/// How the partitions of a downstream asset map to those of one of its upstreams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// The same key on both sides (same partitions: one cadence and time zone, or static
    /// keys the upstream also has).
    Identity,
    /// Every upstream window inside the downstream window (hourly → daily, daily →
    /// monthly, …; the downstream cadence equal or coarser).
    TimeWindow,
    /// The key `n` partitions away: `Offset(-1)` reads the previous partition. Both sides
    /// have the same cadence and time zone.
    Offset(i64),
    /// The whole upstream, whatever the downstream partition.
    All,
}

impl fmt::Display for Mapping {
    /// `identity`, `time_window`, `offset(-1)`, `all`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mapping::Identity => f.write_str("identity"),
            Mapping::TimeWindow => f.write_str("time_window"),
            Mapping::Offset(n) => write!(f, "offset({n})"),
            Mapping::All => f.write_str("all"),
        }
    }
}

/// The partitions on the other side of an edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappedKeys {
    /// Every partition (or the whole table, when that side is unpartitioned).
    All,
    /// These partitions, in order; empty when none exists (an offset before the first
    /// partition, a window outside the other side's range).
    Keys(Vec<PartitionKey>),
}

/// The upstream partitions a downstream partition reads.
pub type UpstreamKeys = MappedKeys;

/// The downstream partitions an upstream partition affects.
pub type DownstreamKeys = MappedKeys;

/// The mapping an edge gets when none is declared.
///
/// Equal definitions → `Identity`; either side unpartitioned → `All` (an unpartitioned
/// downstream reads the whole upstream; a partitioned one reads the whole unpartitioned
/// upstream); both time-partitioned with the downstream cadence equal or coarser and
/// boundaries that line up → `TimeWindow`; static keys the upstream also has → `Identity`;
/// anything else must be declared.
///
/// ```
/// use phlo_core::partition::PartitionsDef;
/// use phlo_core::spec::{Cadence, PartitionsSpec};
/// use phlo_runtime::graph::{Mapping, default_mapping};
///
/// let monthly = PartitionsDef::resolve(&PartitionsSpec::Time {
///     cadence: Cadence::Monthly, start: None, end: None, timezone: "UTC", end_offset: 0,
/// })?;
/// let daily = PartitionsDef::daily_utc();
/// assert_eq!(default_mapping(&daily, &monthly), Ok(Mapping::TimeWindow));
/// assert_eq!(default_mapping(&daily, &PartitionsDef::None), Ok(Mapping::All));
/// assert!(default_mapping(&monthly, &daily).is_err());
/// # Ok::<(), phlo_core::Error>(())
/// ```
pub fn default_mapping(
    upstream: &PartitionsDef,
    downstream: &PartitionsDef,
) -> Result<Mapping, MappingError> {
    if upstream == downstream {
        return Ok(Mapping::Identity);
    }
    match (upstream, downstream) {
        (_, PartitionsDef::None) | (PartitionsDef::None, _) => Ok(Mapping::All),
        (PartitionsDef::Time(u), PartitionsDef::Time(d)) if rank(d) >= rank(u) => {
            check(Mapping::TimeWindow, upstream, downstream).map(|()| Mapping::TimeWindow)
        }
        (PartitionsDef::Static(_), PartitionsDef::Static(_))
            if check(Mapping::Identity, upstream, downstream).is_ok() =>
        {
            Ok(Mapping::Identity)
        }
        _ => Err(MappingError::NoDefault {
            upstream: upstream.describe(),
            downstream: downstream.describe(),
        }),
    }
}

/// Whether `mapping` fits an edge from `upstream` to `downstream` partitions.
pub(crate) fn check(
    mapping: Mapping,
    upstream: &PartitionsDef,
    downstream: &PartitionsDef,
) -> Result<(), MappingError> {
    let up = upstream.describe();
    let down = downstream.describe();
    match (mapping, upstream, downstream) {
        (Mapping::All, _, _) => Ok(()),
        (Mapping::Identity, PartitionsDef::None, PartitionsDef::None) => Ok(()),
        (Mapping::Identity, PartitionsDef::Static(u), PartitionsDef::Static(d))
            if d.iter().all(|k| u.contains(k)) =>
        {
            Ok(())
        }
        (Mapping::Identity, PartitionsDef::Time(u), PartitionsDef::Time(d))
            if same_windows(u, d) =>
        {
            Ok(())
        }
        (Mapping::Identity, _, _) => Err(MappingError::IdentityNeedsSamePartitions {
            upstream: up,
            downstream: down,
        }),
        (Mapping::TimeWindow, PartitionsDef::Time(u), PartitionsDef::Time(d)) => {
            if rank(d) >= rank(u) && aligned(u, d) {
                Ok(())
            } else {
                Err(MappingError::NotAUnion {
                    upstream: up,
                    downstream: down,
                })
            }
        }
        (Mapping::TimeWindow, _, _) => Err(MappingError::TimeWindowNeedsTime {
            upstream: up,
            downstream: down,
        }),
        (Mapping::Offset(_), PartitionsDef::Time(u), PartitionsDef::Time(d))
            if same_windows(u, d) =>
        {
            Ok(())
        }
        (Mapping::Offset(_), _, _) => Err(MappingError::OffsetNeedsSameCadence {
            upstream: up,
            downstream: down,
        }),
    }
}

/// The upstream partitions that downstream partition `key` reads over an edge whose
/// mapping [`check`] accepted. `None`: `key` is not a partition of `downstream`.
pub(crate) fn upstream_keys(
    mapping: Mapping,
    upstream: &PartitionsDef,
    downstream: &PartitionsDef,
    key: &PartitionKey,
) -> Option<MappedKeys> {
    if mapping == Mapping::All || !upstream.is_partitioned() {
        return Some(MappedKeys::All);
    }
    if !is_key_of(downstream, key) {
        return None;
    }
    Some(MappedKeys::Keys(match (mapping, upstream, key) {
        (Mapping::Identity, _, _) => existing(upstream, Some(key.clone())),
        (Mapping::TimeWindow, PartitionsDef::Time(u), PartitionKey::Window(w)) => {
            windows_inside(u, w)
                .into_iter()
                .map(PartitionKey::Window)
                .filter(|k| is_key_of(upstream, k))
                .collect()
        }
        (Mapping::Offset(n), PartitionsDef::Time(u), PartitionKey::Window(w)) => {
            shift(upstream, u, w, n).into_iter().collect()
        }
        _ => Vec::new(),
    }))
}

/// The downstream partitions that upstream partition `key` affects over an edge whose
/// mapping [`check`] accepted. `None`: `key` is not a partition of `upstream`.
pub(crate) fn downstream_keys(
    mapping: Mapping,
    upstream: &PartitionsDef,
    downstream: &PartitionsDef,
    key: &PartitionKey,
) -> Option<MappedKeys> {
    if mapping == Mapping::All || !upstream.is_partitioned() || !downstream.is_partitioned() {
        return Some(MappedKeys::All);
    }
    if !is_key_of(upstream, key) {
        return None;
    }
    Some(MappedKeys::Keys(match (mapping, downstream, key) {
        (Mapping::Identity, _, _) => existing(downstream, Some(key.clone())),
        (Mapping::TimeWindow, PartitionsDef::Time(d), PartitionKey::Window(w)) => {
            let outer = d.window_containing(w.start());
            let inside = outer.start() <= w.start() && w.end() <= outer.end();
            existing(downstream, inside.then_some(PartitionKey::Window(outer)))
        }
        (Mapping::Offset(n), PartitionsDef::Time(d), PartitionKey::Window(w)) => n
            .checked_neg()
            .and_then(|back| shift(downstream, d, w, back))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }))
}

/// Whether `key` is one of `def`'s partitions, in range.
pub(crate) fn is_key_of(def: &PartitionsDef, key: &PartitionKey) -> bool {
    def.parse_key(&key.to_string())
        .is_ok_and(|parsed| &parsed == key)
}

/// `key` as a one-element list when it is a partition of `def`.
fn existing(def: &PartitionsDef, key: Option<PartitionKey>) -> Vec<PartitionKey> {
    key.filter(|k| is_key_of(def, k)).into_iter().collect()
}

/// hourly < daily < monthly.
fn rank(t: &TimeWindows) -> u8 {
    match t.cadence() {
        Cadence::Hourly => 0,
        Cadence::Daily => 1,
        Cadence::Monthly => 2,
    }
}

/// One cadence in one time zone (the bounds may differ).
fn same_windows(u: &TimeWindows, d: &TimeWindows) -> bool {
    u.cadence() == d.cadence() && u.timezone() == d.timezone()
}

/// Whether every window of `d` starts where a window of `u` starts (so, `d` being at
/// least as coarse, each `d` window is a union of `u` windows). In one time zone that
/// holds by construction; across time zones it is checked in the middle of every month
/// from 1970 to 2050, which meets every change of UTC offset the zones have made there.
fn aligned(u: &TimeWindows, d: &TimeWindows) -> bool {
    if u.timezone() == d.timezone() {
        return true;
    }
    (1970..=2050).all(|year| {
        (1..=12).all(|month| {
            let Some(probe) = Utc.with_ymd_and_hms(year, month, 15, 12, 0, 0).single() else {
                return true;
            };
            let w = d.window_containing(probe);
            u.window_containing(w.start()).start() == w.start()
        })
    })
}

/// The windows of `u` that lie inside `outer`, in order.
fn windows_inside(u: &TimeWindows, outer: &TimeWindow) -> Vec<TimeWindow> {
    let mut out = Vec::new();
    let mut w = u.window_containing(outer.start());
    while w.start() < outer.end() {
        if outer.start() <= w.start() && w.end() <= outer.end() {
            out.push(w);
        }
        let next = u.next(&w);
        if next.start() <= w.start() {
            break;
        }
        w = next;
    }
    out
}

/// The partition `n` windows after `w` (before, when negative) in `def`, whose windows
/// are `t`; `None` when it is out of `def`'s range or past the calendar's limits.
fn shift(def: &PartitionsDef, t: &TimeWindows, w: &TimeWindow, n: i64) -> Option<PartitionKey> {
    let text = match t.cadence() {
        Cadence::Hourly => {
            let start = w.start().checked_add_signed(Duration::try_hours(n)?)?;
            t.window_containing(start).to_string()
        }
        Cadence::Daily => {
            let days = Days::new(n.unsigned_abs());
            let date = if n >= 0 {
                w.date().checked_add_days(days)
            } else {
                w.date().checked_sub_days(days)
            }?;
            date.format("%Y-%m-%d").to_string()
        }
        Cadence::Monthly => {
            let months = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
            let first = w.date().with_day(1)?;
            let date = if n >= 0 {
                first.checked_add_months(months)
            } else {
                first.checked_sub_months(months)
            }?;
            date.format("%Y-%m").to_string()
        }
    };
    def.parse_key(&text).ok()
}
