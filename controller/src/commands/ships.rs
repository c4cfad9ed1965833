//! `maestro ships`: every ship with its endpoint, transport, daemon version,
//! API version in use and reachability, contacting all ships in parallel.

use std::io::Write;

use crate::config::ship::Ship;
use crate::docker;

/// Surveys the ships, prints the table on stdout and returns the exit code:
/// 0 when every ship answered, 1 otherwise.
pub fn run_with(ships: &[Ship], out: &mut impl Write) -> i32 {
    let reports = docker::survey(ships);
    let text = crate::render::ships::table(&reports);
    if out.write_all(text.as_bytes()).is_err() {
        return 1;
    }
    if reports.iter().all(|r| r.result.is_ok()) {
        0
    } else {
        1
    }
}

/// Entry point from the command line: loads the environment and surveys
/// its ships.
pub fn run(global: &crate::cli::GlobalArgs) -> i32 {
    match super::load(global) {
        Ok(loaded) => {
            let ships: Vec<Ship> = loaded.env.ships.values().cloned().collect();
            run_with(&ships, &mut std::io::stdout().lock())
        }
        Err(code) => code,
    }
}
