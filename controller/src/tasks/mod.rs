//! The work the scheduler runs for each instance: the start, stop, kill
//! and clean steps (`step`), the restart task built from them
//! (`restart`), the pull task (`pull`), the create request of a
//! container (`container_spec`, pure), and the networks and volumes it
//! needs (`resources`).

pub mod container_spec;
pub mod pull;
pub mod resources;
pub mod restart;
pub mod step;
pub mod up;
