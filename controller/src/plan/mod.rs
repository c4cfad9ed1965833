//! Planning: the dependency graph between services, the order of work, and
//! the `deptree` view. (Selection of "things" and the task plan build on it.)

pub mod deptree;
pub mod graph;
