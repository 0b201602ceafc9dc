//! The one place DataFusion sessions are made: a lazy catalog over the warehouse.
//!
//! Tables are opened only when a query or check references them (DataFusion asks the
//! schema provider for each table a statement names), through the store, which keeps
//! opened tables and brings them forward incrementally. A table that cannot be opened
//! fails the statements that name it, not every statement of the warehouse.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::prelude::SessionContext;
use phlo_core::names::{TableName, check_identifier};
use phlo_core::storage::TableStore;

use crate::Result;

/// Tables registered over the store's own, by name (the audit's staged view).
type Overrides = Arc<RwLock<HashMap<TableName, Arc<dyn TableProvider>>>>;

/// Makes sessions over one warehouse.
#[derive(Debug, Clone)]
pub struct Session {
    store: Arc<dyn TableStore>,
}

impl Session {
    /// Sessions over `store`.
    pub fn new(store: Arc<dyn TableStore>) -> Self {
        Session { store }
    }

    /// A DataFusion session where every warehouse table is `ns.table`, opened on first
    /// reference.
    pub async fn context(&self) -> Result<SessionContext> {
        self.context_with(Vec::new()).await
    }

    /// A session where `overrides` stand in for the tables of the same names.
    pub async fn context_with(
        &self,
        overrides: Vec<(TableName, Arc<dyn TableProvider>)>,
    ) -> Result<SessionContext> {
        let ctx = SessionContext::new();
        let tables = self.store.list_tables().await?;
        let catalog = WarehouseCatalog {
            store: self.store.clone(),
            tables: Arc::new(tables),
            overrides: Arc::new(RwLock::new(overrides.into_iter().collect())),
        };
        ctx.register_catalog("datafusion", Arc::new(catalog));
        Ok(ctx)
    }
}

#[derive(Debug)]
struct WarehouseCatalog {
    store: Arc<dyn TableStore>,
    /// The warehouse's tables when the session was made (for listings only: lookups go to
    /// the store, so a table created since is found).
    tables: Arc<Vec<TableName>>,
    overrides: Overrides,
}

impl CatalogProvider for WarehouseCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .tables
            .iter()
            .map(|t| t.namespace().to_string())
            .chain(
                self.overrides
                    .read()
                    .map(|o| {
                        o.keys()
                            .map(|t| t.namespace().to_string())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        check_identifier(name).ok()?;
        Some(Arc::new(Namespace {
            namespace: name.to_string(),
            store: self.store.clone(),
            tables: self.tables.clone(),
            overrides: self.overrides.clone(),
        }))
    }
}

#[derive(Debug)]
struct Namespace {
    namespace: String,
    store: Arc<dyn TableStore>,
    tables: Arc<Vec<TableName>>,
    overrides: Overrides,
}

impl Namespace {
    fn name(&self, table: &str) -> Option<TableName> {
        TableName::parse(&format!("{}.{table}", self.namespace)).ok()
    }

    fn overridden(&self, table: &TableName) -> Option<Arc<dyn TableProvider>> {
        self.overrides.read().ok()?.get(table).cloned()
    }
}

#[async_trait]
impl SchemaProvider for Namespace {
    fn table_names(&self) -> Vec<String> {
        self.tables
            .iter()
            .filter(|t| t.namespace() == self.namespace)
            .map(|t| t.name().to_string())
            .collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let Some(table) = self.name(name) else {
            return Ok(None);
        };
        if let Some(p) = self.overridden(&table) {
            return Ok(Some(p));
        }
        self.store
            .provider(&table)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let Some(key) = self.name(&name) else {
            return Err(DataFusionError::Plan(format!(
                "`{name}` is not a valid table name"
            )));
        };
        let mut o = self
            .overrides
            .write()
            .map_err(|_| DataFusionError::Internal("catalog lock poisoned".into()))?;
        Ok(o.insert(key, table))
    }

    fn deregister_table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let Some(key) = self.name(name) else {
            return Ok(None);
        };
        let mut o = self
            .overrides
            .write()
            .map_err(|_| DataFusionError::Internal("catalog lock poisoned".into()))?;
        Ok(o.remove(&key))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.name(name)
            .is_some_and(|t| self.overridden(&t).is_some() || self.tables.iter().any(|x| x == &t))
    }
}
