//! `maestro lock status|release`: who holds the environment's deploy lock,
//! and breaking a stale one (see `lock.rs`).

use super::{CommandResult, Context};
use crate::cli::LockAction;
use crate::exit::{ExitStatus, Failed};
use crate::lock;

pub fn run(ctx: &Context, action: LockAction) -> CommandResult {
    let env = ctx.env();
    let Some(ship) = lock::lock_ship(&env.ships) else {
        return Err(Failed::error("the environment has no ships"));
    };
    let text = match action {
        LockAction::Status => match lock::status(ship, &env.name).map_err(Failed::failure)? {
            Some(holder) => format!("{}: locked by {holder}\n", env.name),
            None => format!("{}: not locked\n", env.name),
        },
        LockAction::Release => match lock::break_lock(ship, &env.name).map_err(Failed::failure)? {
            Some(holder) => format!("{}: released the lock of {holder}\n", env.name),
            None => format!("{}: not locked\n", env.name),
        },
    };
    super::print_stdout(&text)?;
    Ok(ExitStatus::Success)
}
