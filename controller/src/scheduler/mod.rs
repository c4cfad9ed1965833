//! Runs a dependency graph of blocking tasks with per-node gating, a global
//! and a per-ship concurrency limit, fail-fast aborts and cancellation.
//!
//! Shape (see `docs/architecture.md`): a pool of worker threads inside
//! `std::thread::scope` takes jobs from one channel; the calling thread is
//! the coordinator and alone owns the bookkeeping (remaining prerequisites,
//! in-flight counts per ship). When a task finishes, each node whose last
//! prerequisite it was becomes ready at once: gating is per node, never
//! level by level. The coordinator only hands out a job when the global and
//! the ship's limit allow it, so both limits hold at every moment, and a
//! node of a saturated ship is passed over, not waited on.
//!
//! Early work: a task may carry a first part that needs none of its
//! prerequisites (`start` creates a container before its dependencies have
//! passed their checks; only the start waits for them). The early part is
//! ready from the beginning, dispatched by the same rank and limits as any
//! work, and the main part becomes ready once both the early part and every
//! prerequisite are done. An early part that fails is the task's failure.
//!
//! Events: the scheduler emits `Play` first, `Failed`/`Aborted` for the rows
//! it decides, and `Summary` last. A task emits its own progress and its
//! success word (`started`, `stopped`, `up for 3m`...) through
//! [`TaskContext::emit`]; it reports failure by returning `Err`, and the
//! scheduler shows it.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};

pub mod cancel;

use crate::events::{AbortReason, Event, EventSink, Failure, InstanceEvent, Row, State, Summary};
pub use cancel::CancelToken;

/// The per-ship limit when the ship sets none.
pub const DEFAULT_PER_SHIP: usize = 8;

/// What a task returns.
pub type TaskResult = Result<Completion, TaskFailure>;

/// How a task that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// It did its work, or found nothing to do.
    Done,
    /// It found its instance as it should be and left it (e.g. `restart
    /// --only-if-changed` of an up-to-date container). Counted as done.
    Unchanged,
    /// It deliberately left its instance alone (e.g. `clean` of a running
    /// container). Counts as finished for the tasks that wait on it.
    Skipped,
}

/// A task's failure. `fatal` failures (start, pull, clean) abort the rest
/// of the play; non-fatal ones (stop, kill) are reported and the play goes
/// on, their dependents included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    pub message: String,
    pub fatal: bool,
}

impl TaskFailure {
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fatal: true,
        }
    }

    pub fn non_fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fatal: false,
        }
    }
}

/// A task's prerequisites. Shared, not copied, by the tasks that wait for
/// the same instances (every instance of a service): the scheduler joins
/// such tasks to their prerequisites through one barrier, so a group of n
/// waiting on a group of m costs n + m edges, not n × m.
pub type Deps = Arc<[String]>;

/// The work of one node: blocking, run once on a worker thread.
pub type Work<'a> = Box<dyn FnOnce(&TaskContext<'_>) -> TaskResult + Send + 'a>;

/// One task of the graph: usually one instance's part of a command.
pub struct Task<'a> {
    /// Unique in the play; the instance name.
    pub id: String,
    pub service: String,
    /// The key of the per-ship limit.
    pub ship: String,
    /// Ids of the nodes this one depends on (in forward terms: for a
    /// reverse play the scheduler turns the edges around itself). Tasks
    /// that hold the same `Arc` share one barrier (see [`Deps`]).
    pub deps: Deps,
    pub work: Work<'a>,
    /// Work that may run before the prerequisites are done (see the module
    /// doc); `work` runs after it, on success.
    pub early: Option<Work<'a>>,
}

impl<'a> Task<'a> {
    pub fn new(
        id: impl Into<String>,
        service: impl Into<String>,
        ship: impl Into<String>,
        deps: impl IntoIterator<Item = impl Into<String>>,
        work: impl FnOnce(&TaskContext<'_>) -> TaskResult + Send + 'a,
    ) -> Self {
        Self {
            id: id.into(),
            service: service.into(),
            ship: ship.into(),
            deps: deps
                .into_iter()
                .map(Into::into)
                .collect::<Vec<String>>()
                .into(),
            work: Box::new(work),
            early: None,
        }
    }

    /// Replaces the task's prerequisites with a list shared with other
    /// tasks (see [`Deps`]).
    pub fn with_deps(mut self, deps: Deps) -> Self {
        self.deps = deps;
        self
    }

    /// Gives the task an early part: `early` runs as soon as a slot allows,
    /// without waiting for the task's prerequisites; the task's work runs
    /// after both. An `Err` from `early` fails the task (its work never runs).
    pub fn with_early(
        mut self,
        early: impl FnOnce(&TaskContext<'_>) -> TaskResult + Send + 'a,
    ) -> Self {
        self.early = Some(Box::new(early));
        self
    }
}

impl fmt::Debug for Task<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("ship", &self.ship)
            .field("deps", &self.deps)
            .field("early", &self.early.is_some())
            .finish_non_exhaustive()
    }
}

/// What a running task can see: who it is, where to report, whether to stop.
pub struct TaskContext<'s> {
    pub id: &'s str,
    pub service: &'s str,
    pub ship: &'s str,
    /// Poll it (or `cancel.sleep(d)` between attempts) during long waits.
    pub cancel: &'s CancelToken,
    sink: &'s dyn EventSink,
}

impl TaskContext<'_> {
    /// Reports a state of this task's instance.
    pub fn emit(&self, state: State) {
        self.emit_event(None, state);
    }

    /// Reports a state together with the container (`tag:shortid`).
    pub fn emit_with_container(&self, container: impl Into<String>, state: State) {
        self.emit_event(Some(container.into()), state);
    }

    /// Reports a message about this task that is not a state (a warning).
    pub fn emit_note(&self, message: impl Into<String>) {
        self.sink.emit(Event::Note {
            message: message.into(),
        });
    }

    fn emit_event(&self, container: Option<String>, state: State) {
        self.sink.emit(Event::Instance(InstanceEvent {
            instance: self.id.to_owned(),
            service: self.service.to_owned(),
            ship: self.ship.to_owned(),
            container,
            state,
        }));
    }
}

/// Order of a play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Dependencies first: start, pull, clean.
    Forward,
    /// Dependents first (edges reversed): stop, kill.
    Reverse,
}

/// Concurrency limits. Both hold at every moment of the play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concurrency {
    /// At most this many tasks in flight; 0 means unlimited (`-c 0`).
    pub global: usize,
    /// At most this many tasks in flight per ship, unless `per_ship` names
    /// the ship; 0 means unlimited.
    pub per_ship_default: usize,
    pub per_ship: HashMap<String, usize>,
}

impl Default for Concurrency {
    fn default() -> Self {
        Self {
            global: 0,
            per_ship_default: DEFAULT_PER_SHIP,
            per_ship: HashMap::new(),
        }
    }
}

impl Concurrency {
    /// `-c` (0 = unlimited) and each ship's `max_concurrency`, by ship name.
    pub fn new<'s>(global: usize, ships: impl IntoIterator<Item = (&'s str, usize)>) -> Self {
        Self {
            global,
            per_ship_default: DEFAULT_PER_SHIP,
            per_ship: ships
                .into_iter()
                .map(|(name, limit)| (name.to_owned(), limit))
                .collect(),
        }
    }

    fn for_ship(&self, ship: &str) -> usize {
        let limit = self
            .per_ship
            .get(ship)
            .copied()
            .unwrap_or(self.per_ship_default);
        if limit == 0 { usize::MAX } else { limit }
    }
}

/// A play: the command's name (for the events), its order and its limits.
#[derive(Debug)]
pub struct Play<'a> {
    pub command: String,
    pub direction: Direction,
    pub limits: Concurrency,
    pub nodes: Vec<Task<'a>>,
}

/// How one node ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Done without a change ([`Completion::Unchanged`]).
    Unchanged,
    Skipped,
    Failed {
        message: String,
        fatal: bool,
    },
    Aborted(AbortReason),
}

/// One row of the report, in row order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeReport {
    pub id: String,
    pub ship: String,
    /// 1-based position in dependency order (see [`Row::number`]).
    pub number: usize,
    pub outcome: Outcome,
    /// When the task started and finished, from the start of the play;
    /// `None` for tasks never attempted. For "where the time goes".
    pub started: Option<Duration>,
    pub finished: Option<Duration>,
}

/// What `run` returns: every node's outcome and the summary (also emitted
/// as the last event).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub nodes: Vec<NodeReport>,
    pub summary: Summary,
}

impl Report {
    pub fn node(&self, id: &str) -> Option<&NodeReport> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// A graph the scheduler cannot run. The planner is expected to have
/// caught these with better context; the scheduler still refuses rather
/// than hang or panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    DuplicateId(String),
    UnknownDependency {
        id: String,
        dep: String,
    },
    /// The ids along one cycle, first repeated last: `a -> b -> a`.
    Cycle(Vec<String>),
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::DuplicateId(id) => write!(f, "task {id} is defined twice"),
            GraphError::UnknownDependency { id, dep } => {
                write!(f, "task {id} depends on {dep}, which is not in this play")
            }
            GraphError::Cycle(path) => write!(f, "dependency cycle: {}", path.join(" -> ")),
        }
    }
}

impl std::error::Error for GraphError {}

/// The static shape of a play, computed before anything runs.
///
/// Nodes `0..real` are the tasks, in input order; the nodes after them are
/// barriers: one per prerequisite list shared by several tasks, waiting on
/// the list's tasks and waited on by the tasks that share it. A barrier has
/// no work, no row and no outcome: it passes the moment its last
/// prerequisite does, exactly as those tasks would have been released one
/// by one.
struct Shape {
    /// How many nodes are tasks (the rest are barriers).
    real: usize,
    /// For each node (input index, then barriers): the nodes that wait on
    /// it in this play's direction.
    waiters: Vec<Vec<usize>>,
    /// For each node: how many nodes it waits on in this play's direction.
    prereqs: Vec<usize>,
    /// Task indices in row order (the order shown and preferred to run).
    rows: Vec<usize>,
    /// For each task: its 1-based number in forward dependency order.
    numbers: Vec<usize>,
    /// For each task: its position in `rows` (the dispatch priority).
    rank: Vec<usize>,
    /// For each task: the index of its ship in `ship_limits`.
    ship_of: Vec<usize>,
    ship_limits: Vec<usize>,
}

impl Shape {
    fn build(
        nodes: &[Task<'_>],
        direction: Direction,
        limits: &Concurrency,
    ) -> Result<Self, GraphError> {
        let n = nodes.len();
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
        for (i, node) in nodes.iter().enumerate() {
            if index.insert(node.id.as_str(), i).is_some() {
                return Err(GraphError::DuplicateId(node.id.clone()));
            }
        }
        // How many tasks hold each list (by address): a list held by more
        // than one gets a barrier.
        let key = |d: &Deps| d.as_ptr() as usize;
        let mut holders: HashMap<usize, usize> = HashMap::new();
        for node in nodes.iter().filter(|node| !node.deps.is_empty()) {
            *holders.entry(key(&node.deps)).or_default() += 1;
        }
        // deps[i]: forward prerequisites of node i, deduplicated (a task
        // with a shared list has its barrier as its only one).
        let mut deps: Vec<Vec<usize>> = Vec::with_capacity(n);
        let mut barriers: Vec<Vec<usize>> = Vec::new();
        let mut barrier_of: HashMap<usize, usize> = HashMap::new();
        // Deduplicates a list in O(its length): the last list each task
        // was seen in.
        let mut seen: Vec<usize> = vec![usize::MAX; n];
        let mut lists = 0usize;
        let mut resolve = |node: &Task<'_>| -> Result<Vec<usize>, GraphError> {
            lists += 1;
            let mut d: Vec<usize> = Vec::with_capacity(node.deps.len());
            for dep in node.deps.iter() {
                let j = *index
                    .get(dep.as_str())
                    .ok_or_else(|| GraphError::UnknownDependency {
                        id: node.id.clone(),
                        dep: dep.clone(),
                    })?;
                if seen[j] != lists {
                    seen[j] = lists;
                    d.push(j);
                }
            }
            Ok(d)
        };
        for node in nodes {
            let k = key(&node.deps);
            if node.deps.is_empty() || holders.get(&k).copied().unwrap_or(0) < 2 {
                deps.push(resolve(node)?);
                continue;
            }
            let b = match barrier_of.get(&k) {
                Some(&b) => b,
                None => {
                    barriers.push(resolve(node)?);
                    let b = n + barriers.len() - 1;
                    barrier_of.insert(k, b);
                    b
                }
            };
            deps.push(vec![b]);
        }
        deps.extend(barriers);
        let total = deps.len();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); total];
        for (i, d) in deps.iter().enumerate() {
            for &j in d {
                dependents[j].push(i);
            }
        }

        let forward = forward_order(n, &deps, &dependents).map_err(|cycle| {
            GraphError::Cycle(cycle.into_iter().map(|i| nodes[i].id.clone()).collect())
        })?;
        let mut numbers = vec![0; n];
        for (pos, &i) in forward.iter().enumerate() {
            numbers[i] = pos + 1;
        }

        let (waiters, prereqs, rows) = match direction {
            Direction::Forward => {
                let prereqs = deps.iter().map(Vec::len).collect();
                (dependents, prereqs, forward)
            }
            Direction::Reverse => {
                let prereqs = dependents.iter().map(Vec::len).collect();
                (deps, prereqs, forward.into_iter().rev().collect())
            }
        };
        let mut rank = vec![0; n];
        for (pos, &i) in rows.iter().enumerate() {
            rank[i] = pos;
        }

        let mut ship_index: HashMap<&str, usize> = HashMap::new();
        let mut ship_limits = Vec::new();
        let ship_of = nodes
            .iter()
            .map(|node| {
                *ship_index.entry(node.ship.as_str()).or_insert_with(|| {
                    ship_limits.push(limits.for_ship(&node.ship));
                    ship_limits.len() - 1
                })
            })
            .collect();

        Ok(Self {
            real: n,
            waiters,
            prereqs,
            rows,
            numbers,
            rank,
            ship_of,
            ship_limits,
        })
    }

    fn is_barrier(&self, i: usize) -> bool {
        i >= self.real
    }

    /// How many workers can ever be busy at once: the global limit, or the
    /// sum over ships of what each ship allows of its own nodes.
    fn pool_size(&self, global: usize) -> usize {
        let mut per_ship = vec![0usize; self.ship_limits.len()];
        for &s in &self.ship_of {
            per_ship[s] += 1;
        }
        let possible: usize = per_ship
            .iter()
            .zip(&self.ship_limits)
            .map(|(&count, &limit)| count.min(limit))
            .sum();
        if global == 0 {
            possible
        } else {
            possible.min(global)
        }
    }
}

/// The tasks (`0..real`) in forward dependency order, ties by index:
/// Kahn's algorithm, where a barrier passes the moment its last
/// prerequisite is placed, so the order is the one of the same graph with
/// every barrier replaced by direct edges. `Err` holds one cycle through
/// tasks only, first repeated last.
fn forward_order(
    real: usize,
    deps: &[Vec<usize>],
    dependents: &[Vec<usize>],
) -> Result<Vec<usize>, Vec<usize>> {
    let mut remaining: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<usize> = (0..real).filter(|&i| remaining[i] == 0).collect();
    let mut order = Vec::with_capacity(real);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        let mut released = vec![i];
        while let Some(j) = released.pop() {
            for &w in &dependents[j] {
                remaining[w] -= 1;
                if remaining[w] == 0 {
                    if w >= real {
                        released.push(w);
                    } else {
                        ready.insert(w);
                    }
                }
            }
        }
    }
    if order.len() == real {
        return Ok(order);
    }
    let cycle = crate::graph::topo_order(deps).err().unwrap_or_default();
    let mut tasks: Vec<usize> = cycle.into_iter().filter(|&i| i < real).collect();
    if let Some(&first) = tasks.first()
        && tasks.last() != Some(&first)
    {
        tasks.push(first);
    }
    Err(tasks)
}

/// A job for a worker, and what it sends back.
struct Job<'a> {
    index: usize,
    work: Work<'a>,
    /// The task's early part (see [`Task::with_early`]).
    early: bool,
}

struct Finished {
    index: usize,
    result: TaskResult,
    early: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    /// The early part runs.
    Early,
    /// The early part is done; the work waits for its prerequisites.
    Prepared,
    Running,
    Finished,
}

/// Runs the play to the end and returns every node's outcome. Blocks the
/// calling thread, which acts as coordinator; tasks run on a scoped pool.
///
/// ```
/// use maestro::events::{Recorder, State};
/// use maestro::scheduler::{run, CancelToken, Completion, Direction, Concurrency, Task, Play};
///
/// let zk = Task::new("zk-1", "zookeeper", "ship1", Vec::<String>::new(), |ctx| {
///     ctx.emit(State::Starting);
///     ctx.emit(State::Started);
///     Ok(Completion::Done)
/// });
/// let kafka = Task::new("kafka-1", "kafka", "ship2", ["zk-1"], |ctx| {
///     ctx.emit(State::Started);
///     Ok(Completion::Done)
/// });
/// let play = Play {
///     command: "start".into(),
///     direction: Direction::Forward,
///     limits: Concurrency::default(),
///     nodes: vec![kafka, zk],
/// };
/// let events = Recorder::new();
/// let report = run(play, &events, &CancelToken::new()).unwrap();
/// assert_eq!(report.summary.exit_code(), 0);
/// assert_eq!(report.nodes[0].id, "zk-1"); // rows in dependency order
/// ```
pub fn run(
    play: Play<'_>,
    sink: &dyn EventSink,
    cancel: &CancelToken,
) -> Result<Report, GraphError> {
    let Play {
        command,
        direction,
        limits,
        nodes,
    } = play;
    let shape = Shape::build(&nodes, direction, &limits)?;
    let started_at = Instant::now();
    sink.emit(Event::Play {
        command: command.clone(),
        total: nodes.len(),
        rows: shape
            .rows
            .iter()
            .map(|&i| Row {
                number: shape.numbers[i],
                instance: nodes[i].id.clone(),
                service: nodes[i].service.clone(),
                ship: nodes[i].ship.clone(),
            })
            .collect(),
    });
    let labels: Vec<Labels> = nodes
        .iter()
        .map(|node| (node.id.clone(), node.service.clone(), node.ship.clone()))
        .collect();
    let emit = Emitter {
        labels: &labels,
        cancel,
        sink,
    };
    let (works, early) = nodes
        .into_iter()
        .map(|node| (Some(node.work), node.early))
        .unzip();
    let mut coordinator = Coordinator::new(&shape, &limits, works, early, started_at);

    let (job_tx, job_rx) = crossbeam_channel::unbounded::<Job<'_>>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Finished>();
    std::thread::scope(|scope| {
        let pool = shape.pool_size(limits.global).max(1);
        for _ in 0..pool.min(labels.len()) {
            let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
            scope.spawn(move || work_jobs(&job_rx, &done_tx, emit));
        }
        drop(done_tx);
        // The coordinator closes the job channel as soon as nothing more
        // will be handed out, which ends the workers' loops; the scope
        // joins them.
        coordinator.coordinate(job_tx, &done_rx, emit);
    });
    let report = coordinator.report(command, emit);
    sink.emit(Event::Summary(report.summary.clone()));
    Ok(report)
}

/// A node's id, service and ship, as its events name them.
type Labels = (String, String, String);

/// Emits a node's events, from a worker (the task's own) or from the
/// coordinator (the rows it decides: failed, aborted), the same way.
#[derive(Clone, Copy)]
struct Emitter<'a> {
    labels: &'a [Labels],
    cancel: &'a CancelToken,
    sink: &'a dyn EventSink,
}

impl Emitter<'_> {
    fn context(&self, i: usize) -> TaskContext<'_> {
        let (id, service, ship) = &self.labels[i];
        TaskContext {
            id,
            service,
            ship,
            cancel: self.cancel,
            sink: self.sink,
        }
    }

    fn emit(&self, i: usize, state: State) {
        self.context(i).emit(state);
    }
}

/// A worker: runs jobs until the coordinator closes the channel. A
/// panicking task is a failed task, not a torn-down play.
fn work_jobs(jobs: &Receiver<Job<'_>>, done: &Sender<Finished>, emit: Emitter<'_>) {
    for job in jobs {
        let ctx = emit.context(job.index);
        let work = job.work;
        let result = catch_unwind(AssertUnwindSafe(|| work(&ctx))).unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_owned());
            Err(TaskFailure::fatal(format!(
                "internal error: task panicked: {what}"
            )))
        });
        let finished = Finished {
            index: job.index,
            result,
            early: job.early,
        };
        if done.send(finished).is_err() {
            break;
        }
    }
}

/// The bookkeeping of a play, owned by the coordinating thread alone.
struct Coordinator<'s, 'w> {
    shape: &'s Shape,
    works: Vec<Option<Work<'w>>>,
    /// Early parts not yet handed out.
    early: Vec<Option<Work<'w>>>,
    status: Vec<Status>,
    outcomes: Vec<Option<Outcome>>,
    /// When each node started and finished, since `started_at`.
    times: Vec<(Option<Duration>, Option<Duration>)>,
    started_at: Instant,
    /// Per node: prerequisites not yet finished.
    remaining: Vec<usize>,
    /// Ready nodes per ship, by rank, so earlier rows are preferred. One
    /// queue per ship: a saturated ship is skipped in O(1), not node by node.
    ready: Vec<BTreeSet<(usize, usize)>>,
    in_flight: usize,
    in_flight_ship: Vec<usize>,
    /// Parts (early parts and works) not yet handed out.
    undispatched: usize,
    global_limit: usize,
    /// Why nothing more starts, once that is so.
    halted: Option<AbortReason>,
    interrupted: bool,
}

impl<'s, 'w> Coordinator<'s, 'w> {
    fn new(
        shape: &'s Shape,
        limits: &Concurrency,
        works: Vec<Option<Work<'w>>>,
        early: Vec<Option<Work<'w>>>,
        started_at: Instant,
    ) -> Self {
        let n = works.len();
        let undispatched = works.iter().filter(|w| w.is_some()).count()
            + early.iter().filter(|e| e.is_some()).count();
        let remaining = shape.prereqs.clone();
        let mut ready = vec![BTreeSet::new(); shape.ship_limits.len()];
        // An early part is ready at once, whatever the prerequisites.
        for i in (0..shape.real).filter(|&i| remaining[i] == 0 || early[i].is_some()) {
            ready[shape.ship_of[i]].insert((shape.rank[i], i));
        }
        Coordinator {
            shape,
            works,
            early,
            status: vec![Status::Pending; n],
            outcomes: vec![None; n],
            times: vec![(None, None); n],
            started_at,
            remaining,
            ready,
            in_flight: 0,
            in_flight_ship: vec![0; shape.ship_limits.len()],
            undispatched,
            global_limit: if limits.global == 0 {
                usize::MAX
            } else {
                limits.global
            },
            halted: None,
            interrupted: false,
        }
    }

    /// Hands out work and takes in results until nothing runs and nothing
    /// more may start: all is finished, or the play halted.
    ///
    /// The job channel is closed (`jobs` dropped) the moment nothing more
    /// will be handed out: every part is out, or the play halted. Idle
    /// workers then exit at once and busy ones after their job, while the
    /// last tasks run, instead of all together after the play, which for
    /// hundreds of workers on a loaded machine is tens of milliseconds at
    /// the end of every play.
    fn coordinate(&mut self, jobs: Sender<Job<'w>>, done: &Receiver<Finished>, emit: Emitter<'_>) {
        let mut jobs = Some(jobs);
        loop {
            if emit.cancel.is_cancelled() && !self.interrupted {
                self.interrupted = true;
                self.halted.get_or_insert(AbortReason::Interrupted);
            }
            if self.halted.is_none()
                && let Some(jobs) = &jobs
            {
                self.dispatch(jobs);
            }
            if self.halted.is_some() || self.undispatched == 0 {
                jobs = None;
            }
            if self.in_flight == 0 {
                break;
            }
            let finished = if self.interrupted {
                done.recv().ok()
            } else {
                select! {
                    recv(done) -> msg => msg.ok(),
                    recv(emit.cancel.receiver()) -> _ => continue,
                }
            };
            let Some(finished) = finished else {
                break;
            };
            self.finish(finished, emit);
        }
    }

    /// Hands out ready nodes while the global limit allows: each time the
    /// lowest-ranked one among ships that have room. A saturated ship's
    /// nodes stay ready; other ships go ahead.
    fn dispatch(&mut self, jobs: &Sender<Job<'w>>) {
        while self.in_flight < self.global_limit {
            let next = self
                .ready
                .iter()
                .enumerate()
                .filter(|&(s, _)| self.in_flight_ship[s] < self.shape.ship_limits[s])
                .filter_map(|(s, queue)| queue.first().map(|&(rank, i)| (rank, s, i)))
                .min();
            let Some((_, s, i)) = next else {
                break;
            };
            self.ready[s].pop_first();
            // A node is queued for its early part first, if it has one,
            // and again for its work once that is done.
            let (work, early) = match self.early[i].take() {
                Some(work) => (work, true),
                None => match self.works[i].take() {
                    Some(work) => (work, false),
                    None => continue,
                },
            };
            self.in_flight += 1;
            self.in_flight_ship[s] += 1;
            self.undispatched -= 1;
            self.status[i] = if early {
                Status::Early
            } else {
                Status::Running
            };
            self.times[i]
                .0
                .get_or_insert_with(|| self.started_at.elapsed());
            // Workers outlive the coordinator's sends: cannot fail.
            let _ = jobs.send(Job {
                index: i,
                work,
                early,
            });
        }
    }

    /// Records a finished task; a success or a non-fatal failure releases
    /// the nodes waiting on it, a fatal failure halts the play.
    fn finish(&mut self, finished: Finished, emit: Emitter<'_>) {
        let Finished {
            index: i,
            result,
            early,
        } = finished;
        self.in_flight -= 1;
        self.in_flight_ship[self.shape.ship_of[i]] -= 1;
        if early && result.is_ok() {
            // The work waits for whatever prerequisites are left.
            self.status[i] = Status::Prepared;
            if self.remaining[i] == 0 {
                self.ready[self.shape.ship_of[i]].insert((self.shape.rank[i], i));
            }
            return;
        }
        self.status[i] = Status::Finished;
        self.times[i].1 = Some(self.started_at.elapsed());
        let (outcome, releases_waiters) = match result {
            Ok(Completion::Done) => (Outcome::Done, true),
            Ok(Completion::Unchanged) => (Outcome::Unchanged, true),
            Ok(Completion::Skipped) => (Outcome::Skipped, true),
            Err(TaskFailure { message, fatal }) => {
                emit.emit(
                    i,
                    State::Failed {
                        message: message.clone(),
                    },
                );
                // After Ctrl-C the rest is aborted because of the
                // interruption, even when a task's failure (often the
                // interruption itself) reaches here first.
                if fatal && emit.cancel.is_cancelled() {
                    self.halted.get_or_insert(AbortReason::Interrupted);
                } else if fatal {
                    self.halted.get_or_insert(AbortReason::Failed {
                        id: emit.labels[i].0.clone(),
                    });
                }
                // A non-fatal failure (stop, kill) does not hold up the
                // rest of the play.
                (Outcome::Failed { message, fatal }, !fatal)
            }
        };
        self.outcomes[i] = Some(outcome);
        if releases_waiters {
            self.release(i);
        }
    }

    /// Node `i` is finished (or, a barrier, passed): one prerequisite less
    /// for each node waiting on it. A barrier whose last prerequisite this
    /// was passes at once and releases its own waiters (always tasks).
    fn release(&mut self, i: usize) {
        let shape = self.shape;
        for &w in &shape.waiters[i] {
            self.remaining[w] -= 1;
            if self.remaining[w] != 0 {
                continue;
            }
            if shape.is_barrier(w) {
                self.release(w);
                continue;
            }
            // A node with an early part still queued or running is
            // queued for its work when that part is done.
            let queued_later = self.early[w].is_some() || self.status[w] == Status::Early;
            if !queued_later {
                self.ready[shape.ship_of[w]].insert((shape.rank[w], w));
            }
        }
    }

    /// Every node's outcome in row order (what never started is aborted,
    /// and says so), and the summary.
    fn report(mut self, command: String, emit: Emitter<'_>) -> Report {
        let reason = self.halted.take().unwrap_or(AbortReason::Interrupted);
        for &i in &self.shape.rows {
            if matches!(self.status[i], Status::Pending | Status::Prepared) {
                emit.emit(
                    i,
                    State::Aborted {
                        reason: reason.clone(),
                    },
                );
                self.outcomes[i] = Some(Outcome::Aborted(reason.clone()));
            }
        }
        let mut summary = Summary {
            command,
            total: self.status.len(),
            done: 0,
            skipped: 0,
            failed: 0,
            aborted: 0,
            elapsed: self.started_at.elapsed(),
            interrupted: self.interrupted,
            failures: Vec::new(),
            not_attempted: Vec::new(),
        };
        let mut nodes = Vec::with_capacity(self.status.len());
        for &i in &self.shape.rows {
            let outcome = self.outcomes[i]
                .take()
                .unwrap_or(Outcome::Aborted(reason.clone()));
            let (id, _, ship) = &emit.labels[i];
            match &outcome {
                Outcome::Done | Outcome::Unchanged => summary.done += 1,
                Outcome::Skipped => summary.skipped += 1,
                Outcome::Failed { message, fatal } => {
                    summary.failed += 1;
                    summary.failures.push(Failure {
                        id: id.clone(),
                        message: message.clone(),
                        fatal: *fatal,
                    });
                }
                Outcome::Aborted(_) => {
                    summary.aborted += 1;
                    summary.not_attempted.push(id.clone());
                }
            }
            nodes.push(NodeReport {
                id: id.clone(),
                ship: ship.clone(),
                number: self.shape.numbers[i],
                outcome,
                started: self.times[i].0,
                finished: self.times[i].1,
            });
        }
        Report { nodes, summary }
    }
}

#[cfg(test)]
mod tests;
