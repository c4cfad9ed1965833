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
