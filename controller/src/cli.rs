//! Command-line definitions only: clap parses into these records, `commands`
//! turns them into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "maestro",
    version,
    about = "Orchestrates Docker containers across many Docker hosts from one environment file"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Environment file to read; `-` reads standard input.
    #[arg(
        short = 'f',
        long = "file",
        env = "MAESTRO_FILE",
        default_value = "maestro.yaml",
        global = true
    )]
    pub file: PathBuf,

    /// Make undefined template variables an error instead of empty text.
    #[arg(long, global = true)]
    pub strict_templates: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the environment file and print a one-line summary.
    Validate,
    /// List each ship with its endpoint, transport, Docker and API versions,
    /// and whether it answers.
    Ships,
    /// Show the dependency tree of services.
    Deptree(DeptreeArgs),
    /// Print the resolved environment as JSON (secrets redacted).
    Dump(DumpArgs),
    /// Print the resolved configuration.
    Config(ConfigArgs),
    /// Pull each selected instance's image on its ship, all ships at once.
    Pull(PullArgs),
    /// Show the logs of one or more containers, merged, from every ship.
    Logs(LogsArgs),
}

#[derive(Debug, Args)]
pub struct DeptreeArgs {
    /// Show every dependency under each service, even if already shown.
    #[arg(short, long)]
    pub recursive: bool,
    /// Services or instances (default: every service not marked `omit`).
    pub things: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Also include the parsed environment file as it was written.
    #[arg(short = 'c', long = "config")]
    pub config: bool,
    /// Show passwords, tokens and environment values instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Services or instances, with their dependencies (default: all).
    pub things: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Show passwords, tokens and environment values instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// At most this many pulls at once (0: no limit besides each ship's).
    #[arg(short = 'c', long = "concurrency", default_value_t = 0)]
    pub concurrency: usize,
    /// Also pull the images of the services the things require.
    #[arg(
        short = 'd',
        long = "with-dependencies",
        conflicts_with = "ignore_dependencies"
    )]
    pub with_dependencies: bool,
    /// Only the things named (the default with things; without things,
    /// leaves out what omitted services are required for).
    #[arg(short = 'i', long = "ignore-dependencies")]
    pub ignore_dependencies: bool,
    /// Ask the registry even when the ship has the image (pulls it when
    /// the registry has a newer one).
    #[arg(short = 'r', long = "refresh-images")]
    pub refresh: bool,
    /// How to show progress.
    #[arg(long, value_enum, default_value_t = crate::render::Progress::Auto)]
    pub progress: crate::render::Progress,
    /// Services or instances (default: every service not marked `omit`).
    pub things: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep following new output (re-attaching when a container restarts)
    /// until Ctrl-C.
    #[arg(short = 'F', long = "follow")]
    pub follow: bool,
    /// Only the last N lines of each container.
    #[arg(short = 'n', long = "lines", value_name = "N")]
    pub lines: Option<u64>,
    /// Only output since T: a Unix time, an RFC 3339 time
    /// (2026-11-24T20:00:00Z) or an age such as 30s, 10m, 2h, 1d.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Prefix each line with its timestamp.
    #[arg(short = 't', long = "timestamps")]
    pub timestamps: bool,
    /// Instances or services (at least one).
    pub things: Vec<String>,
}
