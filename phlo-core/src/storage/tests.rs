use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use super::*;
use crate::metadata::PARTITION_DATE;
use crate::names::TableName;
use crate::partition::{PartitionKey, PartitionsDef};

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
        layout: TableLayout {
            partition_columns: vec![PARTITION_DATE.to_string()],
            ..TableLayout::default()
        },
        allow_new_columns: false,
        replace_schema: false,
        tag: CommitTag {
            transaction: Some(AppTransaction {
                app_id: "phlo:test:2025-01-15".into(),
                version: txn_version,
            }),
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
                    scope: PartitionsDef::daily_utc()
                        .scope(Some(&PartitionKey::parse("2025-01-15")?)),
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

/// `(id, v)` rows of one day.
fn rows(rows: &[(i64, &str)], day: i32) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Utf8, true),
        Field::new(PARTITION_DATE, DataType::Date32, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(arrow::array::StringArray::from_iter_values(
            rows.iter().map(|r| r.1),
        )),
        Arc::new(Date32Array::from(vec![day; rows.len()])),
    ];
    RecordBatch::try_new(schema, cols).unwrap_or_else(|e| panic!("{e}"))
}

/// The table's active data files, sorted.
async fn active_files(store: &DeltaStore, t: &TableName) -> crate::Result<Vec<String>> {
    use futures::TryStreamExt;
    let url = url::Url::from_directory_path(store.table_dir(t))
        .map_err(|_| crate::Error::internal("table url"))?;
    let table = deltalake::open_table(url)
        .await
        .map_err(|e| crate::Error::storage(t, e))?;
    let mut files: Vec<String> = table
        .get_active_add_actions_by_partitions(&[])
        .map_ok(|f| f.path().to_string())
        .try_collect()
        .await
        .map_err(|e| crate::Error::storage(t, e))?;
    files.sort();
    Ok(files)
}

/// `(id, v, day)` of every row, by id.
async fn contents(store: &DeltaStore, t: &TableName) -> crate::Result<Vec<(i64, String, i32)>> {
    use arrow::array::AsArray;
    let provider = store
        .provider(t)
        .await?
        .ok_or_else(|| crate::Error::internal("no table"))?;
    let ctx = datafusion::prelude::SessionContext::new();
    ctx.register_table("t", provider)
        .map_err(|e| crate::Error::query(t, e))?;
    let batches = ctx
        .sql("SELECT id, v, CAST(_phlo_partition_date AS INT) FROM t ORDER BY id")
        .await
        .map_err(|e| crate::Error::query(t, e))?
        .collect()
        .await
        .map_err(|e| crate::Error::query(t, e))?;
    let mut out = Vec::new();
    for b in batches {
        let v = arrow::compute::cast(b.column(1), &DataType::Utf8)?;
        for i in 0..b.num_rows() {
            out.push((
                b.column(0)
                    .as_primitive::<arrow::datatypes::Int64Type>()
                    .value(i),
                v.as_string::<i32>().value(i).to_string(),
                b.column(2)
                    .as_primitive::<arrow::datatypes::Int32Type>()
                    .value(i),
            ));
        }
    }
    Ok(out)
}

#[tokio::test]
async fn planned_merges_rewrite_only_the_files_holding_a_matched_key() -> crate::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::internal(e.to_string()))?;
    let store = DeltaStore::open(dir.path())?;
    let t = TableName::parse("bronze.items")?;
    let (a, b, c) = (20100, 20101, 20102);
    for (n, batch) in [
        rows(&[(1, "a1"), (2, "a2"), (3, "a3")], a),
        rows(&[(10, "b10"), (11, "b11")], b),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .commit(
                &t,
                write(
                    WriteOp::Append {
                        batches: vec![batch],
                    },
                    n as i64 + 1,
                ),
            )
            .await?;
    }
    let before = active_files(&store, &t).await?;
    let day = |d: i32| {
        chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|e| e.checked_add_days(chrono::Days::new(d as u64)))
            .map(|d| d.format("%Y-%m-%d").to_string())
    };
    // Key 2 moves from day a to day c with a new value; key 20 is new. Both partitions
    // are candidates, but only day a's file holds a matched key.
    let merge = |source: RecordBatch, version: i64, txn: i64| Write {
        read_version: ReadVersion::Exactly(Some(version)),
        ..write(
            WriteOp::Merge {
                source,
                keys: vec!["id".into()],
                target_partitions: Some(vec![day(a), day(b)]),
            },
            txn,
        )
    };
    let out = store
        .commit(&t, merge(rows(&[(2, "x"), (20, "y")], c), 1, 3))
        .await?;
    assert_eq!(
        (
            out.version_before,
            out.version_after,
            out.rows_inserted,
            out.rows_updated,
            out.rows_copied
        ),
        (Some(1), 2, 1, 1, 2)
    );
    assert_eq!(
        contents(&store, &t).await?,
        vec![
            (1, "a1".into(), a),
            (2, "x".into(), c),
            (3, "a3".into(), a),
            (10, "b10".into(), b),
            (11, "b11".into(), b),
            (20, "y".into(), c),
        ]
    );
    let after = active_files(&store, &t).await?;
    let on = |files: &[String], d: &str| -> Vec<String> {
        files.iter().filter(|f| f.contains(d)).cloned().collect()
    };
    // Day b's file is untouched; day a's was replaced; day c is new.
    assert_eq!(on(&after, "2025-01-13"), on(&before, "2025-01-13"));
    assert_eq!(on(&after, "2025-01-12").len(), 1);
    assert_ne!(on(&after, "2025-01-12"), on(&before, "2025-01-12"));
    assert_eq!(on(&after, "2025-01-14").len(), 1);
    assert_eq!(
        store.app_transaction(&t, "phlo:test:2025-01-15").await?,
        Some(3)
    );

    // Planned against version 1, committed after version 2 exists: a conflict, and the
    // table keeps its version and rows.
    let stale = store
        .commit(&t, merge(rows(&[(3, "stale")], c), 1, 4))
        .await;
    assert!(
        matches!(stale, Err(crate::Error::Conflict { .. })),
        "{stale:?}"
    );
    assert_eq!(store.version(&t).await?, Some(2));
    assert_eq!(contents(&store, &t).await?.len(), 6);
    Ok(())
}

#[tokio::test]
async fn a_merge_that_creates_the_table_encodes_its_files_in_parallel() -> crate::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::internal(e.to_string()))?;
    let store = DeltaStore::open(dir.path())?;
    let t = TableName::parse("bronze.big")?;
    let ids: Vec<i64> = (0..300_000).collect();
    let out = store
        .commit(
            &t,
            Write {
                read_version: ReadVersion::Exactly(None),
                ..write(
                    WriteOp::Merge {
                        source: batch(&ids, 20103),
                        keys: vec!["id".into()],
                        target_partitions: None,
                    },
                    1,
                )
            },
        )
        .await?;
    assert_eq!(
        (out.version_before, out.version_after, out.rows_inserted),
        (None, 0, 300_000)
    );
    // One file per core (300k rows allow up to three writers), all in the one partition.
    let files = active_files(&store, &t).await?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(files.len(), cores.min(3));
    assert!(files.iter().all(|f| f.contains("2025-01-15")), "{files:?}");
    assert_eq!(
        store.app_transaction(&t, "phlo:test:2025-01-15").await?,
        Some(1)
    );
    let provider = store
        .provider(&t)
        .await?
        .ok_or_else(|| crate::Error::internal("no table"))?;
    let ctx = datafusion::prelude::SessionContext::new();
    ctx.register_table("t", provider)
        .map_err(|e| crate::Error::query(&t, e))?;
    let counted = ctx
        .sql("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM t")
        .await
        .map_err(|e| crate::Error::query(&t, e))?
        .collect()
        .await
        .map_err(|e| crate::Error::query(&t, e))?;
    let row: Vec<String> = (0..4)
        .map(|i| {
            arrow::util::display::array_value_to_string(counted[0].column(i), 0).unwrap_or_default()
        })
        .collect();
    assert_eq!(row, ["300000", "300000", "0", "299999"]);
    Ok(())
}

#[tokio::test]
async fn compaction_rewrites_small_files_into_one_and_keeps_the_rows() -> crate::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::internal(e.to_string()))?;
    let store = DeltaStore::open(dir.path())?;
    let t = TableName::parse("_phlo.log")?;
    let day = 20103;
    let append = |ids: &[i64]| Write {
        layout: TableLayout::plain(),
        tag: CommitTag {
            transaction: None,
            metadata: Vec::new(),
        },
        ..write(
            WriteOp::Append {
                batches: vec![batch(ids, day)],
            },
            0,
        )
    };
    let policy = Compaction {
        min_files: 4,
        target_file_bytes: 1024 * 1024,
    };
    for i in 0..3 {
        store.commit(&t, append(&[i])).await?;
    }
    // Below the threshold: nothing to do, no commit.
    assert_eq!(store.compact(&t, &policy).await?, Compacted::default());
    assert_eq!(active_files(&store, &t).await?.len(), 3);
    store.commit(&t, append(&[3])).await?;
    let done = store.compact(&t, &policy).await?;
    assert_eq!(
        (done.files_removed, done.files_added, done.version_after),
        (4, 1, Some(4))
    );
    assert_eq!(active_files(&store, &t).await?.len(), 1);
    assert_eq!(store.version(&t).await?, Some(4));
    assert_eq!(contents_ids(&store, &t).await?, [0, 1, 2, 3]);
    // A missing table has nothing to compact.
    let missing = TableName::parse("_phlo.none")?;
    assert_eq!(
        store.compact(&missing, &policy).await?,
        Compacted::default()
    );
    Ok(())
}

#[tokio::test]
async fn a_cached_table_sees_commits_of_other_stores_and_a_recreated_table() -> crate::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::internal(e.to_string()))?;
    let ours = DeltaStore::open(dir.path())?;
    let theirs = DeltaStore::open(dir.path())?;
    let t = TableName::parse("silver.items")?;
    let append = |ids: &[i64]| {
        write(
            WriteOp::Append {
                batches: vec![batch(ids, 20103)],
            },
            1,
        )
    };
    ours.commit(&t, append(&[1])).await?;
    assert_eq!(ours.version(&t).await?, Some(0));
    // Unchanged: the cached snapshot serves.
    assert_eq!(ours.version(&t).await?, Some(0));
    theirs.commit(&t, append(&[2])).await?;
    theirs.commit(&t, append(&[3])).await?;
    assert_eq!(ours.version(&t).await?, Some(2));
    // Dropped and re-created at a lower version by someone else: not served stale.
    std::fs::remove_dir_all(ours.table_dir(&t))
        .map_err(|e| crate::Error::internal(e.to_string()))?;
    let fresh = DeltaStore::open(dir.path())?;
    fresh.commit(&t, append(&[7, 8, 9])).await?;
    assert_eq!(ours.version(&t).await?, Some(0));
    assert_eq!(contents_ids(&ours, &t).await?, [7, 8, 9]);
    Ok(())
}

async fn contents_ids(store: &DeltaStore, t: &TableName) -> crate::Result<Vec<i64>> {
    use arrow::array::AsArray;
    let provider = store
        .provider(t)
        .await?
        .ok_or_else(|| crate::Error::internal("no table"))?;
    let ctx = datafusion::prelude::SessionContext::new();
    ctx.register_table("t", provider)
        .map_err(|e| crate::Error::query(t, e))?;
    let batches = ctx
        .sql("SELECT id FROM t ORDER BY id")
        .await
        .map_err(|e| crate::Error::query(t, e))?
        .collect()
        .await
        .map_err(|e| crate::Error::query(t, e))?;
    Ok(batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_primitive::<arrow::datatypes::Int64Type>()
                .values()
                .to_vec()
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_creating_one_table_at_once_lose_with_a_conflict() -> crate::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::internal(e.to_string()))?;
    let store = Arc::new(DeltaStore::open(dir.path())?);
    let t = TableName::parse("bronze.raced")?;
    let mut writers = tokio::task::JoinSet::new();
    for i in 0..8i64 {
        let (store, t) = (store.clone(), t.clone());
        writers.spawn(async move {
            // A merge that creates the table writes its files before it commits: the
            // window in which another creator lands.
            let ids: Vec<i64> = (i * 50_000..(i + 1) * 50_000).collect();
            let mut w = write(
                WriteOp::Merge {
                    source: batch(&ids, 20103),
                    keys: vec!["id".into()],
                    target_partitions: None,
                },
                0,
            );
            w.read_version = ReadVersion::Exactly(None);
            store.commit(&t, w).await
        });
    }
    let (mut won, mut conflicts) = (0, 0);
    while let Some(joined) = writers.join_next().await {
        match joined.map_err(|e| crate::Error::internal(e.to_string()))? {
            Ok(_) => won += 1,
            Err(crate::Error::Conflict { .. }) => conflicts += 1,
            Err(other) => panic!("a losing creator must see a conflict, not {other}"),
        }
    }
    assert_eq!((won, conflicts), (1, 7));
    assert_eq!(store.version(&t).await?, Some(0));
    Ok(())
}

#[tokio::test]
async fn checkpoints_are_written_after_their_commit_returns_and_settle_waits_for_them()
-> crate::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::internal(e.to_string()))?;
    let store = DeltaStore::open(dir.path())?;
    let t = TableName::parse("silver.items")?;
    // Version 9 is the tenth commit: the one `delta.checkpointInterval = 10` checkpoints.
    for i in 0..12 {
        store
            .commit(
                &t,
                write(
                    WriteOp::Append {
                        batches: vec![batch(&[i], 20103)],
                    },
                    i + 1,
                ),
            )
            .await?;
    }
    store.settle().await;
    let log = store.table_dir(&t).join("_delta_log");
    assert!(
        log.join("00000000000000000009.checkpoint.parquet")
            .is_file()
    );
    assert!(log.join("_last_checkpoint").is_file());
    assert!(!log.join("00000000000000000010.checkpoint.parquet").exists());
    // A store opening the table afresh reads it from the checkpoint and the entries after.
    let fresh = DeltaStore::open(dir.path())?;
    assert_eq!(fresh.version(&t).await?, Some(11));
    let mut ids = contents_ids(&fresh, &t).await?;
    ids.sort_unstable();
    assert_eq!(ids, (0..12).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test]
async fn a_whole_table_replace_may_replace_the_schema_in_one_commit() -> crate::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::internal(e.to_string()))?;
    let store = DeltaStore::open(dir.path())?;
    let t = TableName::parse("silver.narrowed")?;
    let plain = |op: WriteOp, replace_schema: bool| Write {
        layout: TableLayout::plain(),
        replace_schema,
        ..write(op, 0)
    };
    store
        .commit(
            &t,
            plain(
                WriteOp::ReplacePartition {
                    batches: vec![batch(&[1, 2], 20103)],
                    scope: PartitionScope::Whole,
                },
                false,
            ),
        )
        .await?;
    let only_id = {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from(vec![7_i64])) as ArrayRef],
        )
        .map_err(|e| crate::Error::internal(e.to_string()))?
    };
    // Without replacing the schema, a narrower load is refused and nothing is committed.
    let refused = store
        .commit(
            &t,
            plain(
                WriteOp::ReplacePartition {
                    batches: vec![only_id.clone()],
                    scope: PartitionScope::Whole,
                },
                false,
            ),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(store.version(&t).await?, Some(0));
    // One partition cannot replace the schema: the other partitions' rows keep theirs.
    let partial = store
        .commit(
            &t,
            plain(
                WriteOp::ReplacePartition {
                    batches: vec![only_id.clone()],
                    scope: PartitionsDef::daily_utc()
                        .scope(Some(&PartitionKey::parse("2025-01-15")?)),
                },
                true,
            ),
        )
        .await;
    assert!(partial.is_err(), "{partial:?}");
    assert_eq!(store.version(&t).await?, Some(0));
    let out = store
        .commit(
            &t,
            plain(
                WriteOp::ReplacePartition {
                    batches: vec![only_id],
                    scope: PartitionScope::Whole,
                },
                true,
            ),
        )
        .await?;
    assert_eq!((out.version_before, out.version_after), (Some(0), 1));
    let provider = store
        .provider(&t)
        .await?
        .ok_or_else(|| crate::Error::internal("no table"))?;
    let names: Vec<String> = provider
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id"]);
    Ok(())
}
