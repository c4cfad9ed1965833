//! Command-line definitions only: clap parses into these records, `commands`
//! turns them into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the environment file and print a one-line summary.
    Validate,
    /// List each ship with its endpoint, transport, Docker and API versions,
    /// and whether it answers.
    Ships,
}
