use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use super::*;
use crate::names::TableName;

fn batch(ids: &[i64], day: i32) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new(PARTITION_DATE, DataType::Date32, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.to_vec())),
        Arc::new(Date32Array::from(vec![day; ids.len()])),
    ];
    RecordBatch::try_new(schema, cols).unwrap_or_else(|e| panic!("{e}"))
}

fn write(op: WriteOp, txn_version: i64) -> Write {
    Write {
        op,
        partition_columns: vec![PARTITION_DATE.to_string()],
        allow_new_columns: false,
        tag: CommitTag {
            app_id: "phlo:test:2025-01-15".into(),
            txn_version,
            metadata: vec![("phlo.run_id".into(), serde_json::json!("r1"))],
        },
        read_version: ReadVersion::Latest,
    }
}

#[tokio::test]
async fn commits_carry_app_transactions_and_tables_are_listed() -> crate::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::internal(e.to_string()))?;
    let store = DeltaStore::open(dir.path())?;
    let t = TableName::parse("silver.items")?;
    assert_eq!(store.version(&t).await?, None);
    assert!(store.provider(&t).await?.is_none());
    let first = store
        .commit(
            &t,
            write(
                WriteOp::Append {
                    batches: vec![batch(&[1, 2], 20103)],
                },
                1,
            ),
        )
        .await?;
    assert_eq!(
        (
            first.version_before,
            first.version_after,
            first.rows_inserted
        ),
        (None, 0, 2)
    );
    let second = store
        .commit(
            &t,
            write(
                WriteOp::ReplacePartition {
                    batches: vec![batch(&[3], 20103)],
                    scope: PartitionScope::Date(
                        chrono::NaiveDate::from_ymd_opt(2025, 1, 15).unwrap_or_default(),
                    ),
                },
                2,
            ),
        )
        .await?;
    assert_eq!((second.version_before, second.version_after), (Some(0), 1));
    assert_eq!(
        store.app_transaction(&t, "phlo:test:2025-01-15").await?,
        Some(2)
    );
    assert_eq!(store.app_transaction(&t, "phlo:other").await?, None);

    // Directories that are not tables, or not valid names, are not listed.
    std::fs::create_dir_all(dir.path().join("silver/not_a_table"))
        .map_err(|e| crate::Error::internal(e.to_string()))?;
    std::fs::create_dir_all(dir.path().join("Bad Name/x/_delta_log"))
        .map_err(|e| crate::Error::internal(e.to_string()))?;
    let other = TableName::parse("bronze.a")?;
    store
        .commit(
            &other,
            write(
                WriteOp::Append {
                    batches: vec![batch(&[1], 20103)],
                },
                1,
            ),
        )
        .await?;
    let listed: Vec<String> = store
        .list_tables()
        .await?
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(listed, ["bronze.a", "silver.items"]);
    Ok(())
}
