//! The rows of a model or seed for one planned step: the query rendered with its upstream
//! relations scoped to the partitions the step's partition maps to, then run through the
//! session (a seed reads its CSV).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use phlo_core::partition::{PartitionKey, sql_literal};

use super::Runtime;
use crate::graph::MappedKeys;
use crate::plan::PlanStep;
use crate::registry::{Asset, AssetSource};
use crate::transform::template::{self, Bindings};
use crate::transform::{SqlModel, quoted};
use crate::{Error, Result};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// `'…'` / `TIMESTAMP '…'` literals of a key: (key, window start, window end).
fn partition_literals(key: &PartitionKey) -> (String, String, String) {
    let text = format!("'{}'", key.to_string().replace('\'', "''"));
    match key.window() {
        Some(w) => (
            text,
            format!("TIMESTAMP '{}'", w.start().format("%Y-%m-%dT%H:%M:%SZ")),
            format!("TIMESTAMP '{}'", w.end().format("%Y-%m-%dT%H:%M:%SZ")),
        ),
        None => (text.clone(), "NULL".into(), "NULL".into()),
    }
}

impl Runtime {
    /// The rows `asset` produces for `step`.
    pub(crate) async fn transform_rows(
        &self,
        asset: &Asset,
        step: &PlanStep,
        ctx: &super::materialize::RunContext,
        report: &mut crate::report::RunReport,
    ) -> Result<Vec<RecordBatch>> {
        // The upstream versions this run reads (read first: a commit landing in between
        // can only make the run look staler than it is, never fresher).
        for dep in &asset.deps {
            if let Ok(up) = self.registry.get(&dep.asset) {
                let version = self.store.version(&up.table).await?;
                report.upstream_versions.insert(dep.asset.clone(), version);
            }
        }
        match &asset.source {
            AssetSource::Seed(seed) => crate::transform::seed_batches(seed).map_err(Error::Project),
            AssetSource::Sql(model) => {
                let df = self
                    .model_frame(
                        asset,
                        model,
                        step.partition.as_ref(),
                        step.expected_version.is_some(),
                    )
                    .await?;
                let schema = df.schema().inner().clone();
                let mut batches = df.collect().await.map_err(|e| Error::Sql {
                    source: Box::new(e),
                })?;
                if batches.is_empty() {
                    // No rows still has columns: the contract is derived from them.
                    batches.push(RecordBatch::new_empty(schema));
                }
                Ok(batches)
            }
            AssetSource::Rust(t) => self.run_transform(asset, t, step, ctx).await,
            AssetSource::Fetch => Err(phlo_core::Error::internal(format!(
                "asset `{}` is fetched, not transformed",
                asset.descriptor.name
            ))
            .into()),
        }
    }

    /// `model`'s SQL for partition `key` and the relations it reads: each `ref` and
    /// `source` renders as its upstream's own table name (`"ns"."table"`, so `table.col`
    /// qualifies as in dbt), which the session resolves to a view of that table scoped to
    /// the partitions `key` maps to, without phlo's metadata columns. A view model is its
    /// own query, planned with its own relations.
    pub(crate) fn scoped_model<'a>(
        &'a self,
        asset: &'a Asset,
        model: &'a SqlModel,
        key: Option<&'a PartitionKey>,
        table_exists: bool,
    ) -> Boxed<'a, (String, Overrides)> {
        Box::pin(async move {
            let (refs, sources, overrides) = self
                .bind(Some(asset), &model.refs, &model.sources, key)
                .await?;
            let incremental = table_exists
                && matches!(
                    model.config.materialized,
                    crate::transform::Materialized::Incremental
                        | crate::transform::Materialized::ReplacePartition
                        | crate::transform::Materialized::Microbatch
                );
            let bindings = Bindings {
                refs,
                sources,
                this: quoted(&asset.table),
                incremental,
                partition: key.map(partition_literals),
            };
            let sql = template::render(&model.path, &model.template, &bindings)
                .map_err(Error::Project)?;
            Ok((sql, overrides))
        })
    }

    /// Runs a Rust transform for `step`: each parameter gets its upstream's table, scoped
    /// to the partitions the step's partition maps to, as a `DataFrame` of one session.
    async fn run_transform(
        &self,
        asset: &Asset,
        t: &crate::transform::rust::TransformDescriptor,
        step: &PlanStep,
        ctx: &super::materialize::RunContext,
    ) -> Result<Vec<RecordBatch>> {
        let session = datafusion::prelude::SessionContext::new();
        let mut frames = Vec::with_capacity(t.inputs.len());
        for input in t.inputs {
            let up = self.registry.get(input.asset)?;
            let provider = self
                .upstream_provider(Some(asset), up, step.partition.as_ref())
                .await?;
            frames.push(session.read_table(provider).map_err(sql_error)?);
        }
        let pctx = phlo_core::partition::PartitionContext::new(
            t.name,
            step.partition.clone(),
            ctx.run_id.clone(),
            1,
            ctx.started_at,
        );
        // In a JoinSet: when the run times out the set is dropped and the call aborted.
        let mut call = tokio::task::JoinSet::new();
        call.spawn((t.run)(pctx, frames));
        let result = match call.join_next().await {
            Some(Ok(r)) => r,
            Some(Err(join)) => {
                return Err(Error::Panicked {
                    asset: t.name.to_string(),
                    message: crate::fetch::panic_message(join),
                });
            }
            None => return Err(phlo_core::Error::internal("the call was not spawned").into()),
        };
        let rows = result.map_err(|error| match error.downcast::<Error>() {
            Ok(e) if matches!(*e, Error::Panicked { .. } | Error::Sql { .. }) => *e,
            Ok(e) => Error::Asset {
                asset: t.name.to_string(),
                transient: false,
                error: e,
            },
            Err(error) => Error::Asset {
                asset: t.name.to_string(),
                transient: false,
                error,
            },
        })?;
        match rows {
            phlo_core::schema::Rows::Batches(batches) => {
                if batches.is_empty() && t.schema.is_none() {
                    return Err(Error::InvalidAsset {
                        asset: t.name.to_string(),
                        location: t.location,
                        reason: "returned no batches and declares no `schema`, so its columns are unknown: return an empty batch with the columns, a `DataFrame`, or declare `schema = T`".into(),
                    });
                }
                Ok(batches)
            }
            phlo_core::schema::Rows::Frame(df) => {
                let schema = df.schema().inner().clone();
                let mut batches = df.collect().await.map_err(sql_error)?;
                if batches.is_empty() {
                    batches.push(RecordBatch::new_empty(schema));
                }
                Ok(batches)
            }
        }
    }

    /// Runs a singular data test over the whole upstream tables: it passes when its query
    /// returns no rows.
    pub(crate) async fn run_data_test(
        &self,
        test: &crate::transform::DataTest,
    ) -> crate::exec::BuildOutcome {
        let outcome = async {
            let (refs, sources, overrides) =
                self.bind(None, &test.refs, &test.sources, None).await?;
            let bindings = Bindings {
                refs,
                sources,
                this: "NULL".into(),
                incremental: false,
                partition: None,
            };
            let sql =
                template::render(&test.path, &test.template, &bindings).map_err(Error::Project)?;
            let ctx = self.session.context_with(overrides).await?;
            let df = ctx.sql(&sql).await.map_err(sql_error)?;
            let batches = df
                .limit(0, Some(6))
                .map_err(sql_error)?
                .collect()
                .await
                .map_err(sql_error)?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            if rows == 0 {
                return Ok(None);
            }
            let shown = arrow::util::pretty::pretty_format_batches(&batches)
                .map(|t| t.to_string().replace('\n', " "))
                .unwrap_or_default();
            let more = if rows > 5 { "more than 5" } else { "" };
            Ok::<_, Error>(Some(format!(
                "data test `{}` returned {} rows: {shown}",
                test.name,
                if more.is_empty() {
                    rows.to_string()
                } else {
                    more.to_string()
                }
            )))
        }
        .await;
        crate::exec::BuildOutcome {
            asset: test.name.clone(),
            kind: crate::registry::AssetKind::Test,
            status: match outcome {
                Ok(None) => crate::exec::BuildStatus::Success,
                Ok(Some(error)) => crate::exec::BuildStatus::Failed { error },
                Err(e) => crate::exec::BuildStatus::Failed {
                    error: e.to_string(),
                },
            },
            runs: Vec::new(),
        }
    }

    /// `model`'s query planned for partition `key`, as a DataFrame.
    pub(crate) async fn model_frame(
        &self,
        asset: &Asset,
        model: &SqlModel,
        key: Option<&PartitionKey>,
        table_exists: bool,
    ) -> Result<datafusion::dataframe::DataFrame> {
        let (sql, overrides) = self.scoped_model(asset, model, key, table_exists).await?;
        let ctx = self.session.context_with(overrides).await?;
        ctx.sql(&sql).await.map_err(sql_error)
    }

    /// A model's result against its table's columns: `fail` (the default) refuses any
    /// difference, `append_new_columns` lets new columns in and refuses missing ones,
    /// `sync_all_columns` lets both through (a drop only where the write rewrites the whole
    /// table: a `table` model). Returns the columns the write adds and drops.
    pub(crate) async fn check_schema_change(
        &self,
        asset: &Asset,
        policy: crate::transform::OnSchemaChange,
        result: &phlo_core::schema::SchemaDef,
    ) -> Result<SchemaSync> {
        use crate::transform::OnSchemaChange;
        let Some(provider) = self.store.provider(&asset.table).await? else {
            return Ok(SchemaSync::default());
        };
        let table: std::collections::BTreeSet<String> = provider
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !phlo_core::metadata::is_metadata(n))
            .collect();
        let now: std::collections::BTreeSet<String> =
            result.fields.iter().map(|f| f.name.to_string()).collect();
        let added: Vec<String> = now.difference(&table).cloned().collect();
        let removed: Vec<String> = table.difference(&now).cloned().collect();
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let rewrites_whole = asset.descriptor.spec.merge_strategy
            == phlo_core::spec::MergeStrategy::ReplacePartition
            && !asset.partitions.is_partitioned();
        let allowed = match policy {
            OnSchemaChange::Fail => added.is_empty() && removed.is_empty(),
            OnSchemaChange::AppendNewColumns => removed.is_empty(),
            OnSchemaChange::SyncAllColumns if removed.is_empty() || rewrites_whole => true,
            OnSchemaChange::SyncAllColumns => {
                return Err(Error::InvalidAsset {
                    asset: asset.descriptor.name.to_string(),
                    location: asset.descriptor.location,
                    reason: format!(
                        "`on_schema_change = \"sync_all_columns\"` would drop {} from `{}`, but this model writes one partition (or merges by key) at a time, so the rest of the table would keep the column; nothing was written. Dropping a column rewrites the whole table, which only a `materialized = \"table\"` model does: drop the table to rebuild it with the new columns",
                        list(&removed),
                        asset.table
                    ),
                });
            }
        };
        if allowed {
            return Ok(SchemaSync {
                added,
                dropped: removed,
            });
        }
        Err(Error::InvalidAsset {
            asset: asset.descriptor.name.to_string(),
            location: asset.descriptor.location,
            reason: format!(
                "its result's columns differ from `{}`'s (new: {}; missing: {}); nothing was written. Set `on_schema_change = \"append_new_columns\"` to add new columns, `\"sync_all_columns\"` to add and drop them, or drop the table to rebuild it",
                asset.table,
                list(&added),
                list(&removed)
            ),
        })
    }

    /// The relations `refs` and `sources` render as (each upstream's table name) and the
    /// session overrides behind those names: views scoped to the partitions `key` of
    /// `down` maps to (whole tables without a `down`), without phlo's metadata columns; a
    /// view model is its own planned query.
    async fn bind(
        &self,
        down: Option<&Asset>,
        refs: &[String],
        sources: &[String],
        key: Option<&PartitionKey>,
    ) -> Result<(
        BTreeMap<String, String>,
        BTreeMap<String, String>,
        Overrides,
    )> {
        let mut overrides: Overrides = Vec::new();
        let mut ref_names = BTreeMap::new();
        for name in refs {
            let up = self.registry.get(name)?;
            let provider = self.upstream_provider(down, up, key).await?;
            ref_names.insert(name.clone(), quoted(&up.table));
            overrides.push((up.table.clone(), provider));
        }
        let mut source_names = BTreeMap::new();
        for source in sources {
            let table = phlo_core::names::TableName::parse(source)?;
            if let Some(up) = self.registry.writer_of(&table) {
                overrides.push((table.clone(), self.scoped_relation(down, up, key).await?));
            }
            source_names.insert(source.clone(), quoted(&table));
        }
        Ok((ref_names, source_names, overrides))
    }

    /// What a `ref` to `up` (or a Rust transform's parameter naming it) reads for `down`'s
    /// partition `key`: a view model is its own planned query (a microbatch `down` keeps
    /// the rows of its batch), any other asset its table scoped by [`Self::scoped_relation`].
    async fn upstream_provider(
        &self,
        down: Option<&Asset>,
        up: &Asset,
        key: Option<&PartitionKey>,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
        let view = match &up.source {
            AssetSource::Sql(view) if up.is_view() => view,
            _ => return self.scoped_relation(down, up, key).await,
        };
        let (sql, inner) = self.scoped_model(up, view, None, false).await?;
        let ctx = self.session.context_with(inner).await?;
        let df = ctx.sql(&sql).await.map_err(sql_error)?;
        let window = match (down, key) {
            (Some(down), Some(key)) if down.is_microbatch() => {
                event_filter(down, up, key, df.schema().as_arrow())?
            }
            _ => None,
        };
        Ok(match window {
            Some(expr) => df.filter(expr).map_err(sql_error)?.into_view(),
            None => df.into_view(),
        })
    }

    /// `up`'s table as `down`'s partition `key` reads it: a microbatch `down` reads the
    /// rows of the batch's time window on `up`'s event-time column, any other the
    /// partitions `key` maps to.
    async fn scoped_relation(
        &self,
        down: Option<&Asset>,
        up: &Asset,
        key: Option<&PartitionKey>,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
        if let (Some(down), Some(key)) = (down, key)
            && down.is_microbatch()
        {
            return self.event_time_relation(down, up, key).await;
        }
        let filter = match down {
            Some(down) => self.upstream_filter(down, up, key)?,
            None => None,
        };
        self.relation(up, filter.as_deref(), None).await
    }

    /// `up`'s rows whose event time lies in batch `key` of the microbatch model `down`.
    /// The event-time column is the one `up` declares (a SQL model's `event_time`), else
    /// the column of `down`'s `event_time` name when `up` has it; an upstream with neither,
    /// or one `down` maps with `mappings = { up = "all" }`, is read whole.
    async fn event_time_relation(
        &self,
        down: &Asset,
        up: &Asset,
        key: &PartitionKey,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
        let window = match self.store.provider(&up.table).await? {
            Some(provider) => event_filter(down, up, key, &provider.schema())?,
            None => None,
        };
        self.relation(up, None, window).await
    }

    /// The `WHERE` of an upstream read: its partitions that `key` of `down` maps to
    /// (`None`: all of them).
    fn upstream_filter(
        &self,
        down: &Asset,
        up: &Asset,
        key: Option<&PartitionKey>,
    ) -> Result<Option<String>> {
        let (Some(key), Some((column, _))) = (key, up.partitions.key_column()) else {
            return Ok(None);
        };
        let keys = self
            .graph
            .upstream_keys(down.descriptor.name, up.descriptor.name, key)
            .map_err(|e| Error::Graph(Box::new(e)))?;
        Ok(match keys {
            MappedKeys::All => None,
            MappedKeys::Keys(keys) if keys.is_empty() => Some("FALSE".into()),
            MappedKeys::Keys(keys) => {
                let values: Vec<String> = keys
                    .iter()
                    .map(|k| sql_literal(&k.column_value()))
                    .collect();
                Some(format!("\"{column}\" IN ({})", values.join(", ")))
            }
        })
    }

    /// A view of `up`'s table (`[WHERE filter]`, and `window` when given) without phlo's
    /// metadata columns.
    async fn relation(
        &self,
        up: &Asset,
        filter: Option<&str>,
        window: Option<datafusion::prelude::Expr>,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
        let Some(provider) = self.store.provider(&up.table).await? else {
            return Err(Error::InvalidArgument {
                message: format!(
                    "`{}` has no table `{}` yet: materialize it first (`build` runs upstreams first)",
                    up.descriptor.name, up.table
                ),
            });
        };
        let columns: Vec<String> = provider
            .schema()
            .fields()
            .iter()
            .filter(|f| !phlo_core::metadata::is_metadata(f.name()))
            .map(|f| format!("\"{}\"", f.name().replace('"', "\"\"")))
            .collect();
        let filter = filter.map(|f| format!(" WHERE {f}")).unwrap_or_default();
        // A session of its own over just this provider: no warehouse listing per upstream.
        // The provider keeps the upstream's own name, so that plans (which inline views)
        // scan `ns.table`: column lineage reads it there.
        let ctx = datafusion::prelude::SessionContext::new();
        let catalog = ctx
            .catalog("datafusion")
            .ok_or_else(|| phlo_core::Error::internal("the default catalog is missing"))?;
        catalog
            .register_schema(
                up.table.namespace(),
                Arc::new(datafusion::catalog::MemorySchemaProvider::new()),
            )
            .map_err(sql_error)?;
        ctx.register_table(
            datafusion::common::TableReference::partial(up.table.namespace(), up.table.name()),
            provider,
        )
        .map_err(sql_error)?;
        let df = ctx
            .sql(&format!(
                "SELECT {} FROM {}{filter}",
                columns.join(", "),
                quoted(&up.table)
            ))
            .await
            .map_err(sql_error)?;
        let df = match window {
            Some(expr) => df.filter(expr).map_err(sql_error)?,
            None => df,
        };
        Ok(df.into_view())
    }
}

/// The event-time predicate of batch `key` of the microbatch model `down` on `up`, whose
/// rows have `schema`: on the column `up` declares (an error when it lacks it), else on
/// `down`'s `event_time` name when `up` has that column; `None` (read whole) otherwise,
/// or when `down` maps `up` with `"all"`.
fn event_filter(
    down: &Asset,
    up: &Asset,
    key: &PartitionKey,
    schema: &arrow::datatypes::Schema,
) -> Result<Option<datafusion::prelude::Expr>> {
    let AssetSource::Sql(model) = &down.source else {
        return Ok(None);
    };
    let whole = model
        .config
        .mappings
        .get(up.descriptor.name)
        .is_some_and(|m| m.trim() == "all");
    let column = up.event_time().or(model.config.event_time.as_deref());
    let (Some(column), false) = (column, whole) else {
        return Ok(None);
    };
    let Ok(field) = schema.field_with_name(column) else {
        if up.event_time().is_some() {
            return Err(Error::InvalidAsset {
                asset: up.descriptor.name.to_string(),
                location: up.descriptor.location,
                reason: format!(
                    "declares `event_time = \"{column}\"`, but its result has no column `{column}`"
                ),
            });
        }
        return Ok(None);
    };
    event_window(down, up, key, column, field.data_type()).map(Some)
}

/// The predicate `start <= column < end` of batch `key` of `down`, with bounds of the
/// column's own type: a timestamp column compares instants (its unit and time zone), a
/// date column the local dates the batch starts and ends on (so it needs daily or monthly
/// batches).
fn event_window(
    down: &Asset,
    up: &Asset,
    key: &PartitionKey,
    column: &str,
    data_type: &arrow::datatypes::DataType,
) -> Result<datafusion::prelude::Expr> {
    use arrow::datatypes::{DataType, TimeUnit};
    use datafusion::prelude::{col, lit};
    use datafusion::scalar::ScalarValue;
    let invalid = |reason: String| Error::InvalidAsset {
        asset: down.descriptor.name.to_string(),
        location: down.descriptor.location,
        reason,
    };
    let (Some(window), Some(windows)) = (key.window(), down.partitions.time()) else {
        return Err(invalid(format!(
            "batch `{key}` is not a time window: a microbatch model needs time partitions"
        )));
    };
    let (start, end) = (window.start(), window.end());
    let bounds = match data_type {
        DataType::Timestamp(unit, tz) => {
            let at = |t: chrono::DateTime<chrono::Utc>| -> Option<ScalarValue> {
                Some(match unit {
                    TimeUnit::Second => {
                        ScalarValue::TimestampSecond(Some(t.timestamp()), tz.clone())
                    }
                    TimeUnit::Millisecond => {
                        ScalarValue::TimestampMillisecond(Some(t.timestamp_millis()), tz.clone())
                    }
                    TimeUnit::Microsecond => {
                        ScalarValue::TimestampMicrosecond(Some(t.timestamp_micros()), tz.clone())
                    }
                    TimeUnit::Nanosecond => {
                        ScalarValue::TimestampNanosecond(Some(t.timestamp_nanos_opt()?), tz.clone())
                    }
                })
            };
            at(start).zip(at(end))
        }
        DataType::Date32 | DataType::Date64 => {
            let first = window.date();
            let next = windows.next(window).date();
            if first == next {
                return Err(invalid(format!(
                    "the event-time column `{column}` of `{}` holds dates, which an hourly batch cannot split: give it a timestamp column, or use daily or monthly batches",
                    up.descriptor.name
                )));
            }
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1);
            let days =
                |d: chrono::NaiveDate| epoch.and_then(|e| i32::try_from((d - e).num_days()).ok());
            days(first)
                .zip(days(next))
                .map(|(a, b)| (ScalarValue::Date32(Some(a)), ScalarValue::Date32(Some(b))))
        }
        other => {
            return Err(invalid(format!(
                "the event-time column `{column}` of `{}` is {other}: it must be a date or a timestamp",
                up.descriptor.name
            )));
        }
    };
    let Some((lo, hi)) = bounds else {
        return Err(invalid(format!(
            "batch `{key}` lies outside the range of `{}`'s event-time column `{column}`",
            up.descriptor.name
        )));
    };
    let c = col(datafusion::common::Column::new_unqualified(column));
    Ok(c.clone().gt_eq(lit(lo)).and(c.lt(lit(hi))))
}

/// The columns a model's write adds to and drops from its table (sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SchemaSync {
    /// Columns of the result the table does not have.
    pub added: Vec<String>,
    /// Columns of the table the result no longer has (`sync_all_columns`).
    pub dropped: Vec<String>,
}

fn sql_error(e: datafusion::error::DataFusionError) -> Error {
    Error::Sql {
        source: Box::new(e),
    }
}

type Overrides = Vec<(
    phlo_core::names::TableName,
    Arc<dyn datafusion::catalog::TableProvider>,
)>;
