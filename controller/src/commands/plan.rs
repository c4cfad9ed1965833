//! `maestro plan [things] [--format json]`: what each selected instance
//! needs to match the file, and why, without changing anything.
//!
//! Read requests only, in two rounds, ships in parallel:
//! 1. one container list per ship of the file (every ship, so that the
//!    containers of instances removed from the file or moved to another
//!    ship are found: orphans);
//! 2. for maestro's containers of the selected instances: an inspect of
//!    the configured image on the ship (once per image and ship), and an
//!    inspect of each container whose configuration hash differs (plus its
//!    image, only when a value the file does not set may be the image's).
//!
//! Then `plan::deploy` decides, `render::deploy` draws. Exit 0 when nothing
//! would change, 2 when changes are pending, 1 when the plan could not be
//! made (a ship that does not answer, a failed inspection, a bad file or
//! command line).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::context::Clients;
use super::context::request;
use super::{CommandResult, Context};
use crate::cli::{PlanArgs, PlanFormat};
use crate::config::Environment;
use crate::config::model::Instance;
use crate::docker::Docker;
use crate::exit::ExitStatus;
use crate::plan::compare::compare;
use crate::plan::deploy::{self, DeployPlan, Facts, Listed, Lists};
use crate::plan::observe::at_most;
use crate::plan::selection::{Selection, Verb};
use crate::render;

/// Requests in flight at once per ship in the second round.
const PER_SHIP: usize = 8;

pub fn run(ctx: &Context, args: &PlanArgs) -> CommandResult {
    let env = ctx.env();
    // The instances `start` (and `up`) would act on.
    let selection = ctx.select(Verb::Start, &request(&args.selection, false, false))?;
    let things = !args.selection.things.is_empty();
    let (_, plan) = make(env, &selection, things, args.selection.concurrency);
    let text = match args.format {
        PlanFormat::Text => render::deploy::text(&plan),
        PlanFormat::Json => render::deploy::json(&plan),
    };
    super::print_stdout(&text)?;
    Ok(if plan.failed() {
        ExitStatus::Failure
    } else if plan.pending() {
        ExitStatus::ChangesPending
    } else {
        ExitStatus::Success
    })
}

/// The deploy plan of the selected instances, and the clients of every
/// ship of the file it was made with (`up` applies it with them). With
/// `things`, only the orphans of the services of the selected instances.
pub fn make(
    env: &Environment,
    selection: &Selection,
    things: bool,
    concurrency: usize,
) -> (Clients, DeployPlan) {
    let clients = clients(env);
    let lists = list_all(&clients, concurrency);
    let facts = inspect(env, &selection.names, &clients, &lists);
    let services: Option<BTreeSet<String>> = things.then(|| {
        selection
            .names
            .iter()
            .filter_map(|n| env.instances.get(n))
            .map(|i| i.service.clone())
            .collect()
    });
    let plan = deploy::plan(env, &selection.names, &lists, &facts, services.as_ref());
    (clients, plan)
}

/// A client for every ship of the file (warnings shown once).
fn clients(env: &Environment) -> BTreeMap<String, Result<Docker, String>> {
    env.ships
        .iter()
        .map(|(name, ship)| {
            let client = Docker::new(ship).map_err(|e| e.to_string());
            if let Ok(d) = &client
                && let Some(w) = d.warning()
            {
                render::message::ship_warning(name, w);
            }
            (name.to_string(), client)
        })
        .collect()
}

/// Every container of every ship, one list request per ship, at most
/// `limit` at once (0: all at once).
fn list_all(clients: &BTreeMap<String, Result<Docker, String>>, limit: usize) -> Lists {
    let ships: Vec<(&String, &Result<Docker, String>)> = clients.iter().collect();
    let lists = at_most(&ships, limit, |(_, client)| match client {
        Ok(d) => d
            .containers(true, &Default::default())
            .map(|l| l.iter().map(Listed::from_summary).collect())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    });
    ships
        .iter()
        .zip(lists)
        .map(|((ship, _), l)| {
            let l = l.unwrap_or_else(|| Err("internal error: listing panicked".into()));
            ((*ship).clone(), l)
        })
        .collect()
}

/// One read request of the second round.
enum Job<'a> {
    /// The configured image on a ship: its id, `None` when absent.
    Image { ship: &'a str, image: &'a str },
    /// A container whose hash differs: its changed fields.
    Container { instance: &'a Instance, id: &'a str },
}

enum Found {
    Image(Result<Option<String>, String>),
    Changes(Result<BTreeSet<String>, String>),
}

/// The facts every selected instance's decision needs, gathered with as
/// few requests as the lists allow, ships in parallel.
fn inspect(
    env: &Environment,
    selected: &BTreeSet<String>,
    clients: &BTreeMap<String, Result<Docker, String>>,
    lists: &Lists,
) -> HashMap<String, Facts> {
    let mut jobs: BTreeMap<&str, Vec<Job<'_>>> = BTreeMap::new();
    let mut images: BTreeSet<(&str, &str)> = BTreeSet::new();
    for i in selected.iter().filter_map(|n| env.instances.get(n)) {
        let c = deploy::found(lists, i);
        let needs = deploy::needs(&env.name, i, c);
        let ship = i.ship.name.as_str();
        if needs.image && images.insert((ship, i.image.as_str())) {
            jobs.entry(ship).or_default().push(Job::Image {
                ship,
                image: &i.image,
            });
        }
        if needs.container
            && let Some(c) = c
        {
            jobs.entry(ship).or_default().push(Job::Container {
                instance: i,
                id: &c.id,
            });
        }
    }
    let per_ship: Vec<(&str, Vec<Job<'_>>)> = jobs.into_iter().collect();
    let done = at_most(&per_ship, 0, |(ship, jobs)| {
        let Some(Ok(docker)) = clients.get(*ship) else {
            return Vec::new();
        };
        at_most(jobs, PER_SHIP, |job| run_job(env, docker, job))
    });
    let mut by_image: HashMap<(&str, &str), Result<Option<String>, String>> = HashMap::new();
    let mut facts: HashMap<String, Facts> = HashMap::new();
    for ((_, jobs), results) in per_ship.iter().zip(done) {
        for (job, found) in jobs.iter().zip(results.unwrap_or_default()) {
            let found = found.unwrap_or_else(|| match job {
                Job::Image { .. } => Found::Image(Err("internal error: inspect panicked".into())),
                Job::Container { .. } => {
                    Found::Changes(Err("internal error: inspect panicked".into()))
                }
            });
            match (job, found) {
                (Job::Image { ship, image }, Found::Image(r)) => {
                    by_image.insert((ship, image), r);
                }
                (Job::Container { instance, .. }, Found::Changes(r)) => {
                    facts.entry(instance.name.clone()).or_default().changes = Some(r);
                }
                _ => {}
            }
        }
    }
    for i in selected.iter().filter_map(|n| env.instances.get(n)) {
        if let Some(r) = by_image.get(&(i.ship.name.as_str(), i.image.as_str())) {
            facts.entry(i.name.clone()).or_default().ship_image = Some(r.clone());
        }
    }
    facts
}

fn run_job(env: &Environment, docker: &Docker, job: &Job<'_>) -> Found {
    match job {
        Job::Image { image, .. } => Found::Image(match docker.image_inspect(image) {
            Ok(i) => Ok(i.id),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(format!("cannot inspect image {image}: {e}")),
        }),
        Job::Container { instance, id } => Found::Changes(changes(env, docker, instance, id)),
    }
}

/// The fields of `instance`'s container that differ from the file.
fn changes(
    env: &Environment,
    docker: &Docker,
    instance: &Instance,
    id: &str,
) -> Result<BTreeSet<String>, String> {
    let details = docker
        .inspect(id)
        .map_err(|e| format!("cannot inspect {}: {e}", instance.name))?;
    let spec = crate::tasks::container_spec::container_spec(
        &env.name,
        instance,
        &env.container_env(instance),
    );
    let spec = serde_json::to_value(spec).map_err(|e| {
        format!(
            "internal error: the create request of {}: {e}",
            instance.name
        )
    })?;
    let first = compare(instance, &spec, &details.raw, None);
    if !first.needs_image {
        return Ok(first.changed);
    }
    // The image by the id the container runs: its own ENV, CMD, labels.
    let image = docker
        .image_inspect(&details.image)
        .map_err(|e| format!("cannot inspect the image of {}: {e}", instance.name))?;
    let image = serde_json::to_value(image)
        .map_err(|e| format!("internal error: image of {}: {e}", instance.name))?;
    Ok(compare(instance, &spec, &details.raw, Some(&image["Config"])).changed)
}
