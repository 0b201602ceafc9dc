//! Publishing and reading against a real PostgreSQL server on loopback, started by
//! `scripts/postgres.sh` (which installs Debian's server package when none is present).

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{
    Array, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{NaiveDate, TimeZone, Utc};
use phlo_postgres::{
    PartitionValue, PgTable, PostgresError, PublishRequest, ReadOptions, connect, publish,
    read_query,
};

fn server_url() -> &'static str {
    phlo_postgres::testing::server_url().unwrap_or_else(|e| panic!("{e}"))
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(12, 2), true),
        Field::new("ratio", DataType::Float64, true),
        Field::new("active", DataType::Boolean, true),
        Field::new("day", DataType::Date32, false),
        Field::new(
            "seen_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("small", DataType::Int32, true),
    ]))
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("date")
}

fn days(d: u32) -> i32 {
    (day(d) - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Rows `ids` of day `d`.
fn batch(ids: &[i64], d: u32) -> RecordBatch {
    let n = ids.len();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(
                ids.iter()
                    .map(|i| (i % 3 != 0).then(|| format!("name 'é' {i}")))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(
                Decimal128Array::from(
                    ids.iter()
                        .map(|i| Some(i128::from(i * 125 - 300)))
                        .collect::<Vec<_>>(),
                )
                .with_precision_and_scale(12, 2)
                .expect("decimal"),
            ),
            Arc::new(Float64Array::from(
                ids.iter().map(|i| *i as f64 / 7.0).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                ids.iter().map(|i| Some(i % 2 == 0)).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(vec![days(d); n])),
            Arc::new(
                TimestampMicrosecondArray::from(
                    ids.iter()
                        .map(|i| Some(1_770_000_000_000_000 + i * 1_000_001))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(Int32Array::from(vec![None; n])),
        ],
    )
    .expect("batch")
}

fn request(target: &str, partition: Option<u32>) -> PublishRequest {
    PublishRequest {
        target: PgTable::parse(target).expect("valid"),
        partition: partition.map(|d| ("day".to_string(), PartitionValue::Date(day(d)))),
        partition_key: partition.map(|d| day(d).to_string()),
        source_table: "gold.orders".into(),
        source_version: Some(3),
        published_at: Utc
            .with_ymd_and_hms(2026, 3, 10, 12, 0, 0)
            .single()
            .expect("time"),
        run_id: "run-1".into(),
    }
}

/// Publishes `batches` (of [`schema`]) as [`request`] describes.
async fn publish_rows(
    client: &mut tokio_postgres::Client,
    batches: Vec<RecordBatch>,
    target: &str,
    partition: Option<u32>,
) -> phlo_postgres::Result<phlo_postgres::PublishReceipt> {
    publish(
        client,
        schema(),
        stream(batches),
        &request(target, partition),
    )
    .await
}

fn stream(
    batches: Vec<RecordBatch>,
) -> impl futures::Stream<Item = Result<RecordBatch, String>> + Unpin {
    futures::stream::iter(batches.into_iter().map(Ok))
}

async fn fresh_schema(name: &str) -> tokio_postgres::Client {
    let client = connect(server_url()).await.expect("connects");
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
        .await
        .expect("drop schema");
    // The record table outlives test runs: forget this test's earlier publications.
    let forget = client
        .execute(
            "DELETE FROM _phlo.publications WHERE target LIKE $1",
            &[&format!("{name}.%")],
        )
        .await;
    if let Err(e) = forget {
        // 42P01: no publication was ever recorded on this server.
        assert_eq!(e.code().map(|c| c.code()), Some("42P01"), "{e}");
    }
    client
}

async fn count(client: &tokio_postgres::Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .expect("count")
        .get(0)
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

#[tokio::test]
async fn a_whole_table_is_published_verified_recorded_and_reads_back_value_for_value() {
    let mut client = fresh_schema("pub_whole").await;
    let ids: Vec<i64> = (1..=2500).collect();
    let receipt = publish_rows(
        &mut client,
        vec![batch(&ids[..1000], 1), batch(&ids[1000..], 2)],
        "pub_whole.orders",
        None,
    )
    .await
    .expect("publishes");
    assert_eq!(receipt.rows, 2500);
    assert_eq!(receipt.table, "pub_whole.orders");
    assert_eq!(count(&client, "pub_whole.orders").await, 2500);

    // Types as mapped.
    let types: Vec<(String, String)> = client
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = 'pub_whole' AND table_name = 'orders' ORDER BY ordinal_position",
            &[],
        )
        .await
        .expect("columns")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expect = [
        ("id", "bigint"),
        ("name", "text"),
        ("amount", "numeric"),
        ("ratio", "double precision"),
        ("active", "boolean"),
        ("day", "date"),
        ("seen_at", "timestamp with time zone"),
        ("small", "integer"),
    ];
    assert_eq!(
        types,
        expect
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );

    // Values, read back through phlo's own reader and through PostgreSQL's text output.
    let back = read_query(
        &client,
        "SELECT id, name, amount, ratio, active, day, seen_at FROM pub_whole.orders WHERE id IN (3, 4) ORDER BY id",
        &ReadOptions::default(),
    )
    .await
    .expect("reads");
    let b = &back[0];
    let col = |i: usize| b.column(i).clone();
    let name = col(1);
    let name = name.as_any().downcast_ref::<StringArray>().expect("text");
    assert!(name.is_null(0));
    assert_eq!(name.value(1), "name 'é' 4");
    let amount = col(2);
    let amount = amount
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("numeric as text");
    assert_eq!((amount.value(0), amount.value(1)), ("0.75", "2.00"));
    let seen = col(6);
    let seen = seen
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .expect("timestamptz");
    assert_eq!(seen.value(0), 1_770_000_000_000_000 + 3 * 1_000_001);
    let text: String = client
        .query_one(
            "SELECT format('%s|%s|%s|%s', amount, day, seen_at AT TIME ZONE 'UTC', ratio) FROM pub_whole.orders WHERE id = 4",
            &[],
        )
        .await
        .expect("text")
        .get(0);
    assert_eq!(
        text,
        "2.00|2026-03-01|2026-02-02 02:40:04.000004|0.5714285714285714"
    );

    // Recorded in the same transaction.
    let rec = client
        .query_one(
            "SELECT rows, checksum, source_table, source_version, run_id FROM _phlo.publications WHERE target = 'pub_whole.orders'",
            &[],
        )
        .await
        .expect("recorded");
    assert_eq!(rec.get::<_, i64>(0), 2500);
    assert_eq!(rec.get::<_, String>(1), receipt.checksum);
    assert_eq!(rec.get::<_, String>(2), "gold.orders");
    assert_eq!(rec.get::<_, Option<i64>>(3), Some(3));
    assert_eq!(rec.get::<_, String>(4), "run-1");

    // Re-publishing the same rows is idempotent: same table, same checksum, no staging left.
    let again = publish_rows(&mut client, vec![batch(&ids, 1)], "pub_whole.orders", None)
        .await
        .expect("republishes");
    assert_eq!(again.rows, 2500);
    assert_eq!(count(&client, "pub_whole.orders").await, 2500);
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'pub_whole'",
            &[],
        )
        .await
        .expect("tables")
        .get(0);
    assert_eq!(tables, 1, "the staging table became the table");
    // The day column differs (all on day 1 now), so the checksum differs from the first.
    assert_ne!(again.checksum, receipt.checksum);
    let third = publish_rows(&mut client, vec![batch(&ids, 1)], "pub_whole.orders", None)
        .await
        .expect("republishes");
    assert_eq!(third.checksum, again.checksum, "same rows, same checksum");
}

#[tokio::test]
async fn a_partition_replaces_only_its_rows_and_a_reader_never_sees_half_a_load() {
    let mut client = fresh_schema("pub_part").await;
    for d in [1, 2] {
        let ids: Vec<i64> = (1..=100).map(|i| i + i64::from(d) * 1000).collect();
        publish_rows(
            &mut client,
            vec![batch(&ids, d)],
            "pub_part.orders",
            Some(d),
        )
        .await
        .expect("publishes a partition");
    }
    assert_eq!(count(&client, "pub_part.orders").await, 200);

    // Replace day 2 with 50 rows, slowly, while another connection reads.
    let reader = connect(server_url()).await.expect("connects");
    let slow = futures::stream::unfold(0, |i| async move {
        if i == 5 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        let ids: Vec<i64> = (0..10).map(|k| 2000 + i * 10 + k).collect();
        Some((Ok::<_, String>(batch(&ids, 2)), i + 1))
    });
    let load = tokio::spawn(async move {
        let r = publish(
            &mut client,
            schema(),
            Box::pin(slow),
            &request("pub_part.orders", Some(2)),
        )
        .await;
        (client, r)
    });
    let mut seen = Vec::new();
    while !load.is_finished() {
        seen.push(count(&reader, "pub_part.orders").await);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let (client, r) = load.await.expect("joins");
    let receipt = r.expect("publishes");
    assert_eq!(receipt.rows, 50);
    assert!(
        seen.iter().all(|c| *c == 200 || *c == 150),
        "a reader saw a half-loaded partition: {seen:?}"
    );
    assert!(
        seen.contains(&200),
        "the reader ran during the load: {seen:?}"
    );
    assert_eq!(count(&client, "pub_part.orders").await, 150);
    let day1: i64 = client
        .query_one(
            "SELECT count(*) FROM pub_part.orders WHERE day = DATE '2026-03-01'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(day1, 100, "the other partition is untouched");
}

#[tokio::test]
async fn bad_input_is_a_typed_error_and_the_published_table_stays_as_it_was() {
    let mut client = fresh_schema("pub_bad").await;
    let ids: Vec<i64> = (1..=10).collect();
    publish_rows(&mut client, vec![batch(&ids, 1)], "pub_bad.orders", None)
        .await
        .expect("publishes");

    // A column PostgreSQL cannot hold.
    let list = Arc::new(Schema::new(vec![Field::new(
        "tags",
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        true,
    )]));
    let err = publish(
        &mut client,
        list,
        stream(Vec::new()),
        &request("pub_bad.orders", None),
    )
    .await
    .expect_err("a list column");
    assert!(
        matches!(err, PostgresError::UnsupportedType { ref column, .. } if column == "tags"),
        "{err}"
    );

    // The rows to publish fail half way: nothing is committed.
    let failing = futures::stream::iter(vec![
        Ok(batch(&[100, 101], 1)),
        Err("the warehouse read failed".to_string()),
    ]);
    let err = publish(
        &mut client,
        schema(),
        failing,
        &request("pub_bad.orders", None),
    )
    .await
    .expect_err("source fails");
    assert!(matches!(err, PostgresError::Source(_)), "{err}");

    // A text value PostgreSQL cannot store.
    let mut nul = batch(&[7], 1).columns().to_vec();
    nul[1] = Arc::new(StringArray::from(vec!["a\0b"]));
    let nul = RecordBatch::try_new(schema(), nul).expect("batch");
    let err = publish_rows(&mut client, vec![nul], "pub_bad.orders", None)
        .await
        .expect_err("NUL");
    assert!(
        matches!(err, PostgresError::Encode { ref column, .. } if column == "name"),
        "{err}"
    );

    // A view that depends on the table blocks the swap: PostgreSQL refuses, nothing changes.
    client
        .batch_execute(
            "CREATE VIEW pub_bad.big_orders AS SELECT * FROM pub_bad.orders WHERE id > 5",
        )
        .await
        .expect("view");
    let err = publish_rows(
        &mut client,
        vec![batch(&[1, 2, 3], 1)],
        "pub_bad.orders",
        None,
    )
    .await
    .expect_err("a dependent view");
    assert!(
        matches!(err, PostgresError::Query { ref code, .. } if code.as_deref() == Some("2BP01")),
        "{err}"
    );
    assert!(!err.is_transient());

    // A partition into a table of other columns.
    let narrow = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("day", DataType::Date32, false),
    ]));
    let narrow_batch = RecordBatch::try_new(
        narrow.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(Date32Array::from(vec![days(1)])),
        ],
    )
    .expect("batch");
    let err = publish(
        &mut client,
        narrow,
        stream(vec![narrow_batch]),
        &request("pub_bad.orders", Some(1)),
    )
    .await
    .expect_err("other columns");
    assert!(matches!(err, PostgresError::SchemaMismatch { .. }), "{err}");

    // After all of it: the first publication, whole.
    assert_eq!(count(&client, "pub_bad.orders").await, 10);
    let ids_back: Vec<i64> = client
        .query("SELECT id FROM pub_bad.orders ORDER BY id", &[])
        .await
        .expect("ids")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids_back, ids);
    let staging: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%phlo_staging'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(staging, 0);
    let records: i64 = client
        .query_one(
            "SELECT count(*) FROM _phlo.publications WHERE target = 'pub_bad.orders'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(records, 1, "only the publication that landed is recorded");
}

#[tokio::test]
async fn a_query_reads_in_batches_with_nulls_and_refuses_types_it_cannot_hold() {
    let client = connect(server_url()).await.expect("connects");
    let batches = read_query(
        &client,
        "SELECT g AS id, CASE WHEN g % 4 = 0 THEN NULL ELSE 'w' || g END AS well, \
         (g * 1.5)::numeric(10,1) AS oil, DATE '2026-01-01' + g AS day, \
         gen_random_uuid() IS NOT NULL AS ok, '{\"a\": 1}'::jsonb AS doc \
         FROM generate_series(1, 2500) g",
        &ReadOptions { batch_rows: 1000 },
    )
    .await
    .expect("reads");
    assert_eq!(
        batches
            .iter()
            .map(RecordBatch::num_rows)
            .collect::<Vec<_>>(),
        vec![1000, 1000, 500]
    );
    assert_eq!(rows(&batches), 2500);
    let b = &batches[0];
    assert_eq!(b.schema().field(0).data_type(), &DataType::Int32);
    let well = b
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("text");
    assert!(well.is_null(3));
    assert_eq!(well.value(0), "w1");
    let oil = b
        .column(2)
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("numeric");
    assert_eq!(oil.value(1), "3.0");
    let d = b
        .column(3)
        .as_any()
        .downcast_ref::<Date32Array>()
        .expect("date");
    assert_eq!(d.value(0), days(1) - 58); // 2026-01-02
    let doc = b
        .column(5)
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("jsonb");
    assert_eq!(doc.value(0), "{\"a\": 1}");

    let empty = read_query(
        &client,
        "SELECT 1 AS x WHERE false",
        &ReadOptions::default(),
    )
    .await
    .expect("reads");
    assert_eq!(rows(&empty), 0);
    assert_eq!(empty[0].schema().field(0).name(), "x");

    let err = read_query(&client, "SELECT point(1, 2) AS p", &ReadOptions::default())
        .await
        .expect_err("point");
    assert!(
        matches!(err, PostgresError::UnreadableType { ref column, .. } if column == "p"),
        "{err}"
    );
    assert!(err.to_string().contains("p::text"), "{err}");
    let err = read_query(
        &client,
        "SELECT * FROM no_such_table",
        &ReadOptions::default(),
    )
    .await
    .expect_err("missing");
    assert!(
        matches!(err, PostgresError::Query { ref code, .. } if code.as_deref() == Some("42P01")),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_connect_error_without_the_password() {
    let err = connect("postgres://phlo:s3cret@127.0.0.1:1/phlo")
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, PostgresError::Connect { .. }), "{err}");
    assert!(err.is_transient());
    assert!(!err.to_string().contains("s3cret"), "{err}");
}
