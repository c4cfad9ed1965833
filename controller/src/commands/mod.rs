//! One module per command: each takes its parsed arguments, does the work
//! through the core modules and returns an exit code.

pub mod complete;
pub mod deptree;
pub mod dump;
pub mod logs;
pub mod orchestrate;
pub mod play;
pub mod pull;
pub mod restart;
pub mod ships;
pub mod status;
pub mod validate;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{self, LoadOptions, Loaded};
use crate::plan::selection::Command as PlayCommand;

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Validate => validate::run(&cli.global),
        Command::Deptree(args) => deptree::run(&cli.global, &args),
        Command::Dump(args) => dump::run(&cli.global, args.config, args.show_secrets, &args.things),
        Command::Config(args) => dump::run(&cli.global, false, args.show_secrets, &[]),
        Command::Ships => ships::run(&cli.global),
        Command::Status(args) => status::run(&cli.global, &args),
        Command::Start(args) => orchestrate::run(
            &cli.global,
            PlayCommand::Start,
            &args.play,
            &orchestrate::Options {
                refresh_images: args.refresh_images,
                reuse: args.reuse,
                ..Default::default()
            },
        ),
        Command::Stop(args) => stop_like(&cli.global, PlayCommand::Stop, &args),
        Command::Kill(args) => stop_like(&cli.global, PlayCommand::Kill, &args),
        Command::Clean(args) => orchestrate::run(
            &cli.global,
            PlayCommand::Clean,
            &args,
            &orchestrate::Options::default(),
        ),
        Command::Restart(args) => restart::run(&cli.global, &args),
        Command::Pull(args) => pull::run(&cli.global, &args),
        Command::Logs(args) => logs::run(&cli.global, &args),
        Command::Complete(args) => complete::run(&cli.global, &args),
    }
}

fn stop_like(global: &GlobalArgs, command: PlayCommand, args: &crate::cli::StopArgs) -> i32 {
    orchestrate::run(
        global,
        command,
        &args.play,
        &orchestrate::Options {
            expand_services: args.expand_services,
            all: args.all,
            ..Default::default()
        },
    )
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

/// Writes a command's output to stdout. A reader that went away early
/// (`maestro dump | head`) is not an error: the output stops there, as with
/// other Unix tools. Any other write error is reported, with exit code 2.
pub fn print_stdout(text: &str) -> Result<(), i32> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("maestro: cannot write to standard output: {e}");
            Err(2)
        }
        _ => Ok(()),
    }
}
