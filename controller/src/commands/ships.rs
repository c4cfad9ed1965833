//! `maestro ships`: every ship with its endpoint, transport, daemon version,
//! API version in use and reachability, contacting all ships in parallel.

use std::io::Write;

use crate::config::ship::Ship;
use crate::docker;

/// Surveys the ships, prints the table on stdout and returns the exit code:
/// 0 when every ship answered, 1 otherwise.
pub fn run_with(ships: &[Ship], out: &mut impl Write) -> i32 {
    let reports = docker::survey(ships);
    let text = docker::render_ships(&reports);
    if out.write_all(text.as_bytes()).is_err() {
        return 1;
    }
    if reports.iter().all(|r| r.result.is_ok()) {
        0
    } else {
        1
    }
}

/// Entry point from the command line. The environment loader is not wired
/// in yet: until it is, this says so. Once `commands::load(global)` exists:
///
/// ```text
/// match super::load(global) {
///     Ok(l) => {
///         let ships: Vec<Ship> = l.env.ships.values().cloned().collect();
///         run_with(&ships, &mut std::io::stdout().lock())
///     }
///     Err(code) => code,
/// }
/// ```
pub fn run(_global: &crate::cli::GlobalArgs) -> i32 {
    eprintln!("maestro: ships needs the environment loader, which is not available yet");
    2
}
