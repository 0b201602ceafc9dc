//! SQL templates, rendered by minijinja (Jinja2 as dbt users write it).
//!
//! Functions: `ref('asset')` (the upstream asset's rows, scoped to the partitions the
//! model's partition maps to), `source('ns', 'table')` (a warehouse table, whole),
//! `is_incremental()` (the model is incremental and its table exists). Variables: `this`
//! (the model's own table), `partition_key`, `partition_start`, `partition_end` (SQL
//! timestamp literals of the window, or `NULL` for an unpartitioned run). Anything else
//! undefined is an error, not an empty string.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use minijinja::{Environment, UndefinedBehavior, Value};

use super::TransformError;

/// What rendering `ref` and `source` produce, and the run's variables.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    /// `ref('name')` → SQL relation text.
    pub refs: BTreeMap<String, String>,
    /// `source('ns', 'name')` (key `ns.name`) → SQL relation text.
    pub sources: BTreeMap<String, String>,
    /// `this`.
    pub this: String,
    /// `is_incremental()`.
    pub incremental: bool,
    /// `partition_key`, `partition_start`, `partition_end`.
    pub partition: Option<(String, String, String)>,
}

/// The `ref`s and `source`s a template uses, in order.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Names passed to `ref`.
    pub refs: Vec<String>,
    /// `ns.name` of each `source`.
    pub sources: Vec<String>,
}

fn env(path: &str) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Keep the SQL's own newlines as written.
    env.set_keep_trailing_newline(true);
    let _ = path;
    env
}

fn template_error(path: &str, e: &minijinja::Error) -> TransformError {
    let mut reason = e.to_string();
    if let Some(line) = e.line() {
        reason = format!("line {line}: {reason}");
    }
    TransformError::Template {
        path: path.to_string(),
        reason,
    }
}

/// The dependencies of `sql`, found by rendering it with recording `ref` and `source`.
pub fn dependencies(path: &str, sql: &str) -> Result<Found, TransformError> {
    let found = Arc::new(Mutex::new(Found::default()));
    let mut env = env(path);
    let refs = found.clone();
    env.add_function("ref", move |name: String| -> String {
        if let Ok(mut f) = refs.lock() {
            f.refs.push(name.clone());
        }
        name
    });
    let sources = found.clone();
    env.add_function("source", move |ns: String, name: String| -> String {
        let full = format!("{ns}.{name}");
        if let Ok(mut f) = sources.lock() {
            f.sources.push(full.clone());
        }
        full
    });
    env.add_function("is_incremental", || false);
    let ctx = minijinja::context! {
        this => "this",
        partition_key => "NULL",
        partition_start => "NULL",
        partition_end => "NULL",
    };
    env.render_str(sql, ctx)
        .map_err(|e| template_error(path, &e))?;
    let found = found
        .lock()
        .map(|f| f.clone())
        .map_err(|_| TransformError::Template {
            path: path.to_string(),
            reason: "rendering panicked".into(),
        })?;
    Ok(found)
}

/// Renders `sql` with `bindings`.
pub fn render(path: &str, sql: &str, bindings: &Bindings) -> Result<String, TransformError> {
    let mut env = env(path);
    let refs = bindings.refs.clone();
    env.add_function(
        "ref",
        move |name: String| -> Result<Value, minijinja::Error> {
            refs.get(&name)
                .map(|s| Value::from_safe_string(s.clone()))
                .ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("`ref('{name}')` is not an upstream of this model"),
                    )
                })
        },
    );
    let sources = bindings.sources.clone();
    env.add_function(
        "source",
        move |ns: String, name: String| -> Result<Value, minijinja::Error> {
            let full = format!("{ns}.{name}");
            sources
                .get(&full)
                .map(|s| Value::from_safe_string(s.clone()))
                .ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("`source('{ns}', '{name}')` is not a table of this warehouse"),
                    )
                })
        },
    );
    let incremental = bindings.incremental;
    env.add_function("is_incremental", move || incremental);
    let (key, start, end) = bindings
        .partition
        .clone()
        .unwrap_or_else(|| ("NULL".into(), "NULL".into(), "NULL".into()));
    let ctx = minijinja::context! {
        this => Value::from_safe_string(bindings.this.clone()),
        partition_key => Value::from_safe_string(key),
        partition_start => Value::from_safe_string(start),
        partition_end => Value::from_safe_string(end),
    };
    env.render_str(sql, ctx)
        .map_err(|e| template_error(path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_sources_and_variables_render() {
        let sql = "SELECT * FROM {{ ref('a') }} JOIN {{ source('raw', 'b') }} USING (k)\
                   {% if is_incremental() %} WHERE d >= {{ partition_start }}{% endif %}";
        let found = dependencies("m.sql", sql).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.refs, ["a"]);
        assert_eq!(found.sources, ["raw.b"]);
        let mut b = Bindings {
            this: "\"main\".\"m\"".into(),
            ..Default::default()
        };
        b.refs.insert("a".into(), "(SELECT 1 AS k) AS a".into());
        b.sources.insert("raw.b".into(), "\"raw\".\"b\"".into());
        assert_eq!(
            render("m.sql", sql, &b).unwrap_or_else(|e| panic!("{e}")),
            "SELECT * FROM (SELECT 1 AS k) AS a JOIN \"raw\".\"b\" USING (k)"
        );
        b.incremental = true;
        b.partition = Some((
            "'2025-01-01'".into(),
            "TIMESTAMP '2025-01-01T00:00:00Z'".into(),
            "TIMESTAMP '2025-01-02T00:00:00Z'".into(),
        ));
        assert!(
            render("m.sql", sql, &b)
                .unwrap_or_else(|e| panic!("{e}"))
                .ends_with("WHERE d >= TIMESTAMP '2025-01-01T00:00:00Z'")
        );
    }

    #[test]
    fn template_mistakes_name_the_file_and_line() {
        let e = dependencies("x/m.sql", "SELECT 1\nFROM {{ ref('a') }\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("x/m.sql") && e.contains("line"), "{e}");
        let e = dependencies("m.sql", "SELECT {{ nonsense }}")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("nonsense") || e.contains("undefined"), "{e}");
        let e = render(
            "m.sql",
            "SELECT * FROM {{ ref('zzz') }}",
            &Bindings::default(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("zzz"), "{e}");
    }
}
