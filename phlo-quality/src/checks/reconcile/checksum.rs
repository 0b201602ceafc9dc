//! `ChecksumReconciliationCheck`: per-key hashes of chosen columns match another table's.

use async_trait::async_trait;

use super::{
    Other, PRESENCE, failing_sql, group_by, join_on, key_prefix, keys_not_null, merged_keys,
    side_counts,
};
use crate::checks::common::{CheckOptions, check_options, samples, sql_str, strings};
use crate::scope::quote_ident;
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Compares, key by key, a hash of chosen columns between the checked table in scope and
/// another table (scoped the same way when it has the partition column, else whole).
///
/// The columns are those named with [`columns`](Self::columns), or else every column the
/// two tables share except the keys and phlo's `_phlo_*` metadata columns (which are never
/// compared: naming one is [`Error::Config`]). Hashes are computed by DataFusion (`md5`
/// over a length-prefixed text encoding of each value, where null differs from the empty
/// string); a key with several rows hashes the sorted row hashes. Keys with a null column
/// are ignored.
///
/// A key fails when it is missing on either side or its hashes differ. Denominator: the
/// distinct keys on either side. Two empty sides pass (0 of 0).
///
/// ```rust
/// use phlo_quality::{Check, ChecksumReconciliationCheck};
/// let check = ChecksumReconciliationCheck::new("silver.events", ["id"])
///     .columns(["value", "category"]);
/// assert_eq!(check.name(), "checksum_reconciliation_check(silver.events,id)");
/// ```
#[derive(Debug, Clone)]
pub struct ChecksumReconciliationCheck {
    other: String,
    keys: Vec<String>,
    columns: Vec<String>,
    options: CheckOptions,
}

/// A key missing on a side or with different values.
const FAILING: &str = "problem IS NOT NULL";

/// Prefix of phlo's metadata columns, never compared.
const METADATA_PREFIX: &str = "_phlo_";

impl ChecksumReconciliationCheck {
    /// Compares rows by `keys` with `other` (`ns.table`, same column names).
    pub fn new(
        other: impl Into<String>,
        keys: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        ChecksumReconciliationCheck {
            other: other.into(),
            keys: strings(keys),
            columns: Vec::new(),
            options: CheckOptions::default(),
        }
    }

    /// Hashes these columns (default: every shared non-key, non-`_phlo_` column).
    #[must_use]
    pub fn columns(mut self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.columns = strings(columns);
        self
    }

    fn config(&self, reason: String) -> Error {
        Error::Config {
            check: self.name(),
            reason,
        }
    }

    /// The compared columns, validated.
    async fn compared(&self, scope: &CheckScope, other: &Other) -> Result<Vec<String>> {
        if let Some(meta) = self.columns.iter().find(|c| c.starts_with(METADATA_PREFIX)) {
            return Err(self.config(format!(
                "`{meta}` is a phlo metadata column; metadata columns are never compared"
            )));
        }
        if !self.columns.is_empty() {
            return Ok(self.columns.clone());
        }
        let theirs = other.columns();
        let shared: Vec<String> = scope
            .columns()
            .await?
            .into_iter()
            .filter(|c| {
                !c.starts_with(METADATA_PREFIX) && !self.keys.contains(c) && theirs.contains(c)
            })
            .collect();
        if shared.is_empty() {
            return Err(self.config(format!(
                "{} and {} share no column to compare besides the keys",
                scope.table(),
                other.name()
            )));
        }
        Ok(shared)
    }

    /// Per key: `md5` of the sorted row hashes; a row hash is `md5` of the encoded columns.
    fn digests(&self, select: &dyn Fn(&str, Option<&str>) -> String, columns: &[String]) -> String {
        let keys = key_prefix(&self.keys);
        let encoded = columns
            .iter()
            .map(|c| {
                let text = format!("CAST({} AS VARCHAR)", quote_ident(c));
                format!(
                    "CASE WHEN {text} IS NULL THEN 'N;' ELSE concat('V', \
                     CAST(character_length({text}) AS VARCHAR), ':', {text}, ';') END"
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let rows = select(
            &format!("{keys}md5(concat({encoded})) AS \"_phlo_hash\""),
            Some(&keys_not_null(&self.keys)),
        );
        format!(
            "SELECT {keys}md5(string_agg(\"_phlo_hash\", ',' ORDER BY \"_phlo_hash\")) \
             AS \"_phlo_digest\", 1 AS \"_phlo_present\" FROM ({rows}){}",
            group_by(&self.keys)
        )
    }

    fn joined_sql(&self, scope: &CheckScope, other: &Other, columns: &[String]) -> String {
        let a = self.digests(&|p, w| scope.select_sql(p, w), columns);
        let b = self.digests(&|p, w| other.select_sql(p, w), columns);
        format!(
            "SELECT {}CASE WHEN a.\"_phlo_present\" IS NULL THEN {} \
             WHEN b.\"_phlo_present\" IS NULL THEN {} \
             WHEN a.\"_phlo_digest\" <> b.\"_phlo_digest\" THEN 'different values' END \
             AS problem, {PRESENCE} FROM ({a}) a FULL OUTER JOIN ({b}) b ON {}",
            merged_keys(&self.keys),
            sql_str(&format!("missing from {}", scope.table())),
            sql_str(&format!("missing from {}", other.name())),
            join_on(&self.keys)
        )
    }
}

check_options!(ChecksumReconciliationCheck);

#[async_trait]
impl Check for ChecksumReconciliationCheck {
    fn name(&self) -> String {
        format!(
            "checksum_reconciliation_check({},{})",
            self.other,
            self.keys.join(",")
        )
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    fn columns(&self) -> Vec<String> {
        self.keys.iter().chain(&self.columns).cloned().collect()
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        if self.keys.is_empty() {
            return Err(self.config("name at least one key column".into()));
        }
        let other = Other::resolve(scope, &self.other).await?;
        let columns = self.compared(scope, &other).await?;
        let needed: Vec<String> = self.keys.iter().chain(&columns).cloned().collect();
        scope
            .require_columns(&needed.iter().map(String::as_str).collect::<Vec<_>>())
            .await?;
        other.require_columns(scope, &needed).await?;
        let joined = self.joined_sql(scope, &other, &columns);
        let counts = side_counts(scope, &joined, FAILING).await?;
        let (total, failed) = (counts.total, counts.failed);
        let (only_mine, only_theirs) = (counts.only_checked, counts.only_other);
        let repro_sql = failing_sql(&joined, &self.keys, &["problem"], FAILING);
        let samples = if failed > 0 {
            samples(scope.ctx(), &repro_sql).await?
        } else {
            Vec::new()
        };
        let message = (failed > 0).then(|| {
            format!(
                "{failed} of {total} keys differ over ({}): {only_mine} missing from {} ({}), \
                 {only_theirs} missing from {}, {} with different values",
                columns.join(", "),
                other.name(),
                other.scoping(),
                scope.table(),
                failed - only_mine - only_theirs
            )
        });
        Ok(Evaluation {
            failed_count: failed,
            total_count: total,
            samples,
            repro_sql,
            message,
            passed_override: None,
        })
    }
}

#[cfg(test)]
mod tests;
