//! Running the plan: the scheduler (a dependency graph of blocking tasks
//! under a global and a per-ship limit), its cancellation token, the
//! container create request (`container_spec`) and the tasks of start,
//! stop, kill and clean (`tasks`).

pub mod cancel;
pub mod container_spec;
pub mod pull;
pub mod restart;
pub mod scheduler;
pub mod tasks;

pub use cancel::CancelToken;
pub use scheduler::{
    Completion, DEFAULT_PER_SHIP, Direction, GraphError, Limits, Node, NodeReport, Outcome, Play,
    Report, TaskContext, TaskFailure, TaskResult, run,
};
