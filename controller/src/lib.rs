//! maestro: orchestrates Docker containers across many Docker hosts ("ships")
//! from one environment file.
//!
//! Data flows one way: `config` (file -> typed environment), `plan`
//! (selection and dependency order), `docker` (the Engine API client),
//! `scheduler` and `tasks` (running the steps), `events` (what the core
//! reports while it works), `render` (turning events into output). The core
//! never prints; only `commands` and `render` write to the terminal.
//! Outside tests, no core module imports from `commands` or `render`;
//! helpers several layers share (`text`, `graph`, `labels`) sit apart from
//! all of them.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod docker;
pub mod events;
pub mod exit;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod graph;
pub mod heap;
pub mod labels;
pub mod lifecycle;
pub mod lock;
pub mod plan;
pub mod registry_auth;
pub mod render;
pub mod scheduler;
pub mod tasks;
pub mod text;
