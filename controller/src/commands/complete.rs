//! `maestro complete <tokens...>`: MaestroNG's shell completion helper.
//!
//! The tokens are the command line typed so far, program name first, the
//! word being completed last (an empty word after a space). As in MaestroNG,
//! a token may hold several words separated by spaces. The answer is one
//! line of candidates separated by spaces (MaestroNG's format, so completion
//! functions written for it keep working): command names while no command
//! is typed, services and instances of the environment file after it, and,
//! beyond MaestroNG, the command's flags when the word starts with `-`,
//! ship names as the value of `-S`/`--ship-filter` and instance names as
//! the value of `-C`/`--container-filter`.
//! Flags and their values are read with the command's own definitions, so
//! `-f other.yaml` among the tokens names the environment file to complete
//! from, and a flag's value is never taken for a command or a thing.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Arg, CommandFactory};

use crate::cli::{Cli, CompleteArgs, GlobalArgs};

/// What the word being completed stands for.
#[derive(Debug, PartialEq, Eq)]
pub enum Want {
    /// A command name starting with the prefix.
    Commands(String),
    /// A flag of `command` (`None`: maestro's own) starting with the prefix.
    Flags {
        command: Option<String>,
        prefix: String,
    },
    /// A service or instance name starting with the prefix, from `file`
    /// when the tokens name one.
    Things {
        prefix: String,
        file: Option<PathBuf>,
    },
    /// A ship name (the value of `-S`), from `file` when the tokens name one.
    Ships {
        prefix: String,
        file: Option<PathBuf>,
    },
    /// An instance name (the value of `-C`).
    Instances {
        prefix: String,
        file: Option<PathBuf>,
    },
    /// Nothing maestro can offer: another flag's value, an unknown command, a
    /// command that takes no things.
    Nothing,
}

/// The `clap` definition, built so that global flags appear under every
/// command.
fn definition() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

/// The ids of the environment file flag (`-f`/`--file`) and of the flags
/// whose values are names of the file.
const FILE: &str = "file";
const SHIP_FILTER: &str = "ship_filter";
const CONTAINER_FILTER: &str = "container_filter";

fn find_long<'a>(scope: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    let longs = || scope.get_arguments().filter(|a| a.get_long().is_some());
    if let Some(exact) = longs().find(|a| a.get_long() == Some(name)) {
        return Some(exact);
    }
    // An unambiguous prefix, as the parser accepts (`infer_long_args`).
    let mut matches = longs().filter(|a| a.get_long().is_some_and(|l| l.starts_with(name)));
    match (matches.next(), matches.next()) {
        (Some(one), None) if !name.is_empty() => Some(one),
        _ => None,
    }
}

fn find_short(scope: &clap::Command, c: char) -> Option<&Arg> {
    scope.get_arguments().find(|a| a.get_short() == Some(c))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// Reads the tokens the way the command line parser would and says what
/// the last word is.
pub fn analyse(top: &clap::Command, tokens: &[String]) -> Want {
    let words: Vec<&str> = tokens.iter().flat_map(|t| t.split(' ')).collect();
    // MaestroNG: a lone program name completes like "maestro " (commands).
    let Some((current, typed)) = words.split_last().filter(|_| words.len() > 1) else {
        return Want::Commands(String::new());
    };
    let typed = &typed[1..];
    let mut sub: Option<&clap::Command> = None;
    let mut file: Option<PathBuf> = None;
    // The id of the flag whose value the next word is.
    let mut value_of: Option<String> = None;
    let mut only_positionals = false;
    for &word in typed {
        // Several spaces in a row make empty words; they separate nothing.
        if word.is_empty() {
            continue;
        }
        if let Some(id) = value_of.take() {
            if id == FILE {
                file = Some(PathBuf::from(word));
            }
            continue;
        }
        if !only_positionals && word == "--" {
            only_positionals = true;
            continue;
        }
        if !only_positionals && word.starts_with('-') && word.len() > 1 {
            let scope = sub.unwrap_or(top);
            if let Some(long) = word.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                if let Some(arg) = find_long(scope, name).filter(|a| takes_value(a)) {
                    match value {
                        Some(v) if arg.get_id() == FILE => file = Some(PathBuf::from(v)),
                        Some(_) => {}
                        None => value_of = Some(arg.get_id().to_string()),
                    }
                }
            } else {
                // A cluster of short flags (`-di`); the first one that
                // takes a value takes the rest of the word (`-c4`, `-fx.yaml`)
                // or else the next word.
                let cluster = &word[1..];
                for (at, c) in cluster.char_indices() {
                    let Some(arg) = find_short(scope, c) else {
                        break;
                    };
                    if takes_value(arg) {
                        let rest = &cluster[at + c.len_utf8()..];
                        if rest.is_empty() {
                            value_of = Some(arg.get_id().to_string());
                        } else if arg.get_id() == FILE {
                            file = Some(PathBuf::from(rest));
                        }
                        break;
                    }
                }
            }
            continue;
        }
        if sub.is_none() {
            match top.find_subcommand(word) {
                Some(found) => sub = Some(found),
                None => return Want::Nothing,
            }
        }
        // Later positional words are things already typed.
    }
    let prefix = current.to_string();
    match value_of.as_deref() {
        Some(SHIP_FILTER) => return Want::Ships { prefix, file },
        Some(CONTAINER_FILTER) => return Want::Instances { prefix, file },
        Some(_) => return Want::Nothing,
        None => {}
    }
    if prefix.starts_with('-') && !only_positionals {
        return Want::Flags {
            command: sub.map(|s| s.get_name().to_string()),
            prefix,
        };
    }
    match sub {
        None => Want::Commands(prefix),
        Some(s) if s.get_name() == "help" => Want::Commands(prefix),
        Some(s) if s.get_name() == "complete" => Want::Nothing,
        Some(s) if s.get_positionals().next().is_some() => Want::Things { prefix, file },
        Some(_) => Want::Nothing,
    }
}

/// The commands worth typing: every visible one but the helpers.
pub fn command_names(top: &clap::Command) -> Vec<String> {
    top.get_subcommands()
        .filter(|s| !s.is_hide_set() && !matches!(s.get_name(), "help" | "complete"))
        .map(|s| s.get_name().to_string())
        .collect()
}

/// The spellings of the flags of `command` (`None`: maestro's own), short and long.
pub fn flag_names(top: &clap::Command, command: Option<&str>) -> Vec<String> {
    let scope = match command {
        Some(name) => match top.find_subcommand(name) {
            Some(s) => s,
            None => return Vec::new(),
        },
        None => top,
    };
    let mut out = Vec::new();
    for arg in scope.get_arguments() {
        if arg.is_positional() || arg.is_hide_set() {
            continue;
        }
        if let Some(c) = arg.get_short() {
            out.push(format!("-{c}"));
        }
        if let Some(l) = arg.get_long() {
            out.push(format!("--{l}"));
        }
    }
    out
}

/// The candidates starting with `prefix`, sorted, each once, on one line.
pub fn line<I: IntoIterator<Item = String>>(candidates: I, prefix: &str) -> String {
    let set: BTreeSet<String> = candidates
        .into_iter()
        .filter(|c| c.starts_with(prefix))
        .collect();
    let mut text = set.into_iter().collect::<Vec<_>>().join(" ");
    text.push('\n');
    text
}

/// The names `pick` takes from the environment file (`file`, else the one
/// of maestro's own flags), as a line of candidates.
fn names(
    global: &GlobalArgs,
    file: Option<PathBuf>,
    prefix: &str,
    pick: impl Fn(&crate::config::Environment) -> Vec<String>,
) -> Result<String, crate::exit::Failed> {
    // A `-f -` among the tokens is the completed command's standard
    // input, not ours: there is nothing to read names from.
    if file.as_deref().is_some_and(|f| f.as_os_str() == "-") {
        return Ok(line(Vec::new(), ""));
    }
    let global = GlobalArgs {
        file: file.unwrap_or_else(|| global.file.clone()),
        strict_templates: global.strict_templates,
    };
    let ctx = super::Context::load(&global, false)?;
    Ok(line(pick(ctx.env()), prefix))
}

pub fn run(global: &GlobalArgs, args: &CompleteArgs) -> super::CommandResult {
    let top = definition();
    let text = match analyse(&top, &args.tokens) {
        Want::Commands(prefix) => line(command_names(&top), &prefix),
        Want::Flags { command, prefix } => line(flag_names(&top, command.as_deref()), &prefix),
        Want::Things { prefix, file } => names(global, file, &prefix, |env| {
            env.services
                .keys()
                .chain(env.instances.keys())
                .cloned()
                .collect()
        })?,
        Want::Ships { prefix, file } => names(global, file, &prefix, |env| {
            env.ships.keys().cloned().collect()
        })?,
        Want::Instances { prefix, file } => names(global, file, &prefix, |env| {
            env.instances.keys().cloned().collect()
        })?,
        Want::Nothing => line(Vec::new(), ""),
    };
    super::print_stdout(&text)?;
    Ok(crate::exit::ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(line: &str) -> Want {
        let tokens: Vec<String> = line.split('|').map(str::to_string).collect();
        analyse(&definition(), &tokens)
    }

    fn things(prefix: &str, file: Option<&str>) -> Want {
        Want::Things {
            prefix: prefix.into(),
            file: file.map(PathBuf::from),
        }
    }

    fn flags(command: Option<&str>, prefix: &str) -> Want {
        Want::Flags {
            command: command.map(str::to_string),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn a_program_name_alone_or_nothing_completes_commands() {
        assert_eq!(analyse(&definition(), &[]), Want::Commands(String::new()));
        assert_eq!(want("maestro"), Want::Commands(String::new()));
        assert_eq!(want("maestro|"), Want::Commands(String::new()));
        assert_eq!(want("maestro|st"), Want::Commands("st".into()));
    }

    #[test]
    fn after_a_command_things_complete() {
        assert_eq!(want("maestro|start|"), things("", None));
        assert_eq!(want("maestro|start|ka"), things("ka", None));
        assert_eq!(want("maestro|stop|web-1|w"), things("w", None));
    }

    #[test]
    fn one_token_holding_the_line_is_split_on_spaces() {
        assert_eq!(want("maestro start ka"), things("ka", None));
        assert_eq!(want("maestro start "), things("", None));
        assert_eq!(want("maestro  st"), Want::Commands("st".into()));
    }

    #[test]
    fn a_flag_value_is_not_a_command_or_a_thing() {
        // MaestroNG counted `x.yaml` as a word and offered things here.
        assert_eq!(want("maestro|-f|x.yaml|st"), Want::Commands("st".into()));
        assert_eq!(want("maestro|start|-c|4|k"), things("k", None));
        assert_eq!(want("maestro|start|-c4|k"), things("k", None));
        assert_eq!(want("maestro|start|--conc|4|k"), things("k", None));
        assert_eq!(want("maestro|start|--concurrency=4|k"), things("k", None));
        assert_eq!(
            want("maestro|start|-C|"),
            Want::Instances {
                prefix: String::new(),
                file: None
            }
        );
        assert_eq!(
            want("maestro|-f|x.yaml|status|--ship-filter|s"),
            Want::Ships {
                prefix: "s".into(),
                file: Some(PathBuf::from("x.yaml"))
            }
        );
        assert_eq!(want("maestro|logs|-n|"), Want::Nothing);
        assert_eq!(want("maestro|-f|"), Want::Nothing);
        // Flags that take no value leave the next word alone.
        assert_eq!(want("maestro|start|-di|k"), things("k", None));
    }

    #[test]
    fn the_file_named_in_the_tokens_is_read() {
        assert_eq!(want("maestro|-f|x.yaml|start|"), things("", Some("x.yaml")));
        assert_eq!(
            want("maestro|--file=y.yaml|start|"),
            things("", Some("y.yaml"))
        );
        assert_eq!(
            want("maestro|start|-fz.yaml|k"),
            things("k", Some("z.yaml"))
        );
        assert_eq!(
            want("maestro|start|--file|w.yaml|k"),
            things("k", Some("w.yaml"))
        );
    }

    #[test]
    fn a_dash_word_completes_flags() {
        assert_eq!(want("maestro|-"), flags(None, "-"));
        assert_eq!(want("maestro|restart|--st"), flags(Some("restart"), "--st"));
        // After `--` everything is a thing.
        assert_eq!(want("maestro|start|--|-x"), things("-x", None));
    }

    #[test]
    fn unknown_commands_and_thingless_commands_offer_nothing() {
        assert_eq!(want("maestro|frobnicate|"), Want::Nothing);
        assert_eq!(want("maestro|validate|"), Want::Nothing);
        assert_eq!(want("maestro|complete|"), Want::Nothing);
        assert_eq!(want("maestro|help|st"), Want::Commands("st".into()));
    }

    #[test]
    fn command_names_are_the_visible_commands() {
        let names = command_names(&definition());
        for name in [
            "status", "start", "stop", "kill", "restart", "pull", "clean", "logs",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        for name in ["deptree", "dump", "validate", "ships", "config"] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        assert!(!names.iter().any(|n| n == "help" || n == "complete"));
        assert_eq!(line(names, "st"), "start status stop\n");
    }

    #[test]
    fn flag_names_include_global_and_command_flags() {
        let top = definition();
        let restart = flag_names(&top, Some("restart"));
        for f in [
            "--step-delay",
            "--stop-start-delay",
            "-s",
            "-a",
            "-f",
            "--file",
            "-h",
        ] {
            assert!(restart.iter().any(|n| n == f), "{f} in {restart:?}");
        }
        assert_eq!(
            line(restart, "--st"),
            "--step-delay --stop-start-delay --strict-templates\n"
        );
        let own = flag_names(&top, None);
        assert!(own.iter().any(|n| n == "-v") && own.iter().any(|n| n == "--version"));
        assert!(flag_names(&top, Some("nope")).is_empty());
    }

    #[test]
    fn candidates_are_sorted_once_each_on_one_line() {
        let names = ["web", "db", "web", "db-1"].map(String::from);
        assert_eq!(line(names.clone(), ""), "db db-1 web\n");
        assert_eq!(line(names, "x"), "\n");
    }
}
