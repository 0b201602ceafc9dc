//! Publications: an asset kind that copies a warehouse table (or one partition of it) into
//! PostgreSQL for BI tools, downstream of the asset writing that table.
//!
//! ```no_run
//! inventory::submit! {
//!     phlo_runtime::registry::Publication::postgres("pg_revenue", "mart_revenue", "marts.revenue")
//!         .url_env("MARTS_PG_URL")
//!         .at(file!(), line!())
//! }
//! ```
//!
//! (`phlo::publish!` writes that for a user.)

use std::collections::BTreeMap;

use phlo_core::spec::Location;

use super::{AssetKind, Registry};
use crate::{Error, Result};

/// The environment variable a publication reads its PostgreSQL URL from, by default.
pub const DEFAULT_URL_ENV: &str = "PHLO_POSTGRES_URL";

/// One publication, as `phlo::publish!` registers it. Built in `const` context, so it can be
/// submitted to the registry from anywhere in the user's crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publication {
    /// Its asset name (unique among every asset).
    pub name: &'static str,
    /// The asset whose table is published.
    pub from: &'static str,
    /// The PostgreSQL table, `schema.table` (`public` when no schema).
    pub to: &'static str,
    /// The environment variable holding the connection URL.
    pub url_env: &'static str,
    /// Whether a build publishes its partition only (a partition replace), rather than the
    /// whole table.
    pub per_partition: bool,
    /// Group (selection `group:`).
    pub group: Option<&'static str>,
    /// Definition site.
    pub location: Location,
}

inventory::collect!(Publication);

impl Publication {
    /// Publication `name` of asset `from`'s table into PostgreSQL table `to`.
    pub const fn postgres(name: &'static str, from: &'static str, to: &'static str) -> Self {
        Publication {
            name,
            from,
            to,
            url_env: DEFAULT_URL_ENV,
            per_partition: false,
            group: None,
            location: Location {
                file: "",
                line: 0,
                column: 0,
                module: "",
            },
        }
    }

    /// Reads the URL from `env` instead of `PHLO_POSTGRES_URL`.
    pub const fn url_env(mut self, env: &'static str) -> Self {
        self.url_env = env;
        self
    }

    /// A build publishes the partition it built (replacing that partition's rows only).
    pub const fn per_partition(mut self) -> Self {
        self.per_partition = true;
        self
    }

    /// Puts it in `group`.
    pub const fn group(mut self, group: &'static str) -> Self {
        self.group = Some(group);
        self
    }

    /// Records where it was defined (`phlo::publish!` passes `file!()`, `line!()`).
    pub const fn at(mut self, file: &'static str, line: u32) -> Self {
        self.location = Location {
            file,
            line,
            column: 0,
            module: "",
        };
        self
    }
}

impl Registry {
    /// Adds publications: names unique among all assets, each publishing the table of an
    /// asset of this registry into a valid PostgreSQL table name, one publication per
    /// PostgreSQL table.
    pub fn with_publications(
        mut self,
        publications: impl IntoIterator<Item = Publication>,
    ) -> Result<Self> {
        let mut all: Vec<Publication> = publications.into_iter().collect();
        super::by_name_and_site(&mut all, |p| (p.name, p.location));
        let mut targets: BTreeMap<String, &'static str> = self
            .publications
            .values()
            .map(|p| (p.to.to_string(), p.name))
            .collect();
        for p in all {
            let invalid = |reason: String| Error::InvalidAsset {
                asset: p.name.to_string(),
                location: p.location,
                reason,
            };
            if self.assets.contains_key(p.name)
                || self.quality.contains_key(p.name)
                || self.data_tests.contains_key(p.name)
                || self.publications.contains_key(p.name)
            {
                return Err(invalid(
                    "a publication needs a name of its own: another asset has it".into(),
                ));
            }
            let Some(upstream) = self.assets.get(p.from) else {
                let known: Vec<&str> = self.assets.keys().copied().collect();
                let hint = crate::graph::suggest::closest(p.from, known.iter().copied())
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                return Err(invalid(format!(
                    "publishes `{}`, which is not an asset of this binary{hint}",
                    p.from
                )));
            };
            if upstream.is_view() {
                return Err(invalid(format!(
                    "publishes `{}`, a view: materialize it as a table to publish it",
                    p.from
                )));
            }
            if p.per_partition && !upstream.partitions.is_partitioned() {
                return Err(invalid(format!(
                    "is per_partition, but `{}` is not partitioned: publish the whole table",
                    p.from
                )));
            }
            let target = phlo_postgres::PgTable::parse(p.to).map_err(|e| invalid(e.to_string()))?;
            if let Some(other) = targets.insert(target.to_string(), p.name) {
                return Err(invalid(format!(
                    "publishes into `{target}`, which `{other}` publishes into too"
                )));
            }
            if p.url_env.is_empty() {
                return Err(invalid("url_env must name an environment variable".into()));
            }
            self.publications.insert(p.name, p);
        }
        Ok(self)
    }

    /// The publication `name`.
    pub fn publication(&self, name: &str) -> Option<&Publication> {
        self.publications.get(name)
    }

    /// Every publication, sorted by name.
    pub fn publications(&self) -> impl Iterator<Item = &Publication> {
        self.publications.values()
    }

    /// The kind of a named asset that is not an ingestion asset or model (tests and
    /// publications), for build reports.
    pub fn other_kind(&self, name: &str) -> Option<AssetKind> {
        if self.data_tests.contains_key(name) {
            Some(AssetKind::Test)
        } else if self.publications.contains_key(name) {
            Some(AssetKind::Publish)
        } else {
            None
        }
    }
}
