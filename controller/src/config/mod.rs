//! The environment file: template rendering, YAML parsing and validation into
//! a typed `Environment`. Pure: no I/O beyond reading files.

pub mod error;
pub mod ship;
pub mod suggest;
pub mod yaml;
