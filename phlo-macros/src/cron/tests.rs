use super::*;

fn error(expression: &str) -> CronError {
    check(expression).unwrap_err()
}

#[test]
fn accepts_the_supported_syntax() {
    for ok in [
        "* * * * *",
        "0 * * * *",
        "*/15 0-23/2 1,15 JAN-MAR,dec mon-FRI",
        "59 23 31 12 7",
        "0 0 1 1 0",
        "5,10-20/5 * * * sun",
        "  0   6 * * *  ",
        "@hourly",
        "@daily",
        "@Weekly",
        "@monthly",
        "@yearly",
        "@annually",
        // croner's extensions: last day, nth weekday, nearest weekday, dom-and-dow.
        "0 0 L * *",
        "0 0 * * 5#2",
        "0 0 15W * *",
        "0 0 1 * +MON",
    ] {
        assert_eq!(check(ok), Ok(()), "{ok}");
    }
}

#[test]
fn what_croner_refuses_and_no_rule_words_gets_its_message() {
    // Every refusal carries the prefix; the wording of out-of-range values is ours.
    for bad in [
        "0 25 * * *",
        "@every_minute",
        "* * * JANUARY *",
        "5/15 * * * *",
    ] {
        let message = error(bad).to_string();
        assert!(
            message.starts_with("invalid cron expression: "),
            "{message}"
        );
    }
}

#[test]
fn out_of_range_values_name_the_field() {
    for (expression, field) in [
        ("60 * * * *", "minute"),
        ("* 24 * * *", "hour"),
        ("* * 0 * *", "day-of-month"),
        ("* * 32 * *", "day-of-month"),
        ("* * * 13 *", "month"),
        ("* * * * 8", "day-of-week"),
    ] {
        let error = error(expression);
        assert_eq!(error.field(), Some(field), "{expression}");
        assert!(error.to_string().contains("out of range"), "{error}");
    }
}

#[test]
fn wrong_field_count_is_explained() {
    assert!(error("* * * *").to_string().contains("5 fields"));
    assert!(
        error("0 * * * * *")
            .to_string()
            .contains("seconds are not supported")
    );
    assert!(error("").to_string().contains("empty"));
    assert_eq!(error("* * * * * *").field(), None);
}

#[test]
fn steps_need_a_range_and_a_positive_size() {
    assert!(
        error("5/15 * * * *")
            .to_string()
            .contains("write `*/15` or `5-59/15`")
    );
    assert!(error("*/0 * * * *").to_string().contains("from 1 to 59"));
    assert!(error("*/x * * * *").to_string().contains("step `x`"));
    assert!(error("1-5/ * * * *").to_string().contains("step ``"));
}

#[test]
fn malformed_items_are_rejected() {
    assert!(error("5-1 * * * *").to_string().contains("goes backwards"));
    assert!(
        error("FRI-MON * * * *")
            .to_string()
            .contains("not a number")
    );
    assert!(
        error("* * * * FRI-MON")
            .to_string()
            .contains("goes backwards")
    );
    assert!(error("-1 * * * *").to_string().contains("not a number"));
    assert!(error("? * * * *").to_string().contains("not a number"));
    assert!(
        error("* * * JANUARY *")
            .to_string()
            .contains("or a name JAN-DEC")
    );
    assert!(
        error("* * * * MONDAY")
            .to_string()
            .contains("or a name SUN-SAT")
    );
    assert!(
        error("99999999999 * * * *")
            .to_string()
            .contains("out of range")
    );
}

#[test]
fn unknown_macros_list_the_known_ones() {
    let message = error("@every_minute").to_string();
    assert!(
        message.contains("unknown macro `@every_minute`"),
        "{message}"
    );
    assert!(message.contains("@hourly, @daily"), "{message}");
}

#[test]
fn message_names_the_field() {
    assert_eq!(
        error("0 25 * * *").to_string(),
        "invalid cron expression: in the hour field, `25` is out of range 0-23"
    );
}
