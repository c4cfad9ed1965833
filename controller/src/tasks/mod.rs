//! The work the scheduler runs for each instance: the start, stop, kill
//! and clean steps (`step`), the restart task built from them
//! (`restart`), the pull task (`pull`), and the create request of a
//! container (`container_spec`, pure).

pub mod container_spec;
pub mod pull;
pub mod restart;
pub mod step;
pub mod up;
