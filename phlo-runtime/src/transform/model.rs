//! SQL models: a file's config header and its `ref`/`source` dependencies.
//!
//! A model is a `.sql` file under the models directory. Its name is the file's stem, so
//! `models/staging/stg_wells.sql` is the model `stg_wells`. Its table is the header's
//! `table`, or else `<first directory>.<name>` (`staging.stg_wells`), or `main.<name>`
//! for a file at the top of the directory.
//!
//! The config header is made of the file's leading `-- phlo:` comment lines, joined. They
//! hold `key = value` pairs separated by commas, with TOML values:
//!
//! ```sql
//! -- phlo: materialized = "incremental", unique_key = ["well_code", "production_date"]
//! -- phlo: partitions = "daily", start = "2024-01-01", group = "wells", tags = ["daily"]
//! SELECT ... FROM {{ ref('stg_well_production') }}
//! ```
//!
//! `cron = "0 6 * * *"` schedules the model for `serve`, `automation = "eager"` runs it
//! when an upstream changes, and `freshness_hours = [24, 48]` gives `status` its
//! thresholds.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::TransformError;
use super::template;

/// How a model's result is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Materialized {
    /// Nothing is stored: a `ref` to it reads its query inline.
    View,
    /// The whole table is rebuilt, in one commit that replaces it.
    Table,
    /// Merged by `unique_key` into the table (skip-unchanged, one commit); partitioned
    /// models merge one partition's result at a time.
    Incremental,
    /// The partition's rows are replaced by the result, in one commit.
    ReplacePartition,
    /// dbt's microbatch: each batch is one time partition, its rows replaced in one
    /// commit; upstreams are read filtered to the batch's window on their `event_time`
    /// column (not by partition keys), and `build` re-runs the `lookback` batches before
    /// the latest.
    Microbatch,
}

/// What happens when the result's columns differ from the table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnSchemaChange {
    /// The run fails naming the columns (the default).
    #[default]
    Fail,
    /// New columns are added to the table; missing ones fail the run.
    AppendNewColumns,
    /// New columns are added and columns the result no longer has are dropped (the run's
    /// report lists both). Dropping rewrites the whole table in one commit, which only a
    /// `table` model's write does; other models refuse a drop.
    SyncAllColumns,
}

/// A model's header.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// How the result is kept (default `table`).
    #[serde(default = "default_materialized")]
    pub materialized: Materialized,
    /// The table, `ns.name`.
    #[serde(default)]
    pub table: Option<String>,
    /// Key columns (`incremental`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub unique_key: Vec<String>,
    /// `daily`, `hourly`, `monthly` or `none` (default).
    #[serde(default)]
    pub partitions: Option<String>,
    /// First partition (`YYYY-MM-DD`, `YYYY-MM-DDTHH`, `YYYY-MM`); `begin` is its
    /// dbt spelling.
    #[serde(default, alias = "begin")]
    pub start: Option<String>,
    /// Last partition, inclusive.
    #[serde(default)]
    pub end: Option<String>,
    /// Time zone of the partitions (default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Group.
    #[serde(default)]
    pub group: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "one_or_many")]
    pub tags: Vec<String>,
    /// What a change of columns does.
    #[serde(default)]
    pub on_schema_change: OnSchemaChange,
    /// Partition mappings of some upstreams, instead of the default of the pair:
    /// `{ well_readings = "offset(-1)" }` (the previous partition), `"identity"`,
    /// `"time_window"`, `"all"`.
    #[serde(default)]
    pub mappings: std::collections::BTreeMap<String, String>,
    /// The declared contract: the name of a struct deriving `Schema` (or its path when two
    /// modules have one of that name). The result is coerced and validated against it as
    /// an ingestion load is; without it, the contract is the result's columns.
    #[serde(default)]
    pub schema: Option<String>,
    /// With a declared schema: `false` quarantines invalid rows instead of failing the run.
    #[serde(default = "default_strict")]
    pub strict_validation: bool,
    /// Schedule (5-field cron, croner's grammar) that `serve` runs the model on.
    #[serde(default)]
    pub cron: Option<String>,
    /// Freshness thresholds `[warn, error]` in hours, judged by `status`.
    #[serde(default)]
    pub freshness_hours: Option<(f64, f64)>,
    /// `"eager"`: `serve` runs the partitions an upstream change maps to.
    #[serde(default)]
    pub automation: Option<Automation>,
    /// The column holding a row's event time. A `microbatch` model's batches are windows
    /// of it; on an upstream it names the column a microbatch downstream filters on.
    #[serde(default)]
    pub event_time: Option<String>,
    /// `microbatch`: how many batches before the latest a `build` re-runs (late data);
    /// default 1, as in dbt.
    #[serde(default)]
    pub lookback: Option<i64>,
}

/// dbt's default `lookback`: the batch before the latest is re-run.
pub const DEFAULT_LOOKBACK: u32 = 1;

impl ModelConfig {
    /// A microbatch model's `lookback` (validated by the registry to be at least 0).
    pub fn lookback(&self) -> u32 {
        self.lookback
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_LOOKBACK)
    }
}

fn default_strict() -> bool {
    true
}

/// When `serve` runs a model besides its `cron`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Automation {
    /// As soon as an upstream partition it maps to gets a new table version.
    Eager,
}

fn default_materialized() -> Materialized {
    Materialized::Table
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            materialized: Materialized::Table,
            table: None,
            unique_key: Vec::new(),
            partitions: None,
            start: None,
            end: None,
            timezone: None,
            group: None,
            tags: Vec::new(),
            on_schema_change: OnSchemaChange::Fail,
            mappings: Default::default(),
            schema: None,
            strict_validation: true,
            cron: None,
            freshness_hours: None,
            automation: None,
            event_time: None,
            lookback: None,
        }
    }
}

/// A parsed SQL model.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlModel {
    /// The file's stem.
    pub name: String,
    /// The file's path under the models directory.
    pub path: String,
    /// Its table.
    pub table: String,
    /// Its header.
    pub config: ModelConfig,
    /// The SQL template (the whole file).
    pub template: String,
    /// Assets named by `ref('…')`, in order of first use.
    pub refs: Vec<String>,
    /// Tables named by `source('ns', 'name')`, as `ns.name`.
    pub sources: Vec<String>,
}

/// The header text of `sql`: its leading `-- phlo:` lines, joined with commas.
fn header(sql: &str) -> String {
    let mut parts = Vec::new();
    for line in sql.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.strip_prefix("--") {
            Some(comment) => {
                if let Some(config) = comment.trim_start().strip_prefix("phlo:") {
                    let config = config.trim().trim_end_matches(',');
                    if !config.is_empty() {
                        parts.push(config.to_string());
                    }
                }
            }
            None => break,
        }
    }
    parts.join(", ")
}

/// Parses `path` (relative to the models directory) holding `sql`.
pub fn parse_model(path: &str, sql: &str) -> Result<SqlModel, TransformError> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let Some(name) = file.strip_suffix(".sql") else {
        return Err(TransformError::Model {
            path: path.to_string(),
            reason: "a model file's name must end in `.sql`".into(),
        });
    };
    let head = header(sql);
    #[derive(Deserialize)]
    struct Wrapper {
        config: ModelConfig,
    }
    let config = if head.is_empty() {
        ModelConfig::default()
    } else {
        toml::from_str::<Wrapper>(&format!("config = {{ {head} }}"))
            .map(|w| w.config)
            .map_err(|e| TransformError::Model {
                path: path.to_string(),
                reason: format!(
                    "its `-- phlo:` header is not `key = value` pairs separated by commas: {}",
                    e.message()
                ),
            })?
    };
    let table = match &config.table {
        Some(t) => t.clone(),
        None => match path.split_once('/') {
            Some((dir, _)) => format!("{dir}.{name}"),
            None => format!("main.{name}"),
        },
    };
    if config.materialized == Materialized::Incremental && config.unique_key.is_empty() {
        return Err(TransformError::Model {
            path: path.to_string(),
            reason: "`materialized = \"incremental\"` merges by key: add `unique_key = [\"…\"]` to its header".into(),
        });
    }
    let found = template::dependencies(path, sql)?;
    Ok(SqlModel {
        name: name.to_string(),
        path: path.to_string(),
        table,
        config,
        template: sql.to_string(),
        refs: dedup(found.refs),
        sources: dedup(found.sources),
    })
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    v.into_iter().filter(|x| seen.insert(x.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_tables_and_dependencies() {
        let m = parse_model(
            "intermediate/int_cumsum.sql",
            "-- phlo: materialized = \"incremental\", unique_key = [\"well\", \"day\"],\n\
             -- phlo: group = \"wells\", tags = \"daily\"\n\
             SELECT * FROM {{ ref('stg_wells') }} JOIN {{ source('bronze', 'prices') }} USING (day)\n\
             JOIN {{ ref('stg_wells') }} w2 USING (day)",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.name, "int_cumsum");
        assert_eq!(m.table, "intermediate.int_cumsum");
        assert_eq!(m.config.materialized, Materialized::Incremental);
        assert_eq!(m.config.unique_key, ["well", "day"]);
        assert_eq!(m.config.tags, ["daily"]);
        assert_eq!(m.config.group.as_deref(), Some("wells"));
        assert_eq!(m.refs, ["stg_wells"]);
        assert_eq!(m.sources, ["bronze.prices"]);

        let top = parse_model("m.sql", "SELECT 1 AS x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (top.table.as_str(), top.config.materialized),
            ("main.m", Materialized::Table)
        );
        let named = parse_model("a/m.sql", "-- phlo: table = \"gold.x\"\nSELECT 1")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(named.table, "gold.x");
    }

    #[test]
    fn microbatch_headers_take_dbt_names() {
        let m = parse_model(
            "silver/mb.sql",
            "-- phlo: materialized = \"microbatch\", event_time = \"production_date\"\n\
             -- phlo: partitions = \"daily\", begin = \"2025-01-01\", lookback = 3\n\
             -- phlo: on_schema_change = \"sync_all_columns\"\n\
             SELECT 1",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.config.materialized, Materialized::Microbatch);
        assert_eq!(m.config.event_time.as_deref(), Some("production_date"));
        assert_eq!(m.config.start.as_deref(), Some("2025-01-01"));
        assert_eq!(m.config.lookback(), 3);
        assert_eq!(m.config.on_schema_change, OnSchemaChange::SyncAllColumns);
        let default = parse_model(
            "mb.sql",
            "-- phlo: materialized = \"microbatch\", event_time = \"d\"\nSELECT 1",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(default.config.lookback(), DEFAULT_LOOKBACK);
        // `start` and `begin` are one setting: both is a duplicate.
        let both = parse_model(
            "mb.sql",
            "-- phlo: start = \"2025-01-01\", begin = \"2025-01-02\"\nSELECT 1",
        );
        assert!(both.is_err(), "{both:?}");
    }

    #[test]
    fn bad_headers_teach_the_fix() {
        let e = parse_model("m.sql", "-- phlo: materialized = incremental\nSELECT 1")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("m.sql") && e.contains("header"), "{e}");
        let e = parse_model("m.sql", "-- phlo: materialised = \"table\"\nSELECT 1")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("materialised"), "{e}");
        let e = parse_model("m.sql", "-- phlo: materialized = \"incremental\"\nSELECT 1")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("unique_key"), "{e}");
        let e = parse_model("m.txt", "SELECT 1")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(".sql"), "{e}");
    }
}
