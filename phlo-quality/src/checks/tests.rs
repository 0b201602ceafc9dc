//! All built-in checks together in one run: separate results, unique names.

use super::test_support::*;
use super::*;
use crate::{Check, ScopeWindow};

fn every_check() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(NullCheck::new(["id", "ts"])),
        Box::new(RangeCheck::new("value").min(0.0).max(100.0)),
        Box::new(UniqueCheck::new(["id"])),
        Box::new(CountCheck::new().min_rows(1)),
        Box::new(FreshnessCheck::new("ts").max_age_hours(24)),
        Box::new(PatternCheck::new("email", r"[^@]+@[^@]+")),
        Box::new(AcceptedValuesCheck::new("category", ["a", "b"])),
        Box::new(CustomSqlCheck::new(
            "no_negative",
            "SELECT count(*) FROM bronze.events WHERE value < 0",
        )),
        Box::new(ReconciliationCheck::new("bronze.events")),
        Box::new(
            AggregateConsistencyCheck::new("bronze.events")
                .group_by(["category"])
                .sum("value"),
        ),
        Box::new(KeyParityCheck::new("bronze.events", ["id"])),
        Box::new(ChecksumReconciliationCheck::new("bronze.events", ["id"])),
        Box::new(NullCheck::new(["id", "ts"]).warn()),
        Box::new(NullCheck::new(["id", "ts"])),
    ]
}

#[tokio::test]
async fn every_check_passes_on_clean_data_with_unique_names() {
    let scope = scope_with(&rows(30));
    let report = run(every_check(), &scope).await;
    for r in &report.results {
        assert!(r.passed, "{r:?}");
        assert!(r.samples.is_empty(), "{r:?}");
    }
    let names: Vec<&str> = report.results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "null_check(id,ts)",
            "range_check(value)",
            "unique_check(id)",
            "count_check",
            "freshness_check(ts)",
            "pattern_check(email)",
            "accepted_values_check(category)",
            "custom_sql_check(no_negative)",
            "reconciliation_check(bronze.events)",
            "aggregate_consistency_check(bronze.events,sum(value))",
            "key_parity_check(bronze.events,id)",
            "checksum_reconciliation_check(bronze.events,id)",
            "null_check(id,ts)#2",
            "null_check(id,ts)#3",
        ]
    );
    assert_eq!(report.results[12].severity, crate::Severity::Warn);
    assert_eq!(report.partition.as_deref(), Some("2025-01-15"));
}

#[tokio::test]
async fn each_result_keeps_its_own_counts() {
    let mut data = rows(10);
    data[0].id = None;
    data[1].value = Some(-1.0);
    data[2].value = Some(-2.0);
    data[3].category = Some("z");
    let scope = scope_with(&data);
    let report = run(
        vec![
            Box::new(NullCheck::new(["id"])),
            Box::new(RangeCheck::new("value").min(0.0)),
            Box::new(AcceptedValuesCheck::new("category", ["a"])),
            Box::new(RangeCheck::new("value").min(-1.0)),
        ],
        &scope,
    )
    .await;
    let counts: Vec<(u64, u64)> = report
        .results
        .iter()
        .map(|r| (r.failed_count, r.total_count))
        .collect();
    assert_eq!(counts, [(1, 10), (2, 10), (1, 10), (1, 10)]);
    assert!(report.has_blocking_failure());
}

#[tokio::test]
async fn rolling_and_full_windows_scope_every_check() {
    let mut data = rows(3);
    data.push(Row {
        date: other_day(),
        ..row(0)
    });
    let ctx = ctx_with(&data);
    let full = crate::CheckScope::new(
        ctx.clone(),
        "bronze.events",
        ScopeWindow::Full,
        "_phlo_partition_date",
        now(),
        vec!["id".into()],
    );
    let r = run_one(UniqueCheck::new(["id"]), &full).await;
    assert_eq!((r.failed_count, r.total_count), (2, 4));
    let rolling = crate::CheckScope::new(
        ctx,
        "bronze.events",
        ScopeWindow::Rolling {
            days: 2,
            until: day(),
        },
        "_phlo_partition_date",
        now(),
        vec!["id".into()],
    );
    let r = run_one(CountCheck::new().min_rows(4).max_rows(4), &rolling).await;
    assert!(r.passed, "{r:?}");
}
