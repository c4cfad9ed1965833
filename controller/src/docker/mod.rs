//! The Docker Engine API client.
//!
//! - `transport`: one ureq agent per ship over unix, TCP, TLS or SSH.
//! - `ssh`: the shared `ssh -N -L` forwarder.
//! - `client`: typed calls (`Docker`), API version negotiated once per ship.
//! - `query`: query strings, filters, path segments, image references.
//! - `models`: bollard-stubs request bodies, lenient response structs.
//! - `stream`: log/exec frame demultiplexing, pull progress, events.
//! - `error`: errors that name the ship, its endpoint and what to check.
//! - `survey`: contacts every ship at once (`maestro ships`).

pub mod auth;
pub mod client;
pub mod error;
pub mod models;
pub mod query;
pub mod ssh;
pub mod stream;
pub mod survey;
pub mod transport;
pub mod version;

pub use auth::RegistryAuth;
pub use client::{Docker, LogOptions, OutputStream};
pub use error::{Error, ErrorKind};
pub use query::{Filters, filters};
pub use stream::{Frame, PullEvent, StreamKind};
pub use survey::{ShipReport, ShipStatus, survey};
pub use transport::TransportKind;
