//! Exports of an environment to other engines' formats. Pure: each exporter
//! turns the typed environment into a document (serde structs) and a list
//! of findings (what the target cannot express); `commands::export` writes
//! the document and `render::export` draws the findings.

pub mod swarm;
