use super::*;

fn instant(year: u32, month: u32, day: u32, hour: u32) -> Instant {
    Instant {
        year,
        month,
        day,
        hour,
    }
}

#[test]
fn each_cadence_takes_its_shape() {
    assert_eq!(
        bound(Cadence::Hourly, "start", "2025-01-01T00"),
        Ok(instant(2025, 1, 1, 0))
    );
    assert_eq!(
        bound(Cadence::Hourly, "start", "2025-06-30T23"),
        Ok(instant(2025, 6, 30, 23))
    );
    assert_eq!(
        bound(Cadence::Hourly, "end", "2025-01-02"),
        Ok(instant(2025, 1, 2, 0)),
        "a date is its midnight"
    );
    assert_eq!(
        bound(Cadence::Daily, "start", "2024-02-29"),
        Ok(instant(2024, 2, 29, 0))
    );
    assert_eq!(
        bound(Cadence::Monthly, "start", "2020-12"),
        Ok(instant(2020, 12, 1, 0))
    );
}

#[test]
fn bounds_order_by_time() {
    let hour = bound(Cadence::Hourly, "start", "2025-01-01T05").unwrap();
    let midnight = bound(Cadence::Hourly, "end", "2025-01-01").unwrap();
    let next_day = bound(Cadence::Hourly, "end", "2025-01-02").unwrap();
    assert!(midnight < hour && hour < next_day);
    let december = bound(Cadence::Monthly, "start", "2024-12").unwrap();
    let january = bound(Cadence::Monthly, "end", "2025-01").unwrap();
    assert!(december < january);
}

#[test]
fn a_wrong_shape_names_the_cadence_s_shape_with_an_example_from_the_input() {
    assert_eq!(
        bound(Cadence::Daily, "start", "2025-01-01T05").unwrap_err(),
        "`start = \"2025-01-01T05\"` is not a day: daily partitions are bounded by a date \
         `YYYY-MM-DD`, zero-padded, e.g. `start = \"2025-01-01\"`"
    );
    assert_eq!(
        bound(Cadence::Monthly, "end", "2020-03-01").unwrap_err(),
        "`end = \"2020-03-01\"` is not a month: monthly partitions are bounded by `YYYY-MM` \
         (a month, not a date), zero-padded, e.g. `end = \"2020-03\"`"
    );
    assert_eq!(
        bound(Cadence::Hourly, "start", "2025-03").unwrap_err(),
        "`start = \"2025-03\"` is not an hour: hourly partitions are bounded by `YYYY-MM-DDTHH` \
         (hour 00 to 23), or by a date `YYYY-MM-DD` meaning its midnight, zero-padded, e.g. \
         `start = \"2025-03-01T00\"`"
    );
    // Unreadable, or an impossible date: a fixed example.
    for bad in [
        "2025-1-1",
        "yesterday",
        "",
        "2025/01/01",
        " 2025-01-01",
        "2025-01-01Z",
    ] {
        let message = bound(Cadence::Daily, "start", bad).unwrap_err();
        assert!(
            message.ends_with("e.g. `start = \"2025-01-01\"`"),
            "{bad}: {message}"
        );
    }
    let message = bound(Cadence::Daily, "start", "2025-13").unwrap_err();
    assert!(
        message.ends_with("e.g. `start = \"2025-01-01\"`"),
        "{message}"
    );
}

#[test]
fn dates_are_real_calendar_dates() {
    for (cadence, text, problem) in [
        (
            Cadence::Daily,
            "2025-02-29",
            "date: February 2025 has 28 days",
        ),
        (Cadence::Daily, "2025-04-31", "date: April 2025 has 30 days"),
        (
            Cadence::Daily,
            "2025-01-00",
            "date: January 2025 has 31 days",
        ),
        (
            Cadence::Daily,
            "1900-02-29",
            "date: February 1900 has 28 days",
        ),
        (
            Cadence::Daily,
            "2025-13-01",
            "month: months run from 01 to 12",
        ),
        (
            Cadence::Monthly,
            "2025-00",
            "month: months run from 01 to 12",
        ),
        (
            Cadence::Hourly,
            "2025-01-01T24",
            "hour: hours run from 00 to 23",
        ),
    ] {
        assert_eq!(
            bound(cadence, "start", text).unwrap_err(),
            format!("`start = \"{text}\"` is not a real {problem}"),
        );
    }
    assert!(bound(Cadence::Daily, "start", "2000-02-29").is_ok());
}

#[test]
fn time_zones_are_iana_names() {
    for ok in [
        "UTC",
        "Europe/London",
        "America/New_York",
        "Asia/Kolkata",
        "Etc/GMT+5",
    ] {
        assert_eq!(time_zone(ok), Ok(()), "{ok}");
    }
}

#[test]
fn a_wrong_time_zone_suggests_the_closest_names() {
    for (written, hint) in [
        (
            "europe/london",
            "did you mean `Europe/London`? (time zone names are case-sensitive)",
        ),
        (
            "America/New York",
            "did you mean `America/New_York`? (time zone names are case-sensitive)",
        ),
        (
            "utc",
            "did you mean `UTC`? (time zone names are case-sensitive)",
        ),
        ("London", "did you mean `Europe/London`?"),
        ("Europe/Londn", "did you mean `Europe/London`?"),
    ] {
        assert_eq!(
            time_zone(written).unwrap_err(),
            format!("unknown time zone \"{written}\"; {hint}"),
        );
    }
    assert_eq!(
        time_zone("Mars/Olympus_Mons").unwrap_err(),
        "unknown time zone \"Mars/Olympus_Mons\"; `tz` takes an IANA time zone name, e.g. \
         `tz = \"UTC\"`, `tz = \"Europe/London\"` or `tz = \"America/New_York\"` (they are \
         listed at https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)"
    );
}

#[test]
fn static_keys_are_safe_partition_values() {
    for ok in ["eu", "us-east-1", "v1.2", "A_b"] {
        assert_eq!(static_key(ok), Ok(()), "{ok}");
    }
    assert_eq!(
        static_key("").unwrap_err(),
        "a static key cannot be empty, as static keys become Delta partition values and CLI \
         arguments; e.g. `static_keys = [\"eu\", \"us\"]`"
    );
    for (key, described) in [
        ("eu west", "a space"),
        ("eu/west", "`/`"),
        ("é", "`é`"),
        ("a\tb", "the character '\\t'"),
    ] {
        assert_eq!(
            static_key(key).unwrap_err(),
            format!(
                "static key {key:?} contains {described}: use only ASCII letters, digits, `_`, \
                 `.` and `-`, as static keys become Delta partition values and CLI arguments"
            )
        );
    }
}
