//! `maestro ships`: every ship with its endpoint, transport, daemon version,
//! API version in use and reachability, contacting all ships in parallel.

use std::io::Write;

use super::{CommandResult, Context};
use crate::config::ship::Ship;
use crate::docker;
use crate::exit::ExitStatus;

/// Surveys the ships, prints the table on `out`: success when every ship
/// answered, a failure otherwise.
pub fn run_with(ships: &[Ship], out: &mut impl Write) -> ExitStatus {
    let reports = docker::survey(ships);
    let text = crate::render::ships::table(&reports);
    if out.write_all(text.as_bytes()).is_err() {
        return ExitStatus::Failure;
    }
    if reports.iter().all(|r| r.result.is_ok()) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

pub fn run(ctx: &Context) -> CommandResult {
    let ships: Vec<Ship> = ctx.env().ships.values().map(|s| Ship::clone(s)).collect();
    Ok(run_with(&ships, &mut std::io::stdout().lock()))
}
