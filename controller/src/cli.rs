//! Command-line definitions only: clap parses into these records, `commands`
//! turns them into work.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// What `-v`/`--version` prints: the name and version joined by a dash, in the
/// shape of MaestroNG's `maestro-ng-0.8.3`, so scripts that cut the version
/// off the last dash keep working.
pub const VERSION_TEXT: &str = concat!("maestro-", env!("CARGO_PKG_VERSION"));

// MaestroNG's argparse accepts any unambiguous prefix of a long option
// (`--conc 4`, `--with-dep`) and a flag given twice (the last value wins);
// so does maestro (`infer_long_args`, `args_override_self`). clap's own
// version flag is replaced by `-v`/`--version` (MaestroNG's spelling; `-V`
// is kept as a hidden alias), printed by `main` as VERSION_TEXT.
#[derive(Debug, Parser)]
#[command(
    name = "maestro",
    version,
    disable_version_flag = true,
    infer_long_args = true,
    args_override_self = true,
    about = "Orchestrates Docker containers across many Docker hosts from one environment file"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Print the version (`maestro-X.Y.Z`) and exit.
    #[arg(short = 'v', long = "version", short_alias = 'V', action = ArgAction::Version)]
    pub version: Option<bool>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
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
    /// Show the state of every instance's container.
    Status(StatusArgs),
    /// Show what each instance needs to match the file, and why; change
    /// nothing (exit 0: nothing to do, 2: changes pending, 1: error).
    Plan(PlanArgs),
    /// Create and start containers, dependencies first.
    Start(StartArgs),
    /// Make the ships match the file: create what is absent, start what is
    /// stopped, recreate what changed, leave the rest alone (the plan of
    /// `maestro plan`, applied in dependency order).
    Up(UpArgs),
    /// Stop containers, dependents first.
    Stop(StopArgs),
    /// Kill containers (SIGKILL), dependents first.
    Kill(StopArgs),
    /// Stop and start containers again, dependencies first, each service
    /// batch by batch (a rolling restart).
    Restart(RestartArgs),
    /// Remove stopped containers.
    Clean(CleanArgs),
    /// Pull each selected instance's image on its ship, all ships at once.
    Pull(PullArgs),
    /// Show the logs of one or more containers, merged, from every ship.
    Logs(LogsArgs),
    /// Shell completion helper: print the words that complete a partial
    /// command line (commands, flags, services and instances), as
    /// MaestroNG's `complete` does.
    Complete(CompleteArgs),
    /// Show or break the environment's deploy lock, which every command
    /// that changes containers takes (`lock status`, `lock release`).
    Lock(LockCommandArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or
    /// powershell: commands, flags, and the services, instances and ships
    /// of the environment file (through `maestro complete`).
    Completions(CompletionsArgs),
    /// Write maestro's man pages (maestro.1, maestro-start.1, ...) to a
    /// folder.
    Man(ManArgs),
    /// Print the JSON Schema (draft 2020-12) of the environment file, for
    /// editors and other validators.
    Schema,
    /// Write the environment in another engine's format (`export swarm`:
    /// a Docker Swarm stack file).
    Export(ExportArgs),
    /// Docker Swarm helpers (`swarm label`: label the nodes with their
    /// ships, for `export swarm`'s placement).
    Swarm(SwarmArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub format: ExportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ExportFormat {
    /// A Docker Swarm stack (compose format 3.8): one service per instance,
    /// placed on its ship's node (label `maestro.ship`), ports published in
    /// host mode, the container environment `maestro start` sets. Deploy
    /// with `docker stack deploy --resolve-image never -c FILE NAME`.
    Swarm(ExportSwarmArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExportSwarmArgs {
    /// Services or instances, with their dependencies (default: all).
    pub things: Vec<String>,
    /// Write the stack to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The stack's name (the prefix of the services' names; default: the
    /// environment's name).
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// Write environments that hold secrets (variables the file's
    /// `secret_names` or `secrets` make secret, or a registry's password)
    /// instead of refusing.
    #[arg(long)]
    pub show_secrets: bool,
    /// Make every setting Swarm cannot express an error (exit 1, nothing
    /// written) instead of a warning.
    #[arg(long)]
    pub strict: bool,
    /// Keep the dependency order: each instance's command runs after
    /// `maestro-guest wait` says every required service answers (through
    /// the image's shell).
    #[arg(long)]
    pub wait_for_dependencies: bool,
    /// Where the images carry maestro-guest, for --wait-for-dependencies.
    #[arg(long, value_name = "PATH", default_value = crate::export::swarm::DEFAULT_GUEST)]
    pub guest: String,
    /// The images' shell, for --wait-for-dependencies.
    #[arg(long, value_name = "PATH", default_value = crate::export::swarm::DEFAULT_SHELL)]
    pub shell: String,
}

#[derive(Debug, Args)]
pub struct SwarmArgs {
    #[command(subcommand)]
    pub action: SwarmAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SwarmAction {
    /// Label each Swarm node whose address is a ship's `ip` with
    /// `maestro.ship=<ship>`, through a manager ship's Engine API; says
    /// which ships have no node.
    Label {
        /// The ship to ask (a Swarm manager); default: the first ship, by
        /// name, that answers as one.
        #[arg(long, value_name = "SHIP")]
        manager: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells `maestro completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The folder to write the pages to (created if missing).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The command line typed so far, from the program name to the word
    /// being completed (empty after a space); words may also come as one
    /// argument separated by spaces.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub tokens: Vec<String>,
}

/// Things and the flags every orchestration command takes.
#[derive(Debug, Clone, Args)]
pub struct Selection {
    /// Services or instances (containers); default: every service.
    pub things: Vec<String>,
    /// Also act on the instances the things depend on (for stop, kill and restart:
    /// that depend on the things). Implied when no things are given.
    #[arg(short = 'd', long = "with-dependencies")]
    pub with_dependencies: bool,
    /// Act on the things only; do not wait for dependencies.
    #[arg(short = 'i', long = "ignore-dependencies")]
    pub ignore_dependencies: bool,
    /// Only instances whose name matches this shell glob.
    #[arg(short = 'C', long = "container-filter", value_name = "PATTERN")]
    pub container_filter: Option<String>,
    /// Only instances whose ship name matches this shell glob.
    #[arg(short = 'S', long = "ship-filter", value_name = "PATTERN")]
    pub ship_filter: Option<String>,
    /// Tasks in flight at once over all ships (0: no global limit; each
    /// ship's `max_concurrency` still holds); for `status`, ship list
    /// requests at once.
    #[arg(
        short = 'c',
        long = "concurrency",
        value_name = "LIMIT",
        default_value_t = 0
    )]
    pub concurrency: usize,
}

/// The flags of plays that change containers.
#[derive(Debug, Clone, Args)]
pub struct PlayArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// How to show progress.
    #[arg(long, value_enum, default_value_t = crate::render::Progress::Auto)]
    pub progress: crate::render::Progress,
    /// Print the plan (what each instance needs and why) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CleanArgs {
    #[command(flatten)]
    pub play: PlayArgs,
    /// Also remove the environment's networks (those maestro created,
    /// labelled with the environment's name) on the ships of the
    /// selection, once its containers are gone.
    #[arg(long)]
    pub networks: bool,
}

/// The deploy lock's flags, on every command that changes containers.
#[derive(Debug, Clone, Args)]
pub struct LockArgs {
    /// Wait up to this long while another command holds the environment's
    /// deploy lock (0: refuse at once).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
    /// Go ahead without the deploy lock (e.g. when the ship that holds it
    /// is down).
    #[arg(long)]
    pub no_lock: bool,
}

#[derive(Debug, Args)]
pub struct LockCommandArgs {
    #[command(subcommand)]
    pub action: LockAction,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum LockAction {
    /// Show who holds the environment's deploy lock.
    Status,
    /// Remove the deploy lock, whoever holds it (a stale lock of a killed
    /// command).
    Release,
}

#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub play: PlayArgs,
    /// Pull every image, even when the ship has it.
    #[arg(short = 'r', long = "refresh-images", conflicts_with = "reuse")]
    pub refresh_images: bool,
    /// Start an existing stopped container as it is instead of recreating it.
    #[arg(long)]
    pub reuse: bool,
    /// Run one-shot containers (`run: once`) again, even those that
    /// completed from the same configuration.
    #[arg(long)]
    pub rerun: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    #[command(flatten)]
    pub play: PlayArgs,
    /// Let service names stand for all their instances.
    #[arg(short = 's', long = "expand-services")]
    pub expand_services: bool,
    /// Act on everything when no things are given (implies -s).
    #[arg(short = 'a', long = "all")]
    pub all: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    #[command(flatten)]
    pub play: PlayArgs,
    /// Let service names stand for all their instances.
    #[arg(short = 's', long = "expand-services")]
    pub expand_services: bool,
    /// Act on everything when no things are given (implies -s).
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Pull each instance's image on its ship first (asking the registry).
    #[arg(short = 'r', long = "refresh-images", conflicts_with = "reuse")]
    pub refresh_images: bool,
    /// Start the stopped container again instead of recreating it
    /// (configuration changes are then not applied).
    #[arg(long)]
    pub reuse: bool,
    /// Seconds to wait between two batches of a service.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub step_delay: u64,
    /// Seconds to wait between the stop and the start of an instance.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub stop_start_delay: u64,
    /// Leave alone running containers whose image (after -r's pull) and
    /// configuration are current.
    #[arg(long)]
    pub only_if_changed: bool,
    /// Instances of one service restarted at once: a count, or a
    /// percentage of the service's instances (25%).
    #[arg(long, value_name = "N|N%", default_value = "1")]
    pub batch: crate::plan::restart::Batch,
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub play: PlayArgs,
    /// Recreate each service's instances batch by batch, as `restart`
    /// rolls: a count (default 1) or a percentage of its instances (25%).
    #[arg(long, value_name = "N|N%", num_args = 0..=1, default_missing_value = "1", require_equals = true)]
    pub rolling: Option<crate::plan::restart::Batch>,
    /// Also remove the environment's containers that the file no longer
    /// has (on that ship).
    #[arg(long)]
    pub remove_orphans: bool,
    /// Create and recreate containers but start none: what is created is
    /// left stopped, a stopped container stays stopped.
    #[arg(long)]
    pub no_start: bool,
    /// Run one-shot containers (`run: once`) again, even those that
    /// completed from the same configuration.
    #[arg(long)]
    pub rerun: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Also show the image and whether each port answers.
    #[arg(short = 'F', long = "full")]
    pub full: bool,
    /// Show ship addresses instead of ship names.
    #[arg(short = 'H', long = "show-hosts")]
    pub show_hosts: bool,
    /// Output format: a table, or one JSON object per instance per line.
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Output format: text, or one JSON document.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeptreeFormat {
    Text,
    Dot,
    Mermaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct DeptreeArgs {
    /// Show every dependency under each service, even if already shown.
    #[arg(short, long)]
    pub recursive: bool,
    /// Output format: MaestroNG's text tree, or a graph of services and
    /// instances (grouped by ship) in Graphviz dot or Mermaid.
    #[arg(long, value_enum, default_value_t = DeptreeFormat::Text)]
    pub format: DeptreeFormat,
    /// Services or instances (default: every service not marked `omit`).
    pub things: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Also include the parsed environment file as it was written.
    #[arg(short = 'c', long = "config")]
    pub config: bool,
    /// Show passwords, tokens and secret environment values instead of redacting them.
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
    /// Show passwords, tokens and secret environment values instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Ask the registry even when the ship has the image (pulls it when
    /// the registry has a newer one).
    #[arg(short = 'r', long = "refresh-images")]
    pub refresh: bool,
    /// How to show progress.
    #[arg(long, value_enum, default_value_t = crate::render::Progress::Auto)]
    pub progress: crate::render::Progress,
    #[command(flatten)]
    pub lock: LockArgs,
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

/// The command of a command line (its first word that is neither an
/// option nor `-f`'s value), also when clap refuses the line.
pub fn command_name(args: impl IntoIterator<Item = OsString>) -> Option<String> {
    let mut args = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = args.next() {
        if a == "-f" || a == "--file" {
            args.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

/// The long options of MaestroNG 0.8.3, for the program (`None`) and per
/// command: what its argparse accepted an abbreviation of.
fn maestro_ng_longs(command: Option<&str>) -> &'static [&'static str] {
    const SELECTION: &[&str] = &[
        "concurrency",
        "with-dependencies",
        "ignore-dependencies",
        "container-filter",
        "ship-filter",
    ];
    match command {
        None => &["file", "version", "help"],
        Some("status") => &[
            "concurrency",
            "with-dependencies",
            "ignore-dependencies",
            "container-filter",
            "ship-filter",
            "full",
            "show-hosts",
        ],
        Some("pull" | "clean") => SELECTION,
        Some("start") => &[
            "concurrency",
            "with-dependencies",
            "ignore-dependencies",
            "container-filter",
            "ship-filter",
            "refresh-images",
            "reuse",
        ],
        Some("stop" | "kill") => &[
            "concurrency",
            "with-dependencies",
            "ignore-dependencies",
            "container-filter",
            "ship-filter",
            "expand-services",
            "all",
        ],
        Some("restart") => &[
            "concurrency",
            "with-dependencies",
            "ignore-dependencies",
            "container-filter",
            "ship-filter",
            "expand-services",
            "all",
            "refresh-images",
            "reuse",
            "step-delay",
            "stop-start-delay",
            "only-if-changed",
        ],
        Some("logs") => &["follow"],
        Some("deptree") => &["recursive"],
        Some("dump") => &["config"],
        _ => &[],
    }
}

/// Spells out the long-option abbreviations MaestroNG accepted that
/// maestro's own flags make ambiguous: `status --f` was `--full` before
/// `--file` and `--format` joined it, `start --s` was `--ship-filter`
/// before `--strict-templates`. A word is rewritten only when it is not
/// one of the command's own options and exactly one MaestroNG option of the
/// command starts with it, so a prefix clap would resolve alone resolves
/// to the same option, and one that only maestro's flags share gets
/// MaestroNG's meaning. Everything after `--`, the value of `-f` before the
/// command, and the words of `complete` are left alone.
pub fn expand_maestro_ng_abbreviations(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    use clap::CommandFactory;
    let mut definition = Cli::command();
    definition.build();
    let mut out: Vec<OsString> = Vec::new();
    let mut command: Option<String> = None;
    let mut skip_value = false;
    let mut rest_verbatim = false;
    for (i, arg) in args.into_iter().enumerate() {
        let verbatim = i == 0 || rest_verbatim || std::mem::take(&mut skip_value);
        let Some(word) = arg.to_str().filter(|_| !verbatim).map(str::to_string) else {
            out.push(arg);
            continue;
        };
        if word == "--" || command.as_deref() == Some("complete") {
            rest_verbatim = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let scope = match command.as_deref() {
                Some(c) => definition.find_subcommand(c).unwrap_or(&definition),
                None => &definition,
            };
            let ours = scope.get_arguments().any(|a| a.get_long() == Some(name));
            let mut theirs = maestro_ng_longs(command.as_deref())
                .iter()
                .filter(|o| !name.is_empty() && o.starts_with(name));
            let full = match (ours, theirs.next(), theirs.next()) {
                (false, Some(one), None) => *one,
                _ => name,
            };
            // `--file FILE` before the command: its value is not the command.
            if command.is_none() && full == "file" && value.is_none() {
                skip_value = true;
            }
            if full != name {
                let spelled = match value {
                    Some(v) => format!("--{full}={v}"),
                    None => format!("--{full}"),
                };
                out.push(spelled.into());
                continue;
            }
        } else if word.starts_with('-') {
            if command.is_none() && word == "-f" {
                skip_value = true;
            }
        } else if command.is_none() {
            command = Some(word);
        }
        out.push(arg);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_name_of_a_line_clap_refuses() {
        let name = |line: &str| command_name(line.split(' ').map(OsString::from));
        assert_eq!(name("maestro plan --nope").as_deref(), Some("plan"));
        assert_eq!(name("maestro -f plan start x").as_deref(), Some("start"));
        assert_eq!(
            name("maestro --file=a.yaml --strict-templates plan").as_deref(),
            Some("plan")
        );
        assert_eq!(name("maestro -v"), None);
    }

    use super::*;

    fn expand(line: &str) -> String {
        let args = line.split(' ').map(OsString::from);
        let out = expand_maestro_ng_abbreviations(args);
        let words: Vec<&str> = out.iter().map(|w| w.to_str().unwrap()).collect();
        words.join(" ")
    }

    #[test]
    fn abbreviations_maestro_flags_made_ambiguous_get_maestro_ng_meaning() {
        assert_eq!(expand("maestro status --f"), "maestro status --full");
        assert_eq!(
            expand("maestro logs --f zk-1"),
            "maestro logs --follow zk-1"
        );
        assert_eq!(
            expand("maestro start --s=s1 zk-1"),
            "maestro start --ship-filter=s1 zk-1"
        );
        assert_eq!(
            expand("maestro -f x.yaml stop --s a"),
            "maestro -f x.yaml stop --ship-filter a"
        );
        assert_eq!(
            expand("maestro kill --sh s1 -a"),
            "maestro kill --ship-filter s1 -a"
        );
    }

    #[test]
    fn exact_options_values_and_complete_are_left_alone() {
        // maestro's own options, whole.
        assert_eq!(
            expand("maestro status --format json"),
            "maestro status --format json"
        );
        assert_eq!(expand("maestro start --reuse"), "maestro start --reuse");
        // A prefix MaestroNG found ambiguous stays for clap to refuse.
        assert_eq!(expand("maestro restart --re"), "maestro restart --re");
        assert_eq!(
            expand("maestro -f x.yaml restart --s s1 -a"),
            "maestro -f x.yaml restart --s s1 -a"
        );
        // The file before the command is not taken for the command.
        assert_eq!(
            expand("maestro -f logs status --f"),
            "maestro -f logs status --full"
        );
        assert_eq!(
            expand("maestro --fi logs logs --f"),
            "maestro --file logs logs --follow"
        );
        assert_eq!(
            expand("maestro complete maestro status --f"),
            "maestro complete maestro status --f"
        );
        assert_eq!(expand("maestro status -- --f"), "maestro status -- --f");
        // Options only maestro has are clap's to resolve.
        assert_eq!(expand("maestro start --dry"), "maestro start --dry");
        assert_eq!(expand("maestro --ver"), "maestro --version");
    }

    #[test]
    fn the_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
