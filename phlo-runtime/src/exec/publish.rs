//! `publish`: a warehouse table, or one partition of it, copied into PostgreSQL
//! (`phlo_postgres::publish`: binary COPY into a staging table or the partition, verified
//! by reading it back, swapped in and recorded in one transaction).
//!
//! What is published: the table's user columns, and its partition key column when the table
//! is partitioned (so a partition can be replaced later); phlo's other metadata columns
//! (`_phlo_ingested_at`, `_phlo_run_id`, `_phlo_row_hash`) stay in the warehouse.

use std::sync::Arc;

use datafusion::prelude::col;
use futures::StreamExt;
use phlo_core::names::TableName;
use phlo_core::partition::PartitionScope;
use phlo_postgres::{PartitionValue, PgTable, PostgresError, PublishReceipt, PublishRequest};

use super::{BuildOutcome, BuildStatus, Runtime};
use crate::registry::{AssetKind, Publication};
use crate::{Error, Result};

impl Runtime {
    /// Runs the registered publication `name`: the whole table, or with `partition` (a
    /// per-partition publication's key) that partition only. The URL comes from the
    /// publication's environment variable.
    pub async fn publish(&self, name: &str, partition: Option<&str>) -> Result<PublishReceipt> {
        let url = self.connection_url(self.publication(name)?.url_env)?;
        self.publish_with_url(name, partition, &url).await
    }

    /// [`Runtime::publish`] to `url` instead of the publication's environment variable.
    pub async fn publish_with_url(
        &self,
        name: &str,
        partition: Option<&str>,
        url: &str,
    ) -> Result<PublishReceipt> {
        let p = self.publication(name)?;
        let table = self.registry.get(p.from)?.table.to_string();
        self.publish_table(&table, p.to, url, partition).await
    }

    fn publication(&self, name: &str) -> Result<Publication> {
        self.registry
            .publication(name)
            .copied()
            .ok_or_else(|| Error::UnknownAsset {
                name: name.to_string(),
                known: self
                    .registry
                    .publications()
                    .map(|p| p.name.to_string())
                    .collect(),
            })
    }

    /// Publishes warehouse table `table` (`ns.name`) into PostgreSQL table `to`
    /// (`schema.table`) at `url`: the whole table, replacing it, or with `partition` that
    /// partition's rows only. On any error the PostgreSQL table is as it was.
    pub async fn publish_table(
        &self,
        table: &str,
        to: &str,
        url: &str,
        partition: Option<&str>,
    ) -> Result<PublishReceipt> {
        let name = TableName::parse(table)?;
        let target = PgTable::parse(to)?;
        let writer = self.registry.writer_of(&name);
        let partitions = writer.map_or(phlo_core::partition::PartitionsDef::None, |a| {
            a.partitions.clone()
        });
        let key = match partition {
            Some(text) => {
                if writer.is_none() {
                    return Err(Error::InvalidArgument {
                        message: format!(
                            "`{table}` is written by no asset of this binary, so its partitions are unknown: publish it whole"
                        ),
                    });
                }
                if !partitions.is_partitioned() {
                    return Err(Error::InvalidArgument {
                        message: format!("`{table}` is not partitioned: publish it whole"),
                    });
                }
                Some(partitions.parse_key(text)?)
            }
            None => None,
        };
        let version = self.store.version(&name).await?;
        let provider = self
            .store
            .provider(&name)
            .await?
            .ok_or_else(|| Error::UnknownTable {
                table: table.to_string(),
            })?;
        let key_column = partitions.key_column().map(|(c, _)| c);
        let columns: Vec<String> = provider
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !phlo_core::metadata::is_metadata(n) || Some(n.as_str()) == key_column)
            .collect();
        let scope = partitions.scope(key.as_ref());
        // The session's context (one place configures DataFusion), over this provider.
        let ctx = self.session.context().await?;
        let mut df = ctx.read_table(provider).map_err(Error::sql)?;
        df = df.filter(scope.predicate()).map_err(Error::sql)?;
        df = df
            .select(
                columns
                    .iter()
                    .map(|c| col(format!("\"{c}\"")))
                    .collect::<Vec<_>>(),
            )
            .map_err(Error::sql)?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let stream = df.execute_stream().await.map_err(Error::sql)?;
        let partition_filter = match &scope {
            PartitionScope::Whole => None,
            PartitionScope::Key { column, value, .. } => {
                Some((column.to_string(), partition_value(value)?))
            }
        };
        let request = PublishRequest {
            target,
            partition: partition_filter,
            partition_key: key.as_ref().map(ToString::to_string),
            source_table: name.to_string(),
            source_version: version,
            published_at: self.clock.now(),
            run_id: self.run_ids.next_id(),
        };
        let mut client = phlo_postgres::connect(url).await?;
        let receipt = phlo_postgres::publish(&mut client, schema, stream.boxed(), &request).await?;
        tracing::info!(
            table = %receipt.table,
            rows = receipt.rows,
            checksum = %receipt.checksum,
            partition = receipt.partition.as_deref().unwrap_or(""),
            "published"
        );
        Ok(receipt)
    }

    /// The URL standing for environment variable `env`: the builder's
    /// [`super::RuntimeBuilder::connection`], else the variable itself.
    pub fn connection_url(&self, env: &str) -> Result<String> {
        if let Some(url) = self.connections.get(env) {
            return Ok(url.clone());
        }
        std::env::var(env).map_err(|_| {
            Error::from(PostgresError::MissingUrl {
                env: env.to_string(),
            })
        })
    }

    /// A build's run of publication `p`: its partition (the build's, else the upstream's
    /// latest complete one) when it is per-partition, else the whole table.
    pub(crate) async fn run_publication(
        &self,
        p: Publication,
        partition: Option<String>,
    ) -> BuildOutcome {
        let outcome = async {
            let key = if p.per_partition {
                match partition {
                    Some(k) => Some(k),
                    None => self
                        .registry
                        .get(p.from)?
                        .partitions
                        .latest(self.clock.now())
                        .map(|k| k.to_string()),
                }
            } else {
                None
            };
            self.publish(p.name, key.as_deref()).await
        }
        .await;
        BuildOutcome {
            asset: p.name.to_string(),
            kind: AssetKind::Publish,
            status: match outcome {
                Ok(_) => BuildStatus::Success,
                Err(e) => BuildStatus::Failed {
                    error: e.to_string(),
                },
            },
            runs: Vec::new(),
        }
    }
}

/// A partition's value in its key column, as the publisher renders it for PostgreSQL.
fn partition_value(value: &datafusion::common::ScalarValue) -> Result<PartitionValue> {
    use datafusion::common::ScalarValue as S;
    let unsupported = || {
        Error::from(PostgresError::internal(format!(
            "a partition value of type {} cannot be published",
            value.data_type()
        )))
    };
    Ok(match value {
        S::Date32(Some(d)) => PartitionValue::Date(
            arrow::datatypes::Date32Type::to_naive_date_opt(*d).ok_or_else(unsupported)?,
        ),
        S::TimestampMicrosecond(Some(us), _) => PartitionValue::Timestamp(
            chrono::DateTime::from_timestamp_micros(*us).ok_or_else(unsupported)?,
        ),
        S::Utf8(Some(s)) | S::LargeUtf8(Some(s)) | S::Utf8View(Some(s)) => {
            PartitionValue::Text(s.clone())
        }
        _ => return Err(unsupported()),
    })
}
