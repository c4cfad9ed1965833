//! One module per command. `run` builds the [`Context`] once from the
//! global flags and hands it to the command; each command asks the context
//! for what it needs (selection, clients, observation), does its work
//! through the core modules, draws through `render/` and returns how it
//! ended. A command that cannot go on returns a [`Failed`], printed here.

pub mod complete;
pub mod completions;
pub mod context;
pub mod deptree;
pub mod dump;
pub mod export;
pub mod lock;
pub mod logs;
pub mod man;
pub mod orchestrate;
pub mod plan;
pub mod play;
pub mod pull;
pub mod restart;
pub mod schema;
pub mod ships;
pub mod status;
pub mod swarm;
pub mod up;
pub mod validate;

pub use context::Context;

use crate::cli::{Cli, Command};
use crate::exit::{ExitStatus, Failed};
use crate::plan::selection::Verb;

/// What a command returns.
pub type CommandResult = Result<ExitStatus, Failed>;

/// Runs the parsed command line; the process exits with the code of the
/// returned status.
pub fn run(cli: Cli) -> ExitStatus {
    // `plan` keeps 2 for "changes pending": every error of it is 1.
    let is_plan = matches!(cli.command, Command::Plan(_));
    let outcome = match cli.command {
        // Completion reads the environment file only when it has things to
        // offer, and the file it names may not be the one of `-f`.
        Command::Complete(args) => complete::run(&cli.global, &args),
        // These describe maestro itself, not an environment.
        Command::Completions(args) => completions::run(args.shell),
        Command::Man(args) => man::run(&args.dir),
        Command::Schema => schema::run(),
        // `validate` (like completion) never compares containers with the
        // file: it goes without the configuration hashes.
        command => {
            Context::load(&cli.global, !matches!(command, Command::Validate)).and_then(|ctx| {
                let outcome = dispatch(&ctx, command);
                // The process ends next: freeing the tree and the environment
                // of a large file one node at a time would only add to the run
                // time (a tenth of it at 20,000 instances).
                std::mem::forget(ctx);
                outcome
            })
        }
    };
    outcome.unwrap_or_else(|failed| {
        crate::render::message::error(&failed.message);
        match failed.status {
            ExitStatus::Error if is_plan => ExitStatus::Failure,
            status => status,
        }
    })
}

fn dispatch(ctx: &Context, command: Command) -> CommandResult {
    match command {
        Command::Validate => validate::run(ctx),
        Command::Deptree(args) => deptree::run(ctx, &args),
        Command::Dump(args) => dump::run(ctx, args.config, args.show_secrets, &args.things),
        Command::Config(args) => dump::run(ctx, false, args.show_secrets, &[]),
        Command::Ships => ships::run(ctx),
        Command::Status(args) => status::run(ctx, &args),
        Command::Plan(args) => plan::run(ctx, &args),
        Command::Start(args) => orchestrate::run(
            ctx,
            Verb::Start,
            &args.play,
            &orchestrate::Options {
                refresh_images: args.refresh_images,
                reuse: args.reuse,
                rerun: args.rerun,
                ..Default::default()
            },
        ),
        Command::Up(args) => up::run(ctx, &args),
        Command::Stop(args) => stop_like(ctx, Verb::Stop, &args),
        Command::Kill(args) => stop_like(ctx, Verb::Kill, &args),
        Command::Clean(args) => orchestrate::run(
            ctx,
            Verb::Clean,
            &args.play,
            &orchestrate::Options {
                networks: args.networks,
                ..Default::default()
            },
        ),
        Command::Restart(args) => restart::run(ctx, &args),
        Command::Pull(args) => pull::run(ctx, &args),
        Command::Logs(args) => logs::run(ctx, &args),
        Command::Complete(args) => complete::run(ctx.global(), &args),
        Command::Lock(args) => lock::run(ctx, args.action),
        Command::Completions(args) => completions::run(args.shell),
        Command::Man(args) => man::run(&args.dir),
        Command::Schema => schema::run(),
        Command::Export(args) => match args.format {
            crate::cli::ExportFormat::Swarm(a) => export::swarm(ctx, &a),
        },
        Command::Swarm(args) => match args.action {
            crate::cli::SwarmAction::Label { manager } => swarm::label(ctx, manager.as_deref()),
        },
    }
}

fn stop_like(ctx: &Context, verb: Verb, args: &crate::cli::StopArgs) -> CommandResult {
    orchestrate::run(
        ctx,
        verb,
        &args.play,
        &orchestrate::Options {
            expand_services: args.expand_services,
            all: args.all,
            ..Default::default()
        },
    )
}

/// Writes a command's output to stdout. A reader that went away early
/// (`maestro dump | head`) is not an error: the output stops there, as with
/// other Unix tools. Any other write error is reported, with exit code 2.
pub fn print_stdout(text: &str) -> Result<(), Failed> {
    write_stdout(&mut std::io::stdout().lock(), text)
}

/// As [`print_stdout`], for text with colour codes: they are dropped when
/// standard output is not a terminal or `NO_COLOR` is set.
pub fn print_stdout_styled(text: &str) -> Result<(), Failed> {
    write_stdout(&mut anstream::stdout().lock(), text)
}

fn write_stdout(out: &mut impl std::io::Write, text: &str) -> Result<(), Failed> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failed::error(format_args!(
            "cannot write to standard output: {e}"
        ))),
        _ => Ok(()),
    }
}
