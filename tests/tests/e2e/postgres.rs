//! PostgreSQL both ways against a real server on loopback (`scripts/postgres.sh`):
//! publications in the graph (`build` publishes after the table is written and checked,
//! whole or per partition), `publish` from the API and the CLI, a PostgreSQL query as an
//! ingestion source scoped to the partition, and bad input that leaves both sides as they
//! were.

use std::process::ExitCode;
use std::sync::Arc;

use phlo::postgres::Client;
use phlo::prelude::*;
use phlo::registry::AssetKind;
use phlo::sources::postgres::PostgresQuery;
use phlo::{BuildStatus, FixedClock, Publication, Registry, SequentialRunIds};

use crate::support::{now, query};

fn server_url() -> &'static str {
    phlo::postgres::testing::server_url().unwrap_or_else(|e| panic!("{e}"))
}

async fn client() -> Client {
    phlo::postgres::connect(server_url())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn fresh(schema: &str) -> Client {
    let c = client().await;
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The record table outlives test runs: forget this test's earlier publications.
    if let Err(e) = c
        .execute(
            "DELETE FROM _phlo.publications WHERE target LIKE $1",
            &[&format!("{schema}.%")],
        )
        .await
    {
        // 42P01: nothing was ever published to this server.
        assert_eq!(e.code().map(|c| c.code()), Some("42P01"), "{e}");
    }
    c
}

async fn scalar(c: &Client, sql: &str) -> String {
    c.query_one(&format!("SELECT ({sql})::text"), &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get::<_, Option<String>>(0)
        .unwrap_or_default()
}

/// The descriptor `#[ingestion]` registered for `asset`.
fn descriptor(asset: &str) -> phlo::registry::IngestionDescriptor {
    Registry::global()
        .and_then(|r| Ok(r.get(asset)?.descriptor))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A registry of `asset` alone.
fn only(asset: &str) -> Registry {
    Registry::from_descriptors([descriptor(asset)]).unwrap_or_else(|e| panic!("{e}"))
}

/// The readings asset of the transform tests, with two publications of its table.
fn registry(prefix: &str) -> Registry {
    let readings = descriptor("well_readings");
    let whole: &'static str = Box::leak(format!("{prefix}.readings").into_boxed_str());
    let daily: &'static str = Box::leak(format!("{prefix}.readings_daily").into_boxed_str());
    Registry::from_descriptors([readings])
        .and_then(|r| {
            r.with_publications([
                Publication::postgres("pg_readings", "well_readings", whole)
                    .url_env("PHLO_E2E_PG_URL")
                    .group("marts"),
                Publication::postgres("pg_readings_daily", "well_readings", daily)
                    .url_env("PHLO_E2E_PG_URL")
                    .per_partition(),
            ])
        })
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn runtime(test: &str, dir: &std::path::Path, registry: Registry) -> Runtime {
    Runtime::builder(dir)
        .registry(registry)
        .clock(Arc::new(FixedClock::new(now())))
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .connection("PHLO_E2E_PG_URL", server_url())
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

#[tokio::test]
async fn build_publishes_downstream_of_the_table_whole_and_per_partition() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pg = fresh("e2e_build").await;
    let rt = runtime("pgbuild", dir.path(), registry("e2e_build")).await;

    // The publications are graph nodes downstream of the table they publish.
    let order = rt
        .select("well_readings+", None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(order, ["well_readings", "pg_readings", "pg_readings_daily"]);
    assert_eq!(
        rt.select("group:marts", None)
            .unwrap_or_else(|e| panic!("{e}")),
        ["pg_readings"]
    );

    for day in ["2025-01-13", "2025-01-14"] {
        let report = rt
            .build_selection("well_readings+", None, Some(day))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(report.succeeded(), "{report:?}");
        let publish = report
            .get("pg_readings_daily")
            .unwrap_or_else(|| panic!("ran"));
        assert_eq!(publish.kind, AssetKind::Publish);
        assert_eq!(publish.status, BuildStatus::Success);
    }
    // The whole table, with its partition column; the per-partition one, both days.
    assert_eq!(
        scalar(&pg, "SELECT count(*) FROM e2e_build.readings").await,
        "6"
    );
    assert_eq!(
        scalar(&pg, "SELECT count(*) FROM e2e_build.readings_daily").await,
        "6"
    );
    let warehouse_sum = query(&rt, "SELECT sum(oil) AS s FROM bronze.well_readings").await;
    let pg_sum = scalar(&pg, "SELECT sum(oil) FROM e2e_build.readings").await;
    assert!(
        warehouse_sum.contains(&pg_sum),
        "{warehouse_sum} vs {pg_sum}"
    );
    let columns = scalar(
        &pg,
        "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) \
         FROM information_schema.columns WHERE table_schema = 'e2e_build' AND table_name = 'readings'",
    )
    .await;
    assert_eq!(
        columns,
        "well_code text, day date, oil double precision, _phlo_partition_date date"
    );

    // Rebuilding one day replaces that day's rows only, and records each publication.
    let report = rt
        .build_selection("pg_readings_daily", None, Some("2025-01-14"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        scalar(&pg, "SELECT count(*) FROM e2e_build.readings_daily").await,
        "6"
    );
    assert_eq!(
        scalar(
            &pg,
            "SELECT string_agg(coalesce(partition_key, 'whole') || ':' || rows, ' ' ORDER BY published_at, partition_key) \
             FROM _phlo.publications WHERE target = 'e2e_build.readings_daily'"
        )
        .await,
        "2025-01-13:3 2025-01-14:3 2025-01-14:3"
    );
}

#[tokio::test]
async fn publish_from_the_api_and_the_cli_and_bad_input_leaves_both_sides_as_they_were() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pg = fresh("e2e_api").await;
    let rt = runtime("pgapi", dir.path(), registry("e2e_api")).await;
    for day in ["2025-01-13", "2025-01-14"] {
        rt.materialize("well_readings", day)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let receipt = rt
        .publish_table("bronze.well_readings", "e2e_api.adhoc", server_url(), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(receipt.rows, 6);
    assert_eq!(receipt.source_version, Some(1));
    let one_day = rt
        .publish("pg_readings_daily", Some("2025-01-14"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (one_day.rows, one_day.partition.as_deref()),
        (3, Some("2025-01-14"))
    );

    // The CLI: a registered publication needs its URL variable; a table needs --to.
    let d = dir.path().to_string_lossy().to_string();
    // The CLI makes its own tokio runtime: run it off this one.
    let cli = |args: &[&str]| {
        let mut argv: Vec<String> = vec!["app".into(), "--warehouse".into(), d.clone()];
        argv.extend(args.iter().map(|a| a.to_string()));
        std::thread::spawn(move || format!("{:?}", phlo::cli::run(argv)))
            .join()
            .unwrap_or_else(|_| panic!("the CLI panicked"))
    };
    let ok = format!("{:?}", ExitCode::SUCCESS);
    let usage = format!("{:?}", ExitCode::from(2));
    assert_eq!(
        cli(&[
            "publish",
            "bronze.well_readings",
            "--to",
            "e2e_api.from_cli",
            "--url",
            server_url()
        ]),
        ok
    );
    assert_eq!(
        scalar(&pg, "SELECT count(*) FROM e2e_api.from_cli").await,
        "6"
    );
    assert_eq!(
        cli(&[
            "publish",
            "bronze.well_readings",
            "--to",
            "e2e_api.from_cli",
            "--partition",
            "2025-01-13",
            "--url",
            server_url()
        ]),
        ok
    );
    assert_eq!(cli(&["publish", "bronze.well_readings"]), usage, "no --to");
    assert_eq!(
        cli(&[
            "publish",
            "bronze.well_readings",
            "--to",
            "Bad Name",
            "--url",
            server_url()
        ]),
        usage
    );

    // Bad input: typed errors, and the PostgreSQL table keeps its rows.
    let before = scalar(&pg, "SELECT count(*) || '/' || sum(oil) FROM e2e_api.adhoc").await;
    let err = rt
        .publish_table("bronze.no_such_table", "e2e_api.adhoc", server_url(), None)
        .await
        .expect_err("no such table");
    assert!(matches!(err, phlo::Error::UnknownTable { .. }), "{err}");
    let err = rt
        .publish_table(
            "bronze.well_readings",
            "e2e_api.adhoc",
            server_url(),
            Some("2025-13-01"),
        )
        .await
        .expect_err("a bad key");
    assert_eq!(err.class(), phlo::ErrorClass::Usage, "{err}");
    let err = rt
        .publish_table(
            "bronze.well_readings",
            "e2e_api.adhoc",
            "postgres://phlo@127.0.0.1:1/phlo",
            None,
        )
        .await
        .expect_err("no server");
    assert!(err.is_transient(), "{err}");
    pg.batch_execute("CREATE VIEW e2e_api.adhoc_view AS SELECT * FROM e2e_api.adhoc")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let err = rt
        .publish_table("bronze.well_readings", "e2e_api.adhoc", server_url(), None)
        .await
        .expect_err("a dependent view");
    assert!(err.to_string().contains("depend"), "{err}");
    assert_eq!(
        scalar(&pg, "SELECT count(*) || '/' || sum(oil) FROM e2e_api.adhoc").await,
        before
    );
    let unregistered = Runtime::builder(dir.path())
        .registry(registry("e2e_api"))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let err = rt
        .describe("pg_readings")
        .await
        .expect_err("not a table asset");
    assert!(err.to_string().contains("publish pg_readings"), "{err}");
    let err = unregistered
        .publish("pg_readings", None)
        .await
        .expect_err("no URL");
    assert!(err.to_string().contains("PHLO_E2E_PG_URL"), "{err}");
    assert_eq!(err.class(), phlo::ErrorClass::Usage);
}

#[test]
fn publications_are_validated_with_the_registry() {
    let err = |p: Vec<Publication>| {
        only("well_readings")
            .with_publications(p)
            .map(|_| ())
            .expect_err("invalid")
            .to_string()
    };
    let e = err(vec![Publication::postgres("pg", "well_reading", "marts.r")]);
    assert!(e.contains("did you mean `well_readings`"), "{e}");
    let e = err(vec![Publication::postgres(
        "pg",
        "well_readings",
        "Marts.R",
    )]);
    assert!(e.contains("lowercase"), "{e}");
    let e = err(vec![Publication::postgres(
        "well_readings",
        "well_readings",
        "marts.r",
    )]);
    assert!(e.contains("name of its own"), "{e}");
    let e = err(vec![
        Publication::postgres("pg_a", "well_readings", "marts.r"),
        Publication::postgres("pg_b", "well_readings", "marts.r"),
    ]);
    assert!(e.contains("publishes into `marts.r`, which `pg_a`"), "{e}");
}

/// Orders of a shop database, read from PostgreSQL for the partition's day.
#[derive(Schema)]
pub struct ShopOrder {
    /// Order id.
    id: i64,
    /// Customer.
    customer: String,
    /// Amount (numeric in PostgreSQL, read as text and coerced).
    amount: f64,
    /// When it was last updated.
    updated_at: DateTime<Utc>,
}

#[ingestion(table = "bronze.shop_orders", unique_key = "id", schema = ShopOrder)]
pub async fn shop_orders(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    PostgresQuery::table("e2e_source.orders", Some("updated_at"))?
        .url(server_url())
        .batch_rows(7)
        .read(ctx)
        .await
}

#[tokio::test]
async fn a_postgres_query_is_an_ingestion_source_scoped_to_the_partition() {
    let pg = fresh("e2e_source").await;
    pg.batch_execute(
        "CREATE SCHEMA e2e_source; \
         CREATE TABLE e2e_source.orders (id bigint, customer varchar(20), amount numeric(10,2), updated_at timestamptz); \
         INSERT INTO e2e_source.orders \
           SELECT g, 'c' || (g % 4), g * 1.25, TIMESTAMPTZ '2025-01-13 00:00:00+00' + g * INTERVAL '1 hour' \
           FROM generate_series(0, 47) g;",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("pgsource", dir.path(), only("shop_orders")).await;
    let report = rt
        .materialize("shop_orders", "2025-01-14")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.rows_inserted, 24, "{report:?}");
    let got = query(
        &rt,
        "SELECT min(id) AS lo, max(id) AS hi, sum(amount) AS total, count(DISTINCT customer) AS c FROM bronze.shop_orders",
    )
    .await;
    assert!(got.contains("| 24 | 47 | 1065.0 | 4 |"), "{got}");

    // A source failure is a typed, deterministic error and writes nothing.
    pg.batch_execute("DROP TABLE e2e_source.orders")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let err = rt
        .materialize("shop_orders", "2025-01-13")
        .await
        .expect_err("the table is gone");
    assert!(err.to_string().contains("does not exist"), "{err}");
    let rows = query(&rt, "SELECT count(*) AS n FROM bronze.shop_orders").await;
    assert!(rows.contains("| 24 |"), "{rows}");
}

/// Events of an operational table, read incrementally by `updated_at`.
#[derive(Schema)]
pub struct ShopEvent {
    /// Event id.
    id: i64,
    /// What happened (required: a null fails validation).
    kind: String,
    /// When it was last updated.
    updated_at: DateTime<Utc>,
}

#[ingestion(table = "bronze.shop_events", unique_key = "id", schema = ShopEvent, partitioned = false)]
pub async fn shop_events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    let q = PostgresQuery::table("e2e_cursor.events", None)?
        .url(server_url())
        .incremental("updated_at", "1970-01-01 00:00:00+00");
    let q = if LATE.load(std::sync::atomic::Ordering::SeqCst) {
        q.lookback("1 hour")
    } else {
        q
    };
    q.read(ctx).await
}

#[tokio::test]
async fn an_incremental_cursor_reads_only_new_rows_and_advances_only_when_the_run_succeeds() {
    let pg = fresh("e2e_cursor").await;
    pg.batch_execute(
        "CREATE SCHEMA e2e_cursor; \
         CREATE TABLE e2e_cursor.events (id bigint, kind text, updated_at timestamptz); \
         INSERT INTO e2e_cursor.events SELECT g, 'created', TIMESTAMPTZ '2025-01-10 00:00:00+00' + g * INTERVAL '1 minute' \
           FROM generate_series(1, 10) g;",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("pgcursor", dir.path(), only("shop_events")).await;
    let run = |rt: Runtime| async move { rt.materialize("shop_events", Unpartitioned).await };

    let first = run(rt.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((first.rows_in, first.rows_inserted), (10, 10));
    assert_eq!(
        first.cursors.get("postgres:updated_at").map(String::as_str),
        Some("2025-01-10 00:10:00.000000+00")
    );

    // Five new rows and one update: only those six are read.
    pg.batch_execute(
        "INSERT INTO e2e_cursor.events SELECT g, 'created', TIMESTAMPTZ '2025-01-11 00:00:00+00' + g * INTERVAL '1 minute' \
           FROM generate_series(11, 15) g; \
         UPDATE e2e_cursor.events SET kind = 'changed', updated_at = TIMESTAMPTZ '2025-01-11 01:00:00+00' WHERE id = 3;",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let second = run(rt.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (second.rows_in, second.rows_inserted, second.rows_updated),
        (6, 5, 1)
    );

    // Nothing new: nothing read.
    let third = run(rt.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(third.rows_in, 0);

    // A run that fails validation keeps the cursor where it was: the rows are read again
    // once they are fixed.
    pg.batch_execute(
        "INSERT INTO e2e_cursor.events VALUES (16, NULL, TIMESTAMPTZ '2025-01-12 00:00:00+00'), \
           (17, 'created', TIMESTAMPTZ '2025-01-12 00:01:00+00')",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    run(rt.clone())
        .await
        .expect_err("a null kind fails validation");
    pg.batch_execute("UPDATE e2e_cursor.events SET kind = 'fixed' WHERE id = 16")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let fixed = run(rt.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((fixed.rows_in, fixed.rows_inserted), (2, 2));
    let rows = query(
        &rt,
        "SELECT count(*) AS n, max(kind) AS k FROM bronze.shop_events",
    )
    .await;
    assert!(rows.contains("| 17 | fixed |"), "{rows}");

    // With a lookback, a late row stamped before the cursor is read too (and the rows of
    // the window again, merged as unchanged).
    pg.batch_execute(
        "INSERT INTO e2e_cursor.events VALUES (18, 'late', TIMESTAMPTZ '2025-01-11 23:59:00+00')",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let late = shop_events_late(&rt).await;
    assert_eq!(
        (late.rows_in, late.rows_inserted, late.rows_unchanged),
        (3, 1, 2)
    );
}

/// The events asset read with a 1-hour lookback (the same cursor: the asset's own).
async fn shop_events_late(rt: &Runtime) -> RunReport {
    LATE.store(true, std::sync::atomic::Ordering::SeqCst);
    let r = rt.materialize("shop_events", Unpartitioned).await;
    LATE.store(false, std::sync::atomic::Ordering::SeqCst);
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Whether `shop_events` reads with a lookback (only its lookback case sets it).
static LATE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[tokio::test]
async fn a_backfill_publishes_each_partition_after_its_upstream_and_republishes_a_range() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pg = fresh("e2e_backfill").await;
    let rt = runtime("pgbackfill", dir.path(), registry("e2e_backfill")).await;
    let report = rt
        .backfill_selection(
            "well_readings+",
            "2025-01-11",
            "2025-01-13",
            &phlo::BackfillOptions::new().parallel(2),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.all_succeeded(), "{:?}", report.partitions);
    let published: Vec<(String, Option<String>)> = report
        .partitions
        .iter()
        .filter(|p| p.asset.starts_with("pg_"))
        .map(|p| (p.asset.clone(), p.partition.clone()))
        .collect();
    assert_eq!(
        published,
        [
            ("pg_readings".to_string(), None),
            (
                "pg_readings_daily".to_string(),
                Some("2025-01-11".to_string())
            ),
            (
                "pg_readings_daily".to_string(),
                Some("2025-01-12".to_string())
            ),
            (
                "pg_readings_daily".to_string(),
                Some("2025-01-13".to_string())
            ),
        ]
    );
    assert_eq!(
        scalar(&pg, "SELECT count(*) FROM e2e_backfill.readings_daily").await,
        "9"
    );
    assert_eq!(
        scalar(&pg, "SELECT count(*) FROM e2e_backfill.readings").await,
        "9"
    );

    // A publication alone republishes a range of the table as it stands.
    pg.batch_execute("DELETE FROM e2e_backfill.readings_daily WHERE day = DATE '2025-01-12'")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = rt
        .backfill_selection(
            "pg_readings_daily",
            "2025-01-12",
            "2025-01-12",
            &phlo::BackfillOptions::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.all_succeeded(), "{:?}", again.partitions);
    assert_eq!(again.partitions.len(), 1);
    assert_eq!(
        scalar(&pg, "SELECT count(*) FROM e2e_backfill.readings_daily").await,
        "9"
    );
}
