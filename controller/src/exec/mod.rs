//! Running the plan: the scheduler (a dependency graph of blocking tasks
//! under a global and a per-ship limit) and its cancellation token. The
//! tasks themselves (start, stop, checks...) will live beside it.

pub mod cancel;
pub mod pull;
pub mod scheduler;

pub use cancel::CancelToken;
pub use scheduler::{
    Completion, DEFAULT_PER_SHIP, Direction, GraphError, Limits, Node, NodeReport, Outcome, Play,
    Report, TaskContext, TaskFailure, TaskResult, run,
};
