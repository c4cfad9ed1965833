//! One module per command: each takes its parsed arguments, does the work
//! through the core modules and returns an exit code.

pub mod deptree;
pub mod dump;
pub mod logs;
pub mod pull;
pub mod ships;
pub mod validate;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{self, LoadOptions, Loaded};

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Validate => validate::run(&cli.global),
        Command::Deptree(args) => deptree::run(&cli.global, &args),
        Command::Dump(args) => dump::run(&cli.global, args.config, args.show_secrets, &args.things),
        Command::Config(args) => dump::run(&cli.global, false, args.show_secrets, &[]),
        Command::Ships => ships::run(&cli.global),
        Command::Pull(args) => pull::run(&cli.global, &args),
        Command::Logs(args) => logs::run(&cli.global, &args),
    }
}

/// Loads the environment file named by the global flags; on failure prints
/// every error to stderr and returns the exit code (1 invalid, 2 I/O).
pub fn load(global: &GlobalArgs) -> Result<Loaded, i32> {
    let opts = LoadOptions::from_process(global.strict_templates);
    config::load(&global.file, &opts).map_err(|e| {
        eprintln!("{e}");
        e.exit_code()
    })
}
