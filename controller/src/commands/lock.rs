//! `maestro lock status|release`: who holds the environment's deploy lock,
//! and breaking a stale one (see `lock.rs`).

use super::{CommandResult, Context};
use crate::cli::LockAction;
use crate::exit::{ExitStatus, Failed};
use crate::lock;

pub fn run(ctx: &Context, action: LockAction) -> CommandResult {
    let env = ctx.env();
    let ships = lock::lock_ships(&env.ships);
    let mut down = Vec::new();
    let mut text = match action {
        LockAction::Status => {
            match lock::status(ships, &env.name, &mut down).map_err(Failed::failure)? {
                Some((holder, ship)) => {
                    format!("{}: locked by {holder} (on ship `{ship}`)\n", env.name)
                }
                None => format!("{}: not locked\n", env.name),
            }
        }
        LockAction::Release => {
            let released =
                lock::break_lock(ships, &env.name, &mut down).map_err(Failed::failure)?;
            if released.is_empty() {
                format!("{}: not locked\n", env.name)
            } else {
                released
                    .iter()
                    .map(|(holder, ship)| {
                        format!(
                            "{}: released the lock of {holder} (on ship `{ship}`)\n",
                            env.name
                        )
                    })
                    .collect()
            }
        }
    };
    if !down.is_empty() {
        text.push_str(&format!("ships that did not answer: {}\n", down.join(", ")));
    }
    super::print_stdout(&text)?;
    Ok(ExitStatus::Success)
}
