//! `maestro pull [things]`: pulls each selected instance's image on its
//! ship, every ship at once, with live progress per row.
//!
//! Pulls are independent of each other, so the play has no dependency
//! edges (MaestroNG's `-i`): ordering them would only make the play
//! slower. Two instances with the same image on the same ship share one
//! pull: the second waits for the first and finds the image there.

use std::collections::BTreeMap;

use super::context::{Clients, request};
use super::{CommandResult, Context};
use crate::audit::PlayInfo;
use crate::cli::{PullArgs, Selection};
use crate::config::model::Environment;
use crate::events::State;
use crate::plan::selection::{self, SelectError, Verb};
use crate::registry_auth::{self, Lookup};
use crate::scheduler::{Completion, Direction, Play, Task, TaskFailure};
use crate::tasks::pull::{PullSpec, Pulled, pull_image};

pub fn run(ctx: &Context, args: &PullArgs) -> CommandResult {
    let selection = ctx.select(Verb::Pull, &request(&args.selection, true, false))?;
    let _lock = ctx.lock("pull", &args.lock)?;
    let clients = ctx.clients(&selection);
    run_play(
        ctx.env(),
        &selection.ordered,
        &clients,
        args,
        &Lookup::from_process(),
    )
}

/// The selected instances in dependency order (the rows' order). Things
/// resolve as for `start` (MaestroNG's rules for pull are the same): no
/// things means every service not marked `omit` with what it requires
/// (unless `-i`), `-d` adds what the things require, `-C`/`-S` filter.
pub fn select(env: &Environment, sel: &Selection) -> Result<Vec<String>, SelectError> {
    selection::select(env, Verb::Pull, &request(sel, true, false)).map(|s| s.ordered)
}

/// Runs the pull play over `selected` (one client per ship in play; a
/// ship whose client could not be built fails its rows with the reason).
pub fn run_play(
    env: &Environment,
    selected: &[String],
    dockers: &Clients,
    args: &PullArgs,
    lookup: &Lookup,
) -> CommandResult {
    let info = PlayInfo::new("pull", selected.to_vec());
    let creds = registry_auth::for_instances(env, selected.iter().map(String::as_str), lookup);

    let mut first_of: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    let mut nodes = Vec::new();
    for name in selected {
        let Some(inst) = env.instances.get(name) else {
            continue;
        };
        let key = (inst.ship.name.as_str(), inst.image.as_str());
        let deps: Vec<String> = first_of
            .get(&key)
            .map(|d| d.to_string())
            .into_iter()
            .collect();
        first_of.entry(key).or_insert(name.as_str());
        let docker = &dockers[&inst.ship.name];
        let creds = &creds[inst.image.as_str()];
        let retry = env.registry_for(&inst.image).map(|r| &r.retry);
        let image = inst.image.as_str();
        let refresh = args.refresh;
        nodes.push(Task::new(
            name.as_str(),
            inst.service.as_str(),
            inst.ship.name.as_str(),
            deps,
            move |ctx| {
                let docker = docker.as_ref().map_err(|e| TaskFailure::fatal(e.clone()))?;
                let credentials = creds
                    .as_ref()
                    .map_err(|e| TaskFailure::fatal(e.clone()))?
                    .as_ref();
                let spec = PullSpec {
                    image,
                    credentials,
                    retry,
                    refresh,
                };
                match pull_image(docker, &spec, ctx).map_err(TaskFailure::fatal)? {
                    Pulled::Downloaded => ctx.emit(State::Done),
                    Pulled::UpToDate | Pulled::Present => ctx.emit(State::UpToDate),
                }
                Ok(Completion::Done)
            },
        ));
    }
    let play = Play {
        command: "pull".into(),
        direction: Direction::Forward,
        limits: super::play::limits(env, args.selection.concurrency),
        nodes,
    };
    let report = super::play::run_audited(env, &info, args.progress, play, |r| {
        match r.summary.failures.first() {
            Some(f) => format!("{}: {}", f.id, f.message),
            None => "interrupted".into(),
        }
    })?;
    Ok(report.summary.exit_status())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "name: t\nships:\n  s: {ip: 127.0.0.1}\nservices:\n  db:\n    image: db\n    instances:\n      db-1: {ship: s}\n  web:\n    image: web\n    requires: [db]\n    instances:\n      web-2: {ship: s}\n      web-1: {ship: s}\n  tool:\n    image: tool\n    omit: true\n    instances:\n      tool-1: {ship: s}\n";

    #[test]
    fn selection_of_things_in_dependency_order() {
        let env = crate::config::load_str(ENV, std::path::Path::new("/tmp")).unwrap();
        let sel = |things: &[&str], deps: bool, ignore: bool| {
            let s = Selection {
                things: things.iter().map(|s| s.to_string()).collect(),
                with_dependencies: deps,
                ignore_dependencies: ignore,
                container_filter: None,
                ship_filter: None,
                concurrency: 0,
            };
            select(&env, &s)
        };
        assert_eq!(sel(&[], false, false).unwrap(), ["db-1", "web-1", "web-2"]);
        assert_eq!(sel(&["web"], false, false).unwrap(), ["web-1", "web-2"]);
        assert_eq!(sel(&["web-2"], true, false).unwrap(), ["db-1", "web-2"]);
        assert_eq!(sel(&["tool"], false, false).unwrap(), ["tool-1"]);
        let e = sel(&["wbe"], false, false).unwrap_err();
        assert!(
            e.message()
                .contains("wbe is neither a service nor a container"),
            "{e:?}"
        );
    }
}
