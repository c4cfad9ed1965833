//! What every command starts from, built once from the global flags: the
//! loaded environment; and what commands ask of it: the selection of
//! things, one Docker client per ship involved, what the ships hold now.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::{GlobalArgs, LockArgs};
use crate::config::{self, Environment, LoadOptions, Loaded};
use crate::docker::Docker;
use crate::exit::Failed;
use crate::lock::{self, DeployLock};
use crate::plan::observe::{self, Observed};
use crate::plan::selection::{self, Request, Selection, Verb};

/// One client per ship involved, by ship name; a ship whose client could
/// not be built (unreadable TLS files) holds the reason instead.
pub type Clients = BTreeMap<String, Result<Docker, String>>;

pub struct Context {
    global: GlobalArgs,
    loaded: Loaded,
}

impl Context {
    /// Reads, renders and validates the environment file named by the
    /// global flags, with the configuration hashes when `hashes` (see
    /// `LoadOptions`). Every problem of the file is in the error.
    pub fn load(global: &GlobalArgs, hashes: bool) -> Result<Self, Failed> {
        let opts = LoadOptions {
            hashes,
            ..LoadOptions::from_process(global.strict_templates)
        };
        let loaded = config::load(&global.file, &opts).map_err(|e| Failed {
            status: e.exit_status(),
            message: e.to_string(),
        })?;
        Ok(Context {
            global: global.clone(),
            loaded,
        })
    }

    /// The global flags it was built from.
    pub fn global(&self) -> &GlobalArgs {
        &self.global
    }

    /// The environment file as given (`-f`).
    pub fn file(&self) -> &Path {
        &self.global.file
    }

    pub fn env(&self) -> &Environment {
        &self.loaded.env
    }

    /// The environment and the YAML tree it came from (`dump -c`).
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Resolves the things of the command line for `verb`.
    pub fn select(&self, verb: Verb, req: &Request) -> Result<Selection, Failed> {
        selection::select(self.env(), verb, req).map_err(|e| Failed {
            status: e.exit_status(),
            message: format!("maestro: {}", e.message()),
        })
    }

    /// A client for every ship that holds a selected instance. A ship's
    /// warning (e.g. certificate checks off) is shown once, here.
    pub fn clients(&self, selection: &Selection) -> Clients {
        let env = self.env();
        let mut out = Clients::new();
        for name in &selection.names {
            let Some(i) = env.instances.get(name) else {
                continue;
            };
            if out.contains_key(&i.ship.name) {
                continue;
            }
            let client = Docker::new(&i.ship).map_err(|e| e.to_string());
            if let Ok(d) = &client
                && let Some(w) = d.warning()
            {
                crate::render::message::ship_warning(&i.ship.name, w);
            }
            out.insert(i.ship.name.clone(), client);
        }
        out
    }

    /// Takes the environment's deploy lock for `command` (see `lock.rs`);
    /// `None` with `--no-lock`. Released when the returned guard is
    /// dropped, also on failure.
    pub fn lock(&self, command: &str, args: &LockArgs) -> Result<Option<DeployLock>, Failed> {
        if args.no_lock {
            return Ok(None);
        }
        let env = self.env();
        let me = lock::Holder::me(command);
        let timeout = std::time::Duration::from_secs(args.lock_timeout);
        // Ctrl-C from here on releases the lock (and cuts a wait short).
        let cancel = super::play::interrupt_token();
        // A command interrupted before this point (`up` looks at the ships
        // first) changes nothing, not even the lock.
        if cancel.is_cancelled() {
            return Err(Failed {
                status: crate::exit::ExitStatus::Interrupted,
                message:
                    "maestro: interrupted before the deploy lock was taken; nothing was changed"
                        .into(),
            });
        }
        let mut down: Vec<String> = Vec::new();
        for ship in lock::lock_ships(&env.ships) {
            let on_wait = |holder: &lock::Holder| {
                crate::render::message::note(format_args!(
                    "waiting up to {}s for the deploy lock, held by {holder}",
                    args.lock_timeout
                ));
            };
            match DeployLock::acquire(ship, &env.name, &me, timeout, &cancel, on_wait) {
                Ok(held) => {
                    if !down.is_empty() {
                        crate::render::message::warning(format_args!(
                            "the deploy lock is on ship `{}`: {} did not answer",
                            ship.name,
                            down.join(", ")
                        ));
                    }
                    return Ok(Some(held));
                }
                Err(lock::LockError::Ship(e)) if e.is_unreachable() => down.push(ship.name.clone()),
                Err(lock::LockError::Interrupted) => {
                    return Err(Failed {
                        status: crate::exit::ExitStatus::Interrupted,
                        message: "maestro: interrupted while waiting for the deploy lock".into(),
                    });
                }
                Err(e) => return Err(Failed::failure(e)),
            }
        }
        if down.is_empty() {
            // An environment without ships has nothing to guard.
            return Ok(None);
        }
        Err(Failed::failure(format_args!(
            "cannot take the deploy lock: no ship answered ({}); --no-lock goes ahead without it",
            down.join(", ")
        )))
    }

    /// What the ships hold for the selected instances: one list request per
    /// ship, at most `limit` at once (0: every ship at once).
    pub fn observe(&self, selection: &Selection, clients: &Clients, limit: usize) -> Observed {
        observe::observe_limited(self.env(), &selection.names, clients, limit)
    }
}

/// The selection request of a command's flags.
pub fn request(sel: &crate::cli::Selection, expand_services: bool, all: bool) -> Request {
    Request {
        things: sel.things.clone(),
        with_dependencies: sel.with_dependencies,
        ignore_dependencies: sel.ignore_dependencies,
        expand_services,
        all,
        container_filter: sel.container_filter.clone(),
        ship_filter: sel.ship_filter.clone(),
    }
}
