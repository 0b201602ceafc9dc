//! `backfill SELECTION --from KEY --to KEY`: every partition of a range of each selected
//! asset, up to `parallel` at a time, each partition once the upstream partitions it maps
//! to are done (SEMANTICS §7).
//!
//! ```text
//!  select + exclude  ─▶ the assets, in dependency order (quality assets audit, not run)
//!  backfill_keys     ─▶ each asset's partitions: the range in its own key form, else the
//!                       partitions its selected upstreams' partitions map to; one run of
//!                       an unpartitioned asset
//!  task_deps         ─▶ a partition waits for the upstream partitions it maps to
//!  _phlo.runs        ─▶ read once: History (latest run per partition, commits per partition)
//!  loop              ─▶ the lowest ready partition: up to date? skipped : run_step
//!                       a failure skips the partitions that map to it (transitively);
//!                       cancelled: no new partition starts, running ones finish
//! ```
//!
//! The pure parts ([`Schedule`], [`History`], [`backfill_keys`], [`task_deps`]) have unit
//! tests below; the runtime glue is [`Runtime::backfill_selection`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use phlo_core::partition::{PartitionKey, PartitionsDef};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::{RunFailure, Runtime};
use crate::graph::{AssetGraph, GraphError, MappedKeys};
use crate::plan::PartitionSelection;
use crate::registry::{Asset, AssetSource};
use crate::report::{RunReport, RunStatus};
use crate::{Error, Result};

/// A handle that stops a backfill: no partition starts after [`Cancellation::cancel`];
/// the partitions already running finish (each commits or leaves the table as it was) and
/// the rest are reported [`Outcome::NotRun`]. Clones share one state.
///
/// ```
/// let cancel = phlo_runtime::exec::Cancellation::new();
/// let options = phlo_runtime::exec::BackfillOptions::new().cancellation(cancel.clone());
/// cancel.cancel();
/// assert!(options.cancellation_handle().is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cancellation {
    inner: Arc<CancelState>,
}

#[derive(Debug, Default)]
struct CancelState {
    cancelled: AtomicBool,
    notify: Notify,
}

impl Cancellation {
    /// A handle not yet cancelled.
    pub fn new() -> Self {
        Cancellation::default()
    }

    /// Cancels: no new partition starts.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether [`Cancellation::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Called after each partition's outcome is known, from the task driving the backfill.
pub type ProgressFn = Arc<dyn Fn(&BackfillProgress) + Send + Sync>;

/// How a backfill runs: a builder.
///
/// ```
/// use phlo_runtime::exec::BackfillOptions;
/// let options = BackfillOptions::new().parallel(4).exclude("tag:slow").force(true);
/// assert_eq!(options.parallelism(), 4);
/// ```
#[derive(Clone)]
pub struct BackfillOptions {
    exclude: Option<String>,
    parallel: usize,
    force: bool,
    failed_only: bool,
    cancel: Cancellation,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for BackfillOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackfillOptions")
            .field("exclude", &self.exclude)
            .field("parallel", &self.parallel)
            .field("force", &self.force)
            .field("failed_only", &self.failed_only)
            .field("cancelled", &self.cancel.is_cancelled())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for BackfillOptions {
    fn default() -> Self {
        BackfillOptions {
            exclude: None,
            parallel: phlo_core::parallel::cores(),
            force: false,
            failed_only: false,
            cancel: Cancellation::new(),
            progress: None,
        }
    }
}

impl BackfillOptions {
    /// The defaults: as many partitions at once as the machine has cores, up-to-date
    /// partitions skipped, every partition of the range considered.
    pub fn new() -> Self {
        BackfillOptions::default()
    }

    /// Leaves out the assets this selection names (dbt syntax, as `build --exclude`).
    pub fn exclude(mut self, exclude: impl Into<String>) -> Self {
        self.exclude = Some(exclude.into());
        self
    }

    /// At most `n` partitions run at once (at least one).
    pub fn parallel(mut self, n: usize) -> Self {
        self.parallel = n.max(1);
        self
    }

    /// Runs partitions even when their latest run succeeded on the same inputs.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Only the partitions whose latest run failed, and the partitions of selected
    /// downstream assets that map to them (which that failure had skipped; they are
    /// still skipped when up to date).
    pub fn failed_only(mut self, failed_only: bool) -> Self {
        self.failed_only = failed_only;
        self
    }

    /// Stops the backfill when `cancel` is cancelled.
    pub fn cancellation(mut self, cancel: Cancellation) -> Self {
        self.cancel = cancel;
        self
    }

    /// Calls `progress` after each partition's outcome.
    pub fn on_progress(
        mut self,
        progress: impl Fn(&BackfillProgress) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// How many partitions may run at once.
    pub fn parallelism(&self) -> usize {
        self.parallel
    }

    /// The cancellation handle (a clone: cancelling it cancels the backfill).
    pub fn cancellation_handle(&self) -> Cancellation {
        self.cancel.clone()
    }
}

/// Why a partition was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Its latest run succeeded with the same code version, and no upstream partition
    /// it reads was committed since the version that run read.
    UpToDate,
    /// An upstream partition it maps to failed (or was skipped for that reason).
    UpstreamFailed,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::UpToDate => "up_to_date",
            SkipReason::UpstreamFailed => "upstream_failed",
        })
    }
}

/// What became of one partition of a backfill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Outcome {
    /// It ran: the commit landed, or nothing needed to change (its run says which).
    Success {
        /// The run.
        run_id: String,
    },
    /// It ran and failed: the table is at its previous version.
    Failed {
        /// The error, one line.
        error: String,
        /// The failed run (`None`: it could not be planned).
        run_id: Option<String>,
    },
    /// It did not run.
    Skipped {
        /// Why.
        reason: SkipReason,
        /// For `upstream_failed`: the failed partition, `asset` or `asset partition`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
    /// The backfill was cancelled before it started.
    NotRun,
}

/// One partition of one asset and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOutcome {
    /// The asset.
    pub asset: String,
    /// The partition key (`None`: unpartitioned).
    pub partition: Option<String>,
    /// Its outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Partitions per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillCounts {
    /// Ran and succeeded.
    pub succeeded: usize,
    /// Ran and failed.
    pub failed: usize,
    /// Skipped: up to date.
    pub up_to_date: usize,
    /// Skipped: an upstream partition failed.
    pub upstream_failed: usize,
    /// Not started (cancelled).
    pub not_run: usize,
}

impl BackfillCounts {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Success { .. } => self.succeeded += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::Skipped {
                reason: SkipReason::UpToDate,
                ..
            } => self.up_to_date += 1,
            Outcome::Skipped {
                reason: SkipReason::UpstreamFailed,
                ..
            } => self.upstream_failed += 1,
            Outcome::NotRun => self.not_run += 1,
        }
    }

    /// Partitions with an outcome.
    pub fn done(&self) -> usize {
        self.succeeded + self.failed + self.up_to_date + self.upstream_failed + self.not_run
    }

    /// Skipped partitions, for either reason.
    pub fn skipped(&self) -> usize {
        self.up_to_date + self.upstream_failed
    }
}

/// Where a running backfill is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillProgress {
    /// Partitions the backfill covers.
    pub total: usize,
    /// Outcomes so far.
    pub counts: BackfillCounts,
    /// Partitions running now.
    pub running: usize,
    /// The outcome just known.
    pub last: PartitionOutcome,
}

/// What a backfill did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackfillReport {
    /// The selection, as given (one asset: its name).
    pub selection: String,
    /// The range's first key, as given.
    pub from: String,
    /// The range's last key, as given.
    pub to: String,
    /// Every partition the backfill covered, by asset in dependency order, then by key.
    pub partitions: Vec<PartitionOutcome>,
    /// The runs it made (failed ones included), in the same order.
    pub runs: Vec<RunReport>,
    /// Whether it was cancelled.
    pub cancelled: bool,
}

impl BackfillReport {
    /// Runs that failed.
    pub fn failed(&self) -> impl Iterator<Item = &RunReport> {
        self.runs.iter().filter(|r| r.status == RunStatus::Failed)
    }

    /// Whether every partition succeeded or was up to date (none failed, was skipped by
    /// a failure, or was left by a cancel).
    pub fn all_succeeded(&self) -> bool {
        let c = self.counts();
        c.failed + c.upstream_failed + c.not_run == 0
    }

    /// Partitions per outcome.
    pub fn counts(&self) -> BackfillCounts {
        let mut c = BackfillCounts::default();
        for p in &self.partitions {
            c.add(&p.outcome);
        }
        c
    }

    /// The outcome of `asset`'s `partition` (`None`: unpartitioned).
    pub fn outcome(&self, asset: &str, partition: Option<&str>) -> Option<&Outcome> {
        self.partitions
            .iter()
            .find(|p| p.asset == asset && p.partition.as_deref() == partition)
            .map(|p| &p.outcome)
    }

    /// Each asset's counts, in dependency order.
    pub fn by_asset(&self) -> Vec<(String, BackfillCounts)> {
        let mut out: Vec<(String, BackfillCounts)> = Vec::new();
        for p in &self.partitions {
            match out.last_mut() {
                Some((a, c)) if *a == p.asset => c.add(&p.outcome),
                _ => {
                    let mut c = BackfillCounts::default();
                    c.add(&p.outcome);
                    out.push((p.asset.clone(), c));
                }
            }
        }
        out
    }
}

/// The fingerprint of `asset`'s definition: its spec, schema and partitions, and for a
/// SQL model or a seed its file's text (16 hex digits of FNV-1a, stable across builds and
/// platforms). A Rust function's body is not part of it: after changing one, backfill
/// with `force`.
pub(crate) fn code_version(asset: &Asset) -> String {
    let d = &asset.descriptor;
    let mut text = format!(
        "{}\n{:?}\n{:?}\n{:?}\n",
        d.name, d.spec, d.schema, asset.partitions
    );
    match &asset.source {
        AssetSource::Sql(model) => text.push_str(&model.template),
        AssetSource::Seed(seed) => text.push_str(seed.csv),
        _ => {}
    }
    format!("{:016x}", super::retry::fnv1a(text.as_bytes(), 0))
}

/// One partition of one asset of a backfill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Task {
    /// The asset's position in the backfill's assets.
    pub asset: usize,
    /// The key (`None`: unpartitioned).
    pub key: Option<PartitionKey>,
}

/// Each asset's partitions in a backfill of `from..=to`: the range in the asset's own key
/// form; for an asset whose partitions take another form, the partitions its selected
/// upstreams' partitions map to (a monthly rollup of a daily range runs the months those
/// days fall in); an unpartitioned asset runs once. `assets` are in dependency order,
/// with their partitions definitions.
pub(crate) fn backfill_keys(
    graph: &AssetGraph,
    assets: &[(&str, &PartitionsDef)],
    from: &str,
    to: &str,
) -> Result<Vec<Vec<Option<PartitionKey>>>> {
    let position: HashMap<&str, usize> = assets
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i))
        .collect();
    let mut out: Vec<Vec<Option<PartitionKey>>> = Vec::with_capacity(assets.len());
    for (name, def) in assets {
        if !def.is_partitioned() {
            out.push(vec![None]);
            continue;
        }
        let own = def
            .parse_key(from)
            .and_then(|f| Ok((f, def.parse_key(to)?)));
        let own_error = match own {
            Ok((f, t)) => {
                if f > t {
                    return Err(Error::InvalidArgument {
                        message: format!("the range is empty: {f} is after {t}"),
                    });
                }
                out.push(def.keys_between(&f, &t)?.into_iter().map(Some).collect());
                continue;
            }
            Err(e) => e,
        };
        // Another key form: the partitions the selected upstreams' partitions map to.
        let mut keys: BTreeSet<PartitionKey> = BTreeSet::new();
        let mut mapped = false;
        let node = graph.node(name);
        for edge in node.map_or(&[][..], |n| &n.deps[..]) {
            let Some(&j) = position.get(edge.upstream.as_str()) else {
                continue;
            };
            let Some(up_keys) = out.get(j) else {
                continue;
            };
            for up_key in up_keys.iter().flatten() {
                match graph
                    .downstream_keys(&edge.upstream, name, up_key)
                    .map_err(|e| Error::Graph(Box::new(e)))?
                {
                    MappedKeys::Keys(ks) => {
                        mapped = true;
                        keys.extend(ks);
                    }
                    MappedKeys::All => {}
                }
            }
        }
        if !mapped {
            return Err(Error::InvalidArgument {
                message: format!(
                    "asset `{name}` is partitioned {}: {own_error}; backfill it with keys of that form, or select an upstream whose partitions map to it",
                    def.describe()
                ),
            });
        }
        out.push(keys.into_iter().map(Some).collect());
    }
    Ok(out)
}

/// For each task, the tasks it waits for: the partitions of its selected upstreams that
/// it maps to (every one of them for an unpartitioned task or an `all` mapping).
pub(crate) fn task_deps(
    graph: &AssetGraph,
    names: &[&str],
    tasks: &[Task],
) -> std::result::Result<Vec<Vec<usize>>, GraphError> {
    let position: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut by_asset: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    let mut by_key: Vec<HashMap<&PartitionKey, usize>> = vec![HashMap::new(); names.len()];
    for (id, t) in tasks.iter().enumerate() {
        if let Some(ids) = by_asset.get_mut(t.asset) {
            ids.push(id);
        }
        if let (Some(k), Some(index)) = (&t.key, by_key.get_mut(t.asset)) {
            index.insert(k, id);
        }
    }
    let mut deps = Vec::with_capacity(tasks.len());
    for t in tasks {
        let mut mine = Vec::new();
        let name = names.get(t.asset).copied().unwrap_or_default();
        for edge in graph.node(name).map_or(&[][..], |n| &n.deps[..]) {
            let Some(&j) = position.get(edge.upstream.as_str()) else {
                continue;
            };
            let all = by_asset.get(j).map_or(&[][..], |v| &v[..]);
            let mapped = match &t.key {
                None => MappedKeys::All,
                Some(k) => graph.upstream_keys(name, &edge.upstream, k)?,
            };
            match mapped {
                MappedKeys::All => mine.extend_from_slice(all),
                MappedKeys::Keys(keys) => {
                    let index = by_key.get(j);
                    mine.extend(
                        keys.iter()
                            .filter_map(|k| index.and_then(|i| i.get(k)).copied()),
                    );
                }
            }
        }
        deps.push(mine);
    }
    Ok(deps)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Ready,
    Running,
    Done,
    Blocked,
}

/// Which task may start: each once all the tasks it waits for succeeded (or were up to
/// date); the lowest ready id first, so with one at a time a backfill runs asset by
/// asset in dependency order, each in key order. A failure blocks every task that waits
/// for it, at any distance.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    dependents: Vec<Vec<usize>>,
    waiting: Vec<usize>,
    state: Vec<State>,
    ready: BTreeSet<usize>,
}

impl Schedule {
    /// A schedule of `deps.len()` tasks, task `i` waiting for `deps[i]` (lower ids).
    pub fn new(deps: &[Vec<usize>]) -> Self {
        let n = deps.len();
        let mut dependents = vec![Vec::new(); n];
        let mut waiting = vec![0; n];
        for (i, ds) in deps.iter().enumerate() {
            let unique: BTreeSet<usize> = ds.iter().copied().filter(|&d| d != i && d < n).collect();
            waiting[i] = unique.len();
            for d in unique {
                dependents[d].push(i);
            }
        }
        let ready: BTreeSet<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
        let state = (0..n)
            .map(|i| {
                if waiting[i] == 0 {
                    State::Ready
                } else {
                    State::Waiting
                }
            })
            .collect();
        Schedule {
            dependents,
            waiting,
            state,
            ready,
        }
    }

    /// The lowest ready task, now running.
    pub fn pop_ready(&mut self) -> Option<usize> {
        let id = self.ready.pop_first()?;
        self.state[id] = State::Running;
        Some(id)
    }

    /// Task `id` succeeded (or needed nothing): the tasks waiting only for it get ready.
    pub fn succeed(&mut self, id: usize) {
        self.state[id] = State::Done;
        for &d in &self.dependents[id] {
            if self.state[d] != State::Waiting {
                continue;
            }
            self.waiting[d] = self.waiting[d].saturating_sub(1);
            if self.waiting[d] == 0 {
                self.state[d] = State::Ready;
                self.ready.insert(d);
            }
        }
    }

    /// Task `id` failed: every task waiting for it, at any distance, is blocked and
    /// returned (in id order) with the task that blocked it directly.
    pub fn fail(&mut self, id: usize) -> Vec<(usize, usize)> {
        self.state[id] = State::Done;
        let mut blocked = Vec::new();
        let mut queue = vec![id];
        while let Some(f) = queue.pop() {
            for &d in &self.dependents[f] {
                if matches!(self.state[d], State::Waiting | State::Ready) {
                    self.state[d] = State::Blocked;
                    self.ready.remove(&d);
                    blocked.push((d, f));
                    queue.push(d);
                }
            }
        }
        blocked.sort_unstable();
        blocked
    }

    /// Tasks not started and not blocked, in id order (what a cancel leaves).
    pub fn unstarted(&self) -> Vec<usize> {
        (0..self.state.len())
            .filter(|&i| matches!(self.state[i], State::Waiting | State::Ready))
            .collect()
    }
}

/// What `_phlo.runs` says about the partitions of a backfill: read once, then kept up to
/// date with the backfill's own runs.
#[derive(Debug, Default, Clone)]
pub(crate) struct History {
    latest: HashMap<(String, Option<String>), Latest>,
    committed: HashMap<String, Committed>,
}

#[derive(Debug, Clone)]
struct Latest {
    status: RunStatus,
    code_version: String,
    upstream_versions: BTreeMap<String, Option<i64>>,
}

/// The newest version each partition of an asset committed.
#[derive(Debug, Default, Clone)]
struct Committed {
    by_partition: HashMap<Option<String>, i64>,
    newest: Option<i64>,
}

impl History {
    /// The history of `runs`, in recorded order.
    pub fn new<'a>(runs: impl IntoIterator<Item = &'a RunReport>) -> Self {
        let mut h = History::default();
        for r in runs {
            h.record(r);
        }
        h
    }

    /// Adds a run (newer than every run before it).
    pub fn record(&mut self, r: &RunReport) {
        self.latest.insert(
            (r.asset.clone(), r.partition.clone()),
            Latest {
                status: r.status,
                code_version: r.code_version.clone(),
                upstream_versions: r.upstream_versions.clone(),
            },
        );
        if r.status == RunStatus::Success
            && let Some(after) = r.table_version_after
            && r.table_version_after > r.table_version_before
        {
            let c = self.committed.entry(r.asset.clone()).or_default();
            let v = c.by_partition.entry(r.partition.clone()).or_insert(after);
            *v = (*v).max(after);
            c.newest = c.newest.max(Some(after));
        }
    }

    /// Whether the latest run of `asset`'s `partition` failed.
    pub fn latest_failed(&self, asset: &str, partition: Option<&str>) -> bool {
        self.latest
            .get(&(asset.to_string(), partition.map(str::to_string)))
            .is_some_and(|l| l.status == RunStatus::Failed)
    }

    /// Whether `asset`'s partition `key` is up to date: its latest run succeeded (or had
    /// no data) with `code_version`, and no upstream partition it maps to committed a
    /// version newer than the one that run read.
    pub fn up_to_date(
        &self,
        graph: &AssetGraph,
        asset: &str,
        key: Option<&PartitionKey>,
        code_version: &str,
    ) -> std::result::Result<bool, GraphError> {
        let text = key.map(ToString::to_string);
        let Some(latest) = self.latest.get(&(asset.to_string(), text)) else {
            return Ok(false);
        };
        if !matches!(latest.status, RunStatus::Success | RunStatus::NoData)
            || latest.code_version.is_empty()
            || latest.code_version != code_version
        {
            return Ok(false);
        }
        for edge in graph.node(asset).map_or(&[][..], |n| &n.deps[..]) {
            let Some(committed) = self.committed.get(&edge.upstream) else {
                continue;
            };
            let read = latest
                .upstream_versions
                .get(&edge.upstream)
                .copied()
                .flatten();
            let mapped = match key {
                None => MappedKeys::All,
                Some(k) => graph.upstream_keys(asset, &edge.upstream, k)?,
            };
            let newest = match mapped {
                MappedKeys::All => committed.newest,
                MappedKeys::Keys(keys) => keys
                    .iter()
                    .filter_map(|k| committed.by_partition.get(&Some(k.to_string())).copied())
                    .max(),
            };
            if newest > read {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// What a spawned partition returns.
type Finished = (usize, std::result::Result<RunReport, RunFailure>);

impl Runtime {
    /// Materializes every partition of `asset` from `from` to `to` (inclusive, in the
    /// asset's key form), one run per partition, in order, whether or not a partition is
    /// already up to date. A failing partition is reported and the backfill goes on.
    /// [`Runtime::backfill_selection`] runs a selection in parallel and resumes.
    pub async fn backfill(&self, asset: &str, from: &str, to: &str) -> Result<BackfillReport> {
        // The asset's own errors first (unknown asset, key form, range).
        self.plan(
            asset,
            &PartitionSelection::Range {
                from: from.to_string(),
                to: to.to_string(),
            },
        )
        .await?;
        self.backfill_selection(
            asset,
            from,
            to,
            &BackfillOptions::new().parallel(1).force(true),
        )
        .await
    }

    /// Backfills `select` (dbt's syntax, as `build` takes it) over `from..=to`: each
    /// selected asset's partitions of the range (see [`BackfillOptions`]), at most
    /// `parallel` at a time; a partition runs once the upstream partitions it maps to are
    /// done, and is skipped when one of them failed. A partition whose latest run
    /// succeeded on the same inputs (code version, versions of the upstream partitions it
    /// reads) is skipped unless `force`. `_phlo.runs` is read once.
    ///
    /// ```no_run
    /// # async fn demo(rt: phlo_runtime::Runtime) -> phlo_runtime::Result<()> {
    /// use phlo_runtime::exec::BackfillOptions;
    /// let report = rt
    ///     .backfill_selection("api_events+", "2025-01-01", "2025-01-31", &BackfillOptions::new().parallel(4))
    ///     .await?;
    /// println!("{:?}", report.counts());
    /// # Ok(()) }
    /// ```
    pub async fn backfill_selection(
        &self,
        select: &str,
        from: &str,
        to: &str,
        options: &BackfillOptions,
    ) -> Result<BackfillReport> {
        let order = self.select(select, options.exclude.as_deref())?;
        let assets: Vec<&Asset> = order
            .iter()
            .filter_map(|n| self.registry.get(n).ok())
            .collect();
        let publications: Vec<crate::registry::Publication> = order
            .iter()
            .filter_map(|n| self.registry.publication(n).copied())
            .collect();
        if assets.is_empty() && !publications.is_empty() {
            let mut partitions = Vec::new();
            for p in publications {
                self.backfill_publication(p, from, to, &mut partitions)
                    .await?;
            }
            return Ok(BackfillReport {
                selection: select.to_string(),
                from: from.to_string(),
                to: to.to_string(),
                partitions,
                runs: Vec::new(),
                cancelled: false,
            });
        }
        if assets.is_empty() {
            return Err(Error::InvalidArgument {
                message: format!(
                    "`{select}` selects no asset to backfill (quality assets run as the audit of their table's writes)"
                ),
            });
        }
        let names: Vec<&str> = assets.iter().map(|a| a.descriptor.name).collect();
        let defs: Vec<(&str, &PartitionsDef)> = assets
            .iter()
            .map(|a| (a.descriptor.name, &a.partitions))
            .collect();
        let keys = backfill_keys(&self.graph, &defs, from, to)?;
        let tasks: Vec<Task> = keys
            .into_iter()
            .enumerate()
            .flat_map(|(asset, ks)| ks.into_iter().map(move |key| Task { asset, key }))
            .collect();
        let deps = task_deps(&self.graph, &names, &tasks).map_err(|e| Error::Graph(Box::new(e)))?;
        let mut schedule = Schedule::new(&deps);
        let mut history = History::new(&super::runs::read_runs(self).await?);
        let code_versions: Vec<String> = names.iter().map(|n| self.code_version(n)).collect();
        let texts: Vec<Option<String>> = tasks
            .iter()
            .map(|t| t.key.as_ref().map(ToString::to_string))
            .collect();

        let mut outcomes: Vec<Option<Outcome>> = vec![None; tasks.len()];
        let mut reports: Vec<Option<RunReport>> = vec![None; tasks.len()];
        // --failed-only: the failed partitions and what waits for them; the rest are left
        // out of the backfill (done, as far as the schedule is concerned).
        let mut considered = vec![true; tasks.len()];
        if options.failed_only {
            let mut wanted = vec![false; tasks.len()];
            for (id, t) in tasks.iter().enumerate() {
                let text = texts[id].as_deref();
                if history.latest_failed(names[t.asset], text)
                    || deps[id]
                        .iter()
                        .any(|&d| wanted.get(d).copied().unwrap_or(false))
                {
                    wanted[id] = true;
                }
            }
            considered = wanted;
        }
        let total = considered.iter().filter(|c| **c).count();
        let mut counts = BackfillCounts::default();
        let notify = |outcome: &PartitionOutcome, counts: &BackfillCounts, running: usize| {
            if let Some(progress) = &options.progress {
                progress(&BackfillProgress {
                    total,
                    counts: *counts,
                    running,
                    last: outcome.clone(),
                });
            }
        };
        let describe = |id: usize| PartitionOutcome {
            asset: names[tasks[id].asset].to_string(),
            partition: texts[id].clone(),
            outcome: Outcome::NotRun,
        };

        let mut running: JoinSet<Finished> = JoinSet::new();
        // An error of the backfill itself (not of a partition): no new partition starts,
        // the running ones finish (never aborted mid-commit), then it is returned.
        let mut fatal: Option<Error> = None;
        loop {
            while running.len() < options.parallel
                && !options.cancel.is_cancelled()
                && fatal.is_none()
            {
                let Some(id) = schedule.pop_ready() else {
                    break;
                };
                if !considered[id] {
                    schedule.succeed(id);
                    continue;
                }
                let asset = names[tasks[id].asset];
                let decided = if options.force {
                    Ok(false)
                } else {
                    history.up_to_date(
                        &self.graph,
                        asset,
                        tasks[id].key.as_ref(),
                        &code_versions[tasks[id].asset],
                    )
                };
                let fresh = match decided {
                    Ok(fresh) => fresh,
                    Err(e) => {
                        fatal = Some(Error::Graph(Box::new(e)));
                        break;
                    }
                };
                if fresh {
                    let outcome = Outcome::Skipped {
                        reason: SkipReason::UpToDate,
                        because: None,
                    };
                    counts.add(&outcome);
                    let mut p = describe(id);
                    p.outcome = outcome.clone();
                    notify(&p, &counts, running.len());
                    outcomes[id] = Some(outcome);
                    schedule.succeed(id);
                    continue;
                }
                let rt = self.clone();
                let selection = match &texts[id] {
                    Some(k) => PartitionSelection::Key(k.clone()),
                    None => PartitionSelection::Unpartitioned,
                };
                let asset = asset.to_string();
                running.spawn(async move { (id, rt.run_partition(&asset, &selection).await) });
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            let (id, result) = match joined {
                Ok(finished) => finished,
                Err(e) => {
                    fatal.get_or_insert_with(|| {
                        phlo_core::Error::internal(format!("a backfill task failed: {e}")).into()
                    });
                    continue;
                }
            };
            let (outcome, report) = match result {
                Ok(report) => (
                    Outcome::Success {
                        run_id: report.run_id.clone(),
                    },
                    Some(report),
                ),
                Err(RunFailure { report, error }) => {
                    let run_id = (!report.run_id.is_empty()).then(|| report.run_id.clone());
                    let recorded = run_id.is_some();
                    (
                        Outcome::Failed {
                            error: error.to_string(),
                            run_id,
                        },
                        recorded.then_some(*report),
                    )
                }
            };
            if let Some(r) = &report {
                history.record(r);
            }
            counts.add(&outcome);
            let mut p = describe(id);
            p.outcome = outcome.clone();
            notify(&p, &counts, running.len());
            let failed = matches!(outcome, Outcome::Failed { .. });
            outcomes[id] = Some(outcome);
            reports[id] = report;
            if failed {
                for (blocked, by) in schedule.fail(id) {
                    let because = match &texts[by] {
                        Some(k) => format!("{} {k}", names[tasks[by].asset]),
                        None => names[tasks[by].asset].to_string(),
                    };
                    let outcome = Outcome::Skipped {
                        reason: SkipReason::UpstreamFailed,
                        because: Some(because),
                    };
                    if considered[blocked] {
                        counts.add(&outcome);
                        let mut p = describe(blocked);
                        p.outcome = outcome.clone();
                        notify(&p, &counts, running.len());
                        outcomes[blocked] = Some(outcome);
                    }
                }
            } else {
                schedule.succeed(id);
            }
        }
        if let Some(e) = fatal {
            return Err(e);
        }
        let cancelled = options.cancel.is_cancelled();
        for id in schedule.unstarted() {
            if considered[id] && outcomes[id].is_none() {
                counts.add(&Outcome::NotRun);
                let p = describe(id);
                notify(&p, &counts, 0);
                outcomes[id] = Some(Outcome::NotRun);
            }
        }
        let mut partitions: Vec<PartitionOutcome> = outcomes
            .into_iter()
            .enumerate()
            .filter_map(|(id, o)| {
                o.map(|outcome| PartitionOutcome {
                    outcome,
                    ..describe(id)
                })
            })
            .collect();
        // Publications of the selection, once their upstream's partitions are done.
        if !cancelled {
            for p in publications {
                self.backfill_publication(p, from, to, &mut partitions)
                    .await?;
            }
        }
        Ok(BackfillReport {
            selection: select.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            partitions,
            runs: reports.into_iter().flatten().collect(),
            cancelled,
        })
    }

    /// A publication's part of a backfill, after the rest: each key of the range (a
    /// per-partition publication) or the whole table once, unless a partition of its
    /// upstream in this backfill failed or was not run (then it is skipped naming it).
    /// An upstream not in the backfill is published as its table stands.
    async fn backfill_publication(
        &self,
        p: crate::registry::Publication,
        from: &str,
        to: &str,
        partitions: &mut Vec<PartitionOutcome>,
    ) -> Result<()> {
        let upstream = self.registry.get(p.from)?;
        let keys: Vec<Option<String>> = if p.per_partition {
            let (a, b) = (
                upstream.partitions.parse_key(from)?,
                upstream.partitions.parse_key(to)?,
            );
            upstream
                .partitions
                .keys_between(&a, &b)?
                .iter()
                .map(|k| Some(k.to_string()))
                .collect()
        } else {
            vec![None]
        };
        for key in keys {
            let blocked = partitions
                .iter()
                .find(|o| {
                    o.asset == p.from
                        && (key.is_none() || o.partition == key)
                        && !matches!(
                            o.outcome,
                            Outcome::Success { .. }
                                | Outcome::Skipped {
                                    reason: SkipReason::UpToDate,
                                    ..
                                }
                        )
                })
                .map(|o| match &o.partition {
                    Some(k) => format!("{} {k}", o.asset),
                    None => o.asset.clone(),
                });
            let outcome = match blocked {
                Some(because) => Outcome::Skipped {
                    reason: SkipReason::UpstreamFailed,
                    because: Some(because),
                },
                None => match self.publish(p.name, key.as_deref()).await {
                    Ok(receipt) => Outcome::Success {
                        run_id: receipt.run_id,
                    },
                    Err(e) => Outcome::Failed {
                        error: e.to_string(),
                        run_id: None,
                    },
                },
            };
            partitions.push(PartitionOutcome {
                asset: p.name.to_string(),
                partition: key,
                outcome,
            });
        }
        Ok(())
    }

    /// One partition of a backfill, planned against the table as it is when it starts
    /// (so an incremental model sees the table its earlier partitions created).
    async fn run_partition(
        &self,
        asset: &str,
        selection: &PartitionSelection,
    ) -> std::result::Result<RunReport, RunFailure> {
        let plan = match self.plan(asset, selection).await {
            Ok(plan) => plan,
            Err(error) => return Err(self.unplanned(asset, selection, error)),
        };
        match plan.steps.first() {
            Some(step) => self.run_step(step).await,
            None => Err(self.unplanned(
                asset,
                selection,
                phlo_core::Error::internal("a one-key plan has no step").into(),
            )),
        }
    }

    /// The failure of a partition that could not be planned: no run, no record.
    fn unplanned(&self, asset: &str, selection: &PartitionSelection, error: Error) -> RunFailure {
        let partition = match selection {
            PartitionSelection::Key(k) => Some(k.clone()),
            _ => None,
        };
        let table = self
            .registry
            .get(asset)
            .map(|a| a.table.to_string())
            .unwrap_or_default();
        let mut report = RunReport::new(asset, &table, partition, "", self.clock.now());
        report.error = Some(error.to_string());
        RunFailure {
            report: Box::new(report),
            error,
        }
    }
}

#[cfg(test)]
mod tests;
