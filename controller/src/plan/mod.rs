//! Planning: which instances a command works on (`selection`), what the
//! ships hold now (`observe`), what each instance needs and why (`plan`),
//! (the dependency graph itself is `crate::graph`).

pub mod compare;
pub mod deploy;
pub mod fnmatch;
pub mod observe;
pub mod restart;
pub mod selection;
pub mod steps;
pub mod up;

pub use observe::{Observed, Seen, observe};
pub use selection::{Request, SelectError, Selection, Verb, select};
pub use steps::{Action, Plan, PlanOptions, Step, plan};
