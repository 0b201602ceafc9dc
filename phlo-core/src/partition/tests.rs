use chrono::{DateTime, TimeZone, Utc};
use datafusion::common::ScalarValue;

use super::*;
use crate::Error;
use crate::spec::{Cadence, PartitionsSpec};

type R = crate::Result<()>;

fn def(cadence: Cadence, tz: &'static str, start: Option<&'static str>) -> PartitionsDef {
    let spec = PartitionsSpec::Time {
        cadence,
        start,
        end: None,
        timezone: tz,
        end_offset: 0,
    };
    match PartitionsDef::resolve(&spec) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or_default()
}

fn texts(keys: &[PartitionKey]) -> Vec<String> {
    keys.iter().map(ToString::to_string).collect()
}

#[test]
fn daily_keys_are_strict() {
    for bad in [
        "",
        "2025-1-01",
        "20250101",
        "2025-13-01",
        "2025-02-29",
        "2025-01-01T00",
        " 2025-01-01",
        "abcd-ef-gh",
    ] {
        assert!(
            matches!(
                PartitionKey::parse(bad),
                Err(Error::InvalidPartitionKey { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        PartitionKey::parse("2024-02-29")
            .map(|k| k.to_string())
            .ok(),
        Some("2024-02-29".into())
    );
}

#[test]
fn daily_ranges_are_inclusive() -> R {
    let d = PartitionsDef::daily_utc();
    let r = d.keys_between(&d.parse_key("2025-01-30")?, &d.parse_key("2025-02-02")?)?;
    assert_eq!(
        texts(&r),
        ["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"]
    );
    let empty = d.keys_between(&d.parse_key("2025-02-02")?, &d.parse_key("2025-01-30")?)?;
    assert!(empty.is_empty());
    Ok(())
}

#[test]
fn daily_windows_follow_daylight_saving_in_their_time_zone() -> R {
    let d = def(Cadence::Daily, "Europe/London", None);
    let hours = |k: &str| -> crate::Result<i64> {
        Ok(d.parse_key(k)?
            .window()
            .map(|w| w.duration().num_hours())
            .unwrap_or_default())
    };
    assert_eq!(hours("2025-03-30")?, 23, "spring forward");
    assert_eq!(hours("2025-10-26")?, 25, "fall back");
    assert_eq!(hours("2025-06-01")?, 24);
    let summer = d.parse_key("2025-06-01")?;
    let w = summer.window().copied().unwrap_or_else(|| panic!("window"));
    assert_eq!(w.start(), utc(2025, 5, 31, 23), "midnight BST is 23:00 UTC");
    assert_eq!(w.end(), utc(2025, 6, 1, 23));
    Ok(())
}

#[test]
fn hourly_keys_skip_the_missing_hour_and_name_the_repeated_one_by_offset() -> R {
    let d = def(Cadence::Hourly, "Europe/London", None);
    assert!(matches!(
        d.parse_key("2025-03-30T01"),
        Err(Error::NonexistentPartition { .. })
    ));
    match d.parse_key("2025-10-26T01") {
        Err(Error::AmbiguousPartition { first, second, .. }) => {
            assert_eq!(first, "2025-10-26T01+01:00");
            assert_eq!(second, "2025-10-26T01+00:00");
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(matches!(
        d.parse_key("2025-10-26T01+05:00"),
        Err(Error::InvalidPartitionKey { .. })
    ));
    // The day the clocks go back has 25 hours, the first 01:00 before the second.
    let day = d.keys_between(
        &d.parse_key("2025-10-26T00")?,
        &d.parse_key("2025-10-26T23")?,
    )?;
    assert_eq!(day.len(), 25);
    assert_eq!(
        texts(&day[..4]),
        [
            "2025-10-26T00",
            "2025-10-26T01+01:00",
            "2025-10-26T01+00:00",
            "2025-10-26T02"
        ]
    );
    // Every key reads back as itself.
    for k in &day {
        assert_eq!(&d.parse_key(&k.to_string())?, k);
    }
    // The day the clocks go forward has 23, with no 01.
    let spring = d.keys_between(
        &d.parse_key("2025-03-30T00")?,
        &d.parse_key("2025-03-30T23")?,
    )?;
    assert_eq!(spring.len(), 23);
    assert_eq!(texts(&spring[..2]), ["2025-03-30T00", "2025-03-30T02"]);
    // Consecutive windows tile the timeline.
    for pair in day.windows(2) {
        let (a, b) = (pair[0].window(), pair[1].window());
        assert_eq!(a.map(TimeWindow::end), b.map(TimeWindow::start));
    }
    Ok(())
}

#[test]
fn hourly_keys_in_utc_need_no_offset_but_accept_it() -> R {
    let d = def(Cadence::Hourly, "UTC", None);
    let k = d.parse_key("2025-01-15T07")?;
    assert_eq!(k.window().map(TimeWindow::start), Some(utc(2025, 1, 15, 7)));
    assert_eq!(d.parse_key("2025-01-15T07+00:00")?, k);
    assert_eq!(d.parse_key("2025-01-15T07Z")?, k);
    for bad in [
        "2025-01-15T24",
        "2025-01-15T7",
        "2025-01-15 07",
        "2025-01-15",
    ] {
        assert!(d.parse_key(bad).is_err(), "{bad}");
    }
    Ok(())
}

#[test]
fn monthly_keys_cover_their_calendar_month() -> R {
    let d = def(Cadence::Monthly, "UTC", Some("2020-01"));
    let feb = d.parse_key("2024-02")?;
    assert_eq!(
        feb.window().map(|w| w.duration().num_days()),
        Some(29),
        "leap February"
    );
    assert_eq!(feb.date(), chrono::NaiveDate::from_ymd_opt(2024, 2, 1));
    assert!(matches!(
        d.parse_key("2019-12"),
        Err(Error::PartitionOutOfRange { .. })
    ));
    for bad in ["2024-2", "2024-13", "2024-02-01", "202402"] {
        assert!(d.parse_key(bad).is_err(), "{bad}");
    }
    let r = d.keys_between(&d.parse_key("2024-11")?, &d.parse_key("2025-02")?)?;
    assert_eq!(texts(&r), ["2024-11", "2024-12", "2025-01", "2025-02"]);
    Ok(())
}

#[test]
fn static_keys_are_members_of_their_list_in_declaration_order() -> R {
    let d = PartitionsDef::resolve(&PartitionsSpec::Static {
        keys: &["us", "eu", "apac"],
    })?;
    assert!(matches!(
        d.parse_key("uk"),
        Err(Error::InvalidPartitionKey { .. })
    ));
    let r = d.keys_between(&d.parse_key("us")?, &d.parse_key("eu")?)?;
    assert_eq!(texts(&r), ["us", "eu"]);
    assert_eq!(
        d.latest(utc(2025, 1, 1, 0)).map(|k| k.to_string()),
        Some("apac".into())
    );
    for bad in [&[][..], &["a", "a"][..], &["a/b"][..], &[""][..]] {
        assert!(
            matches!(
                PartitionsDef::resolve(&PartitionsSpec::Static { keys: bad }),
                Err(Error::InvalidPartitions { .. })
            ),
            "{bad:?}"
        );
    }
    Ok(())
}

#[test]
fn the_latest_partition_is_the_last_complete_window_plus_the_end_offset() -> R {
    let d = def(Cadence::Daily, "UTC", Some("2025-01-01"));
    let now = utc(2025, 3, 10, 15);
    assert_eq!(
        d.latest(now).map(|k| k.to_string()),
        Some("2025-03-09".into())
    );
    // Exactly at midnight the day that just ended is complete.
    assert_eq!(
        d.latest(utc(2025, 3, 10, 0)).map(|k| k.to_string()),
        Some("2025-03-09".into())
    );
    let ahead = PartitionsDef::resolve(&PartitionsSpec::Time {
        cadence: Cadence::Hourly,
        start: None,
        end: None,
        timezone: "UTC",
        end_offset: 1,
    })?;
    assert_eq!(
        ahead.latest(now).map(|k| k.to_string()),
        Some("2025-03-10T15".into()),
        "end_offset = 1 is the window in progress"
    );
    assert_eq!(d.latest(utc(2024, 12, 31, 12)), None, "before the start");
    Ok(())
}

#[test]
fn bounds_are_checked_when_resolving_and_parsing() -> R {
    let bad = |spec: PartitionsSpec| {
        assert!(
            matches!(
                PartitionsDef::resolve(&spec),
                Err(Error::InvalidPartitions { .. })
            ),
            "{spec:?}"
        )
    };
    let time = |start, end, tz| PartitionsSpec::Time {
        cadence: Cadence::Daily,
        start,
        end,
        timezone: tz,
        end_offset: 0,
    };
    bad(time(None, None, "Mars/Olympus"));
    bad(time(Some("2025-1-1"), None, "UTC"));
    bad(time(Some("2025-02-01"), Some("2025-01-01"), "UTC"));
    let d = PartitionsDef::resolve(&time(Some("2025-01-01"), Some("2025-02-01"), "UTC"))?;
    assert!(d.parse_key("2025-01-31").is_ok());
    assert!(matches!(
        d.parse_key("2025-02-01"),
        Err(Error::PartitionOutOfRange { .. })
    ));
    Ok(())
}

#[test]
fn scopes_and_metadata_follow_the_definition() -> R {
    let daily = PartitionsDef::daily_utc();
    let key = daily.parse_key("2025-01-15")?;
    let scope = daily.scope(Some(&key));
    assert_eq!(scope.sql(), "\"_phlo_partition_date\" = DATE '2025-01-15'");
    assert_eq!(
        scope.file_partition(),
        Some(("_phlo_partition_date", "2025-01-15"))
    );
    assert_eq!(daily.scope(None), PartitionScope::Whole);

    let hourly = def(Cadence::Hourly, "Europe/London", None);
    let hour = hourly.parse_key("2025-06-01T00")?;
    let scope = hourly.scope(Some(&hour));
    assert_eq!(
        scope.sql(),
        "\"_phlo_partition_hour\" = TIMESTAMP '2025-05-31T23:00:00.000000Z'"
    );
    // Files are bucketed by the hour's local day.
    assert_eq!(
        scope.file_partition(),
        Some(("_phlo_partition_date", "2025-06-01"))
    );
    let names: Vec<String> = hourly
        .metadata_fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["_phlo_partition_date", "_phlo_partition_hour"]);

    let regions = PartitionsDef::resolve(&PartitionsSpec::Static { keys: &["eu"] })?;
    let eu = regions.parse_key("eu")?;
    assert_eq!(
        regions.metadata_values(Some(&eu)),
        vec![ScalarValue::Utf8(Some("eu".into()))]
    );
    assert_eq!(
        regions.scope(Some(&eu)).sql(),
        "\"_phlo_partition_key\" = 'eu'"
    );
    Ok(())
}

#[tokio::test]
async fn scope_sql_selects_the_same_rows_in_datafusion() -> R {
    use arrow::array::{ArrayRef, RecordBatch, TimestampMicrosecondArray};
    use std::sync::Arc;
    let hourly = def(Cadence::Hourly, "UTC", None);
    let a = hourly.parse_key("2025-01-01T05")?;
    let b = hourly.parse_key("2025-01-01T06")?;
    let micros = |k: &PartitionKey| k.window().map(|w| w.start().timestamp_micros());
    let col: ArrayRef = Arc::new(
        TimestampMicrosecondArray::from(vec![micros(&a), micros(&b), micros(&b)])
            .with_timezone(crate::schema::UTC),
    );
    let batch = RecordBatch::try_from_iter([("_phlo_partition_hour", col)])?;
    let ctx = datafusion::prelude::SessionContext::new();
    ctx.register_batch("t", batch)
        .map_err(|e| crate::Error::query("t", e))?;
    let sql = format!(
        "SELECT count(*) AS n FROM t WHERE {}",
        hourly.scope(Some(&b)).sql()
    );
    let out = ctx
        .sql(&sql)
        .await
        .map_err(|e| crate::Error::query("t", e))?
        .collect()
        .await
        .map_err(|e| crate::Error::query("t", e))?;
    let n = arrow::util::pretty::pretty_format_batches(&out)?.to_string();
    assert!(n.contains("| 2 |"), "{n}");
    // The DataFusion predicate agrees.
    let df = ctx
        .table("t")
        .await
        .map_err(|e| crate::Error::query("t", e))?
        .filter(hourly.scope(Some(&a)).predicate())
        .map_err(|e| crate::Error::query("t", e))?;
    assert_eq!(
        df.count().await.map_err(|e| crate::Error::query("t", e))?,
        1
    );
    Ok(())
}

#[test]
fn context_exposes_the_window() -> R {
    let d = def(Cadence::Hourly, "UTC", None);
    let k = d.parse_key("2025-01-15T07")?;
    let ctx = PartitionContext::new("a", Some(k), "run", 1, utc(2025, 1, 16, 0));
    assert_eq!(ctx.window_start(), Some(utc(2025, 1, 15, 7)));
    assert_eq!(ctx.window_end(), Some(utc(2025, 1, 15, 8)));
    assert_eq!(ctx.partition_date().to_string(), "2025-01-15");
    Ok(())
}
