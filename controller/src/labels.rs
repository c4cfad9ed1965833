//! The labels maestro puts on every container it creates: the contract
//! between the create request (`tasks::container_spec`), observation
//! (`plan::observe`) and restart's `--only-if-changed`. A container without
//! them was not created by maestro (e.g. by MaestroNG) and is still matched
//! by its name.

/// The environment's `name`.
pub const ENVIRONMENT: &str = "maestro.environment";
/// The service the instance belongs to.
pub const SERVICE: &str = "maestro.service";
/// The instance's name (also the container's name).
pub const INSTANCE: &str = "maestro.instance";
/// The configuration hash (`config::hash`): differs from the file's when
/// the container must be recreated.
pub const CONFIG_HASH: &str = "maestro.config-hash";
