//! `maestro validate`: load the environment file, print a one-line summary.

use super::{CommandResult, Context};
use crate::exit::ExitStatus;

pub fn run(ctx: &Context) -> CommandResult {
    let e = ctx.env();
    let summary = format!(
        "{}: valid: {} ships, {} services, {} instances\n",
        ctx.file().display(),
        e.ships.len(),
        e.services.len(),
        e.instances.len()
    );
    super::print_stdout(&summary)?;
    Ok(ExitStatus::Success)
}
