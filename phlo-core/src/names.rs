//! Table names: `ns.name`, validated so a name can never become a path.

use std::fmt;

use crate::{Error, Result};

/// The namespace of a table named without one.
pub const DEFAULT_NAMESPACE: &str = "bronze";
/// The namespace of phlo's own tables.
pub const PHLO_NAMESPACE: &str = "_phlo";

/// A validated `ns.name` table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    namespace: String,
    name: String,
}

impl TableName {
    /// Parses `name` (namespace `bronze`) or `ns.name`.
    ///
    /// ```
    /// use phlo_core::names::TableName;
    /// assert_eq!(TableName::parse("events")?.to_string(), "bronze.events");
    /// assert_eq!(TableName::parse("silver.events")?.namespace(), "silver");
    /// assert!(TableName::parse("../etc").is_err());
    /// # Ok::<(), phlo_core::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidTableName {
            name: text.to_string(),
            reason,
        };
        let mut parts = text.split('.');
        let (namespace, name) = match (parts.next(), parts.next(), parts.next()) {
            (Some(name), None, None) => (DEFAULT_NAMESPACE, name),
            (Some(ns), Some(name), None) => (ns, name),
            _ => return Err(invalid("too many `.`")),
        };
        for part in [namespace, name] {
            check_identifier(part).map_err(invalid)?;
        }
        Ok(TableName {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// A table in phlo's own namespace `_phlo`.
    pub fn phlo(name: &str) -> Result<Self> {
        Self::parse(&format!("{PHLO_NAMESPACE}.{name}"))
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The table's name within its namespace.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The quarantine table of this table: `ns.<name>__quarantine`.
    pub fn quarantine(&self) -> TableName {
        TableName {
            namespace: self.namespace.clone(),
            name: format!("{}__quarantine", self.name),
        }
    }
}

/// Checks one part of a table name against `[a-z_][a-z0-9_]*`.
pub fn check_identifier(part: &str) -> std::result::Result<(), &'static str> {
    let mut chars = part.chars();
    match chars.next() {
        None => Err("empty part"),
        Some(c) if !(c.is_ascii_lowercase() || c == '_') => {
            Err("a part must start with a lowercase letter or `_`")
        }
        Some(_) if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') => {
            Err("a part may contain only lowercase letters, digits and `_`")
        }
        Some(_) => Ok(()),
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_reject_paths() {
        assert_eq!(
            TableName::parse("events").map(|t| t.to_string()).ok(),
            Some("bronze.events".into())
        );
        assert_eq!(
            TableName::parse("_phlo.runs").map(|t| t.to_string()).ok(),
            Some("_phlo.runs".into())
        );
        for bad in [
            "", "..", "a/b", "a b", "Events", "1abc", "a.b.c", "a..b", ".a", "a.", "é",
        ] {
            assert!(
                matches!(TableName::parse(bad), Err(Error::InvalidTableName { .. })),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn quarantine_is_a_sibling() -> Result<()> {
        assert_eq!(
            TableName::parse("silver.x")?.quarantine().to_string(),
            "silver.x__quarantine"
        );
        Ok(())
    }
}
