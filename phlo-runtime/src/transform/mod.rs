//! Transform assets defined by files: SQL models and CSV seeds.
//!
//! A project's files are embedded in the binary at compile time (`phlo::models!("models")`,
//! `phlo::seeds!("seeds")`, each a `&'static [ProjectFile]`) and handed to the runtime
//! ([`crate::RuntimeBuilder::project`]). The registry turns each into an asset: a model's
//! edges come from its `ref`s and `source`s, a seed is a table rebuilt from its CSV.
//! Running one goes through the same steps as an ingestion load (coerce, validate,
//! metadata, deduplicate, one commit, audit), with the model's query in place of the
//! user function.

pub mod lineage;
pub mod model;
pub mod rust;
pub mod template;

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex, OnceLock};

use arrow::datatypes::{DataType, Schema as ArrowSchema, TimeUnit};
use arrow::record_batch::RecordBatch;
use phlo_core::schema::{FieldDef, FieldType, SchemaDef, SchemaPolicy};

pub use model::{Automation, Materialized, ModelConfig, OnSchemaChange, SqlModel, parse_model};

/// One file of a project, embedded in the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectFile {
    /// Its path relative to the directory it was found in (`staging/stg_wells.sql`).
    pub path: &'static str,
    /// Its contents.
    pub text: &'static str,
}

/// The files of a project: SQL models and CSV seeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Project {
    /// `.sql` files of the models directory.
    pub models: &'static [ProjectFile],
    /// `.csv` files of the seeds directory.
    pub seeds: &'static [ProjectFile],
    /// Singular data tests: `.sql` files whose query must return no rows
    /// (`phlo::models!("tests")` embeds them too).
    pub tests: &'static [ProjectFile],
}

impl Project {
    /// These files and `other`'s, each path once: a file of `other` takes the place of the
    /// file of the same path here (so a project passed explicitly may replace a registered
    /// project's file, as a test does to change a seed), and the same project given twice
    /// counts once.
    pub fn merged(self, other: Project) -> Project {
        fn join(a: &'static [ProjectFile], b: &'static [ProjectFile]) -> &'static [ProjectFile] {
            if b.is_empty() || std::ptr::eq(a, b) {
                return a;
            }
            if a.is_empty() {
                return b;
            }
            let mut all: Vec<ProjectFile> = a.to_vec();
            for f in b {
                match all.iter_mut().find(|g| g.path == f.path) {
                    Some(g) => *g = *f,
                    None => all.push(*f),
                }
            }
            Box::leak(all.into_boxed_slice())
        }
        Project {
            models: join(self.models, other.models),
            seeds: join(self.seeds, other.seeds),
            tests: join(self.tests, other.tests),
        }
    }

    /// Every project registered in this binary with `phlo::register_project!`, merged.
    pub fn registered() -> Project {
        inventory::iter::<ProjectRegistration>
            .into_iter()
            .fold(Project::default(), |all, r| all.merged(r.project))
    }
}

/// A project registered with the binary (`phlo::register_project!(PROJECT)`): its models,
/// seeds and tests join every registry built from the binary's assets
/// ([`crate::Registry::global`]), so a `#[transform]` may read a model and `phlo::cli::main`
/// knows them.
#[derive(Debug, Clone, Copy)]
pub struct ProjectRegistration {
    /// The files.
    pub project: Project,
}

inventory::collect!(ProjectRegistration);

/// A singular data test: `tests/assert_x.sql` is the test `assert_x`, failing when its
/// query returns rows.
#[derive(Debug, Clone, PartialEq)]
pub struct DataTest {
    /// The file's stem.
    pub name: String,
    /// The file's path under the tests directory.
    pub path: String,
    /// The SQL template.
    pub template: String,
    /// Assets named by `ref`.
    pub refs: Vec<String>,
    /// Tables named by `source`.
    pub sources: Vec<String>,
}

/// The data test of `file`.
pub fn parse_data_test(file: &ProjectFile) -> Result<DataTest, TransformError> {
    let m = parse_model(file.path, file.text)?;
    Ok(DataTest {
        name: m.name,
        path: m.path,
        template: m.template,
        refs: m.refs,
        sources: m.sources,
    })
}

/// A problem with a project file; each names the file and what to change.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransformError {
    /// A model's file name or header is wrong.
    #[error("model `{path}`: {reason}")]
    Model {
        /// The file.
        path: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A model's template does not render.
    #[error("model `{path}`: the template does not render: {reason}")]
    Template {
        /// The file.
        path: String,
        /// minijinja's message, with its line.
        reason: String,
    },
    /// A seed's CSV does not read.
    #[error("seed `{path}`: {reason}")]
    Seed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A model's result has a column phlo cannot store as declared.
    #[error(
        "model `{model}`: column `{column}` has type {data_type}, which a table without a schema cannot hold; CAST it to a string, integer, float, boolean, date or timestamp"
    )]
    UnsupportedType {
        /// The model.
        model: String,
        /// The column.
        column: String,
        /// Its type.
        data_type: String,
    },
}

/// A CSV seed: `seeds/prices.csv` is the asset `prices` writing `seeds.prices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The file's stem.
    pub name: String,
    /// The file's path under the seeds directory.
    pub path: String,
    /// Its table.
    pub table: String,
    /// The CSV text (header row first).
    pub csv: &'static str,
}

/// The seed of `file`.
pub fn parse_seed(file: &ProjectFile) -> Result<Seed, TransformError> {
    let base = file.path.rsplit('/').next().unwrap_or(file.path);
    let Some(name) = base.strip_suffix(".csv") else {
        return Err(TransformError::Seed {
            path: file.path.to_string(),
            reason: "a seed file's name must end in `.csv`".into(),
        });
    };
    Ok(Seed {
        name: name.to_string(),
        path: file.path.to_string(),
        table: format!("seeds.{name}"),
        csv: file.text,
    })
}

/// The rows of `seed`, types inferred from the whole file (integers, floats, booleans,
/// dates, timestamps as UTC microseconds, else strings).
pub fn seed_batches(seed: &Seed) -> Result<Vec<RecordBatch>, TransformError> {
    use arrow::csv::ReaderBuilder;
    use arrow::csv::reader::Format;
    let err = |reason: String| TransformError::Seed {
        path: seed.path.clone(),
        reason,
    };
    let format = Format::default().with_header(true);
    let (inferred, _) = format
        .infer_schema(Cursor::new(seed.csv.as_bytes()), None)
        .map_err(|e| err(e.to_string()))?;
    // Timestamps are stored as UTC microseconds; other types as inferred.
    let fields: Vec<arrow::datatypes::Field> = inferred
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(_, _) => f.as_ref().clone().with_data_type(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into()),
            )),
            DataType::Null => f.as_ref().clone().with_data_type(DataType::Utf8),
            _ => f.as_ref().clone(),
        })
        .map(|f| f.with_nullable(true))
        .collect();
    let schema = Arc::new(ArrowSchema::new(fields));
    let reader = ReaderBuilder::new(schema)
        .with_format(format)
        .build(Cursor::new(seed.csv.as_bytes()))
        .map_err(|e| err(e.to_string()))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))
}

fn field_type(data_type: &DataType) -> Option<FieldType> {
    Some(match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => FieldType::Utf8,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            FieldType::Int32
        }
        DataType::Int64 | DataType::UInt32 => FieldType::Int64,
        DataType::Float32 => FieldType::Float32,
        DataType::Float64 | DataType::Decimal128(_, _) => FieldType::Float64,
        DataType::Boolean => FieldType::Boolean,
        DataType::Date32 | DataType::Date64 => FieldType::Date32,
        DataType::Timestamp(_, _) => FieldType::TimestampMicrosUtc,
        _ => return None,
    })
}

type SchemaCache = Mutex<HashMap<(String, String), &'static SchemaDef>>;

/// The contract of a result without a declared schema: its own columns and nullability,
/// strict. Made once per (asset, column list) for the life of the process.
pub fn derived_schema(
    asset: &str,
    schema: &ArrowSchema,
) -> Result<&'static SchemaDef, TransformError> {
    static CACHE: OnceLock<SchemaCache> = OnceLock::new();
    let fingerprint = format!("{:?}", schema.fields());
    let key = (asset.to_string(), fingerprint);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&key).copied()) {
        return Ok(found);
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        if phlo_core::metadata::is_metadata(f.name()) {
            continue;
        }
        let field_type =
            field_type(f.data_type()).ok_or_else(|| TransformError::UnsupportedType {
                model: asset.to_string(),
                column: f.name().clone(),
                data_type: f.data_type().to_string(),
            })?;
        fields.push(FieldDef {
            name: leak(f.name()),
            field_type,
            // A query's nullability is what DataFusion can prove; declare columns nullable
            // and let `unique_key` (never null) and checks say more.
            nullable: true,
            constraints: &[],
        });
    }
    let def: &'static SchemaDef = Box::leak(Box::new(SchemaDef {
        name: leak(&format!("{asset} (its query's columns)")),
        fields: Box::leak(fields.into_boxed_slice()),
        policy: SchemaPolicy::Strict,
    }));
    if let Ok(mut c) = cache.lock() {
        c.insert(key, def);
    }
    Ok(def)
}

/// `s` for the life of the process (registries hold `&'static str`s; a project is loaded
/// once per process).
pub(crate) fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// `"ns"."name"` of a table.
pub fn quoted(table: &phlo_core::names::TableName) -> String {
    format!("\"{}\".\"{}\"", table.namespace(), table.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    static A: &[ProjectFile] = &[ProjectFile {
        path: "a.sql",
        text: "SELECT 1 AS x",
    }];
    static B: &[ProjectFile] = &[
        ProjectFile {
            path: "a.sql",
            text: "SELECT 1 AS x",
        },
        ProjectFile {
            path: "b.sql",
            text: "SELECT 2 AS y",
        },
    ];

    inventory::submit! {
        ProjectRegistration {
            project: Project { models: A, seeds: &[], tests: &[] },
        }
    }

    #[test]
    fn projects_merge_each_file_once() {
        let a = Project {
            models: A,
            ..Project::default()
        };
        let b = Project {
            models: B,
            ..Project::default()
        };
        assert_eq!(a.merged(a), a);
        assert_eq!(a.merged(Project::default()), a);
        assert_eq!(Project::default().merged(b), b);
        let paths: Vec<&str> = a.merged(b).models.iter().map(|f| f.path).collect();
        assert_eq!(paths, ["a.sql", "b.sql"]);
        // The later project's file of a path replaces the earlier one's.
        static A2: &[ProjectFile] = &[ProjectFile {
            path: "a.sql",
            text: "SELECT 3 AS z",
        }];
        let replaced = a.merged(Project {
            models: A2,
            ..Project::default()
        });
        assert_eq!(replaced.models, A2);
        // A registered project is found, and passing it again adds nothing.
        let registered = Project::registered();
        assert_eq!(registered.models, A);
        assert_eq!(registered.merged(a).models.len(), 1);
    }

    #[test]
    fn seeds_read_with_inferred_types() {
        let file = ProjectFile {
            path: "prices.csv",
            text: "month,product,price,ok\n2024-01-01,oil,71.5,true\n2024-02-01,gas,2.5,false\n",
        };
        let seed = parse_seed(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (seed.name.as_str(), seed.table.as_str()),
            ("prices", "seeds.prices")
        );
        let batches = seed_batches(&seed).unwrap_or_else(|e| panic!("{e}"));
        let schema = batches[0].schema();
        let types: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect();
        assert_eq!(types, ["Date32", "Utf8", "Float64", "Boolean"]);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
        let def = derived_schema("prices", &schema).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(def.fields.len(), 4);
        assert!(std::ptr::eq(
            def,
            derived_schema("prices", &schema).unwrap_or_else(|e| panic!("{e}"))
        ));
        let bad = ProjectFile {
            path: "bad.txt",
            text: "a\n1\n",
        };
        assert!(parse_seed(&bad).is_err());
        let ragged = ProjectFile {
            path: "ragged.csv",
            text: "a,b\n1,2\n3\n",
        };
        let e = parse_seed(&ragged)
            .and_then(|s| seed_batches(&s))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("ragged.csv"), "{e}");
    }
}
