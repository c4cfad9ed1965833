//! One module per command: each takes its parsed arguments, does the work
//! through the core modules and returns an exit code.

use crate::cli::{Cli, Command};

pub mod ships;

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Validate => {
            eprintln!("maestro: validate is not available yet");
            2
        }
        Command::Ships => ships::run(&cli.global),
    }
}
