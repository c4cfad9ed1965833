//! The deploy lock: one changing command at a time per environment, also
//! between machines.
//!
//! The lock is a container named `maestro-lock.<environment>` on the
//! environment's first ship (by name), created and never started. Docker
//! refuses a second container of the same name, so creating it is the
//! atomic "take", wherever the command runs; removing it (by the id we
//! created) is the "release". Its labels say who holds it: user, host,
//! process id, command and since when. The container is made from a tiny
//! image of no files, `maestro-lock:1`, imported on the ship the first time
//! (no registry is needed).
//!
//! The lock goes on the first ship by name that answers: a ship that is
//! down does not stop the environment's other ships from being worked on,
//! and two commands that see the same ships answer pick the same one.
//!
//! Failure cases: a holder killed with SIGKILL (or a machine that died)
//! leaves a stale lock, which `maestro lock release` removes after showing
//! who held it; two machines that disagree on whether the first ship
//! answers (a network split) can each take a lock on a different ship;
//! when no ship answers, the command fails, and `--no-lock` lets it go
//! ahead unguarded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::ship::{Ship, ShipRef};
use crate::docker::models::ContainerCreateBody;
use crate::docker::{Docker, Error as DockerError};
use crate::scheduler::CancelToken;

/// The image of lock containers.
pub const IMAGE_REPO: &str = "maestro-lock";
pub const IMAGE_TAG: &str = "1";

/// Labels of a lock container.
const LABEL_LOCK: &str = "maestro.lock";
const LABEL_USER: &str = "maestro.lock.user";
const LABEL_HOST: &str = "maestro.lock.host";
const LABEL_PID: &str = "maestro.lock.pid";
const LABEL_COMMAND: &str = "maestro.lock.command";
const LABEL_SINCE: &str = "maestro.lock.since";

/// How often a waiting command tries again.
const RETRY: Duration = Duration::from_millis(500);
/// How long a refusal waits for a holder whose container Docker has named
/// but not yet shown, so that the refusal can say who holds the lock.
const SETTLE: Duration = Duration::from_secs(2);

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub command: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
}

impl Holder {
    /// This process, about to run `command`.
    pub fn me(command: &str) -> Self {
        Holder {
            user: crate::audit::current_user(),
            host: host_name(),
            pid: std::process::id(),
            command: command.to_string(),
            since: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    fn labels(&self, environment: &str) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_LOCK.to_string(), environment.to_string()),
            (LABEL_USER.to_string(), self.user.clone()),
            (LABEL_HOST.to_string(), self.host.clone()),
            (LABEL_PID.to_string(), self.pid.to_string()),
            (LABEL_COMMAND.to_string(), self.command.clone()),
            (LABEL_SINCE.to_string(), self.since.to_string()),
        ])
    }

    fn from_labels(labels: &HashMap<String, String>) -> Self {
        let get = |k: &str| labels.get(k).cloned().unwrap_or_else(|| "?".into());
        Holder {
            user: get(LABEL_USER),
            host: get(LABEL_HOST),
            pid: labels
                .get(LABEL_PID)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            command: get(LABEL_COMMAND),
            since: labels
                .get(LABEL_SINCE)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        }
    }
}

impl std::fmt::Display for Holder {
    /// `alice@build-7 (pid 4242, maestro start, since 2026-11-30 07:20:00 UTC)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{} (pid {}, maestro {}, since {})",
            self.user,
            self.host,
            self.pid,
            self.command,
            utc_text(self.since)
        )
    }
}

/// The lock container's name for an environment: Docker allows
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, so other characters become `-`.
pub fn container_name(environment: &str) -> String {
    let safe: String = environment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("maestro-lock.{safe}")
}

/// The ships that may hold an environment's lock, in the order they are
/// tried: by name. The lock goes on the first that answers, so a ship that
/// is down fails only its own tasks, as in every play.
pub fn lock_ships(
    ships: &std::collections::BTreeMap<String, ShipRef>,
) -> impl Iterator<Item = &Ship> {
    ships.values().map(|s| &**s)
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Someone else holds it (and kept it for the whole wait).
    Held { holder: Holder, ship: String },
    /// The ship that holds locks did not answer or refused.
    Ship(DockerError),
    /// Ctrl-C while waiting.
    Interrupted,
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held { holder, ship } => write!(
                f,
                "the environment is locked by {holder} (on ship `{ship}`); wait with \
                 --lock-timeout SECONDS, or remove a stale lock with `maestro lock release`"
            ),
            LockError::Ship(e) => write!(
                f,
                "cannot take the deploy lock: {e}; --no-lock goes ahead without it"
            ),
            LockError::Interrupted => write!(f, "interrupted while waiting for the deploy lock"),
        }
    }
}

/// A lock this process holds, released when dropped (or by [`release`]).
pub struct DeployLock {
    docker: Docker,
    id: String,
}

impl DeployLock {
    /// Takes the lock of `environment` on `ship`, waiting up to `timeout`
    /// (zero: one try) while someone else holds it; `cancel` ends the wait,
    /// `on_wait` hears who holds it when the wait begins.
    pub fn acquire(
        ship: &Ship,
        environment: &str,
        me: &Holder,
        timeout: Duration,
        cancel: &CancelToken,
        on_wait: impl FnOnce(&Holder),
    ) -> Result<Self, LockError> {
        let mut on_wait = Some(on_wait);
        let docker = Docker::new(ship).map_err(LockError::Ship)?;
        let name = container_name(environment);
        let body = ContainerCreateBody {
            image: Some(format!("{IMAGE_REPO}:{IMAGE_TAG}")),
            // Never started; Docker wants a command all the same.
            cmd: Some(vec!["maestro-lock".into()]),
            labels: Some(me.labels(environment)),
            network_disabled: Some(true),
            ..Default::default()
        };
        let deadline = Instant::now() + timeout;
        let mut imported = false;
        loop {
            // Held across the create: a second Ctrl-C waits for it, then
            // removes what it made, instead of exiting mid-request.
            let mut held = held();
            match docker.create(&name, &body) {
                Ok(created) => {
                    *held = Some((ship.clone(), created.id.clone()));
                    return Ok(DeployLock {
                        docker,
                        id: created.id,
                    });
                }
                Err(e) if e.is_not_found() && !imported => {
                    imported = true;
                    docker
                        .import_image(IMAGE_REPO, IMAGE_TAG, empty_tar())
                        .map_err(LockError::Ship)?;
                }
                Err(e) if e.status() == Some(409) => {
                    if Instant::now() >= deadline {
                        match holder(&docker, &name).map_err(LockError::Ship)? {
                            // Docker reserves the name before the other
                            // command's container can be inspected (or it
                            // was just released): look again shortly.
                            None if Instant::now() < deadline + SETTLE => {
                                if cancel.sleep(Duration::from_millis(50)) {
                                    return Err(LockError::Interrupted);
                                }
                                continue;
                            }
                            holder => {
                                return Err(LockError::Held {
                                    holder: holder
                                        .unwrap_or_else(|| Holder::from_labels(&HashMap::new())),
                                    ship: ship.name.clone(),
                                });
                            }
                        }
                    }
                    if let Some(tell) = on_wait.take()
                        && let Ok(Some(holder)) = holder(&docker, &name)
                    {
                        tell(&holder);
                    }
                    let pause = RETRY.min(deadline.saturating_duration_since(Instant::now()));
                    if cancel.sleep(pause) {
                        return Err(LockError::Interrupted);
                    }
                }
                Err(e) => return Err(LockError::Ship(e)),
            }
        }
    }

    /// Releases the lock now, saying so when that fails.
    pub fn release(mut self) -> Result<(), DockerError> {
        let id = std::mem::take(&mut self.id);
        self.remove(&id)
    }

    /// Removes the lock container, holding [`HELD`] meanwhile: a second
    /// Ctrl-C during the removal waits for it to end before the process
    /// exits (an exit mid-request lets the daemon abandon the removal,
    /// and the lock would stay).
    fn remove(&self, id: &str) -> Result<(), DockerError> {
        let mut held = held();
        let removed = self.docker.remove(id, false, true);
        if held.as_ref().is_some_and(|(_, held_id)| held_id == id) {
            *held = None;
        }
        removed
    }
}

impl Drop for DeployLock {
    fn drop(&mut self) {
        if !self.id.is_empty() {
            let _ = self.remove(&self.id);
        }
    }
}

/// Who holds the lock of `name` on this ship, if anyone.
fn holder(docker: &Docker, name: &str) -> Result<Option<Holder>, DockerError> {
    match docker.inspect(name) {
        Ok(d) => Ok(Some(Holder::from_labels(
            &d.config.labels.clone().unwrap_or_default(),
        ))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `maestro lock status`: who holds the environment's lock, and on which
/// ship (looking at each ship in the order locks are taken; one that does
/// not answer is skipped and named in `unreachable`).
pub fn status<'s>(
    ships: impl Iterator<Item = &'s Ship>,
    environment: &str,
    unreachable: &mut Vec<String>,
) -> Result<Option<(Holder, String)>, DockerError> {
    let name = container_name(environment);
    for ship in ships {
        let found = Docker::new(ship).and_then(|docker| holder(&docker, &name));
        match found {
            Ok(Some(holder)) => return Ok(Some((holder, ship.name.clone()))),
            Ok(None) => {}
            Err(e) if e.is_unreachable() => unreachable.push(ship.name.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// `maestro lock release`: removes the environment's lock on every ship
/// that answers, whoever holds it; returns who held each.
pub fn break_lock<'s>(
    ships: impl Iterator<Item = &'s Ship>,
    environment: &str,
    unreachable: &mut Vec<String>,
) -> Result<Vec<(Holder, String)>, DockerError> {
    let name = container_name(environment);
    let mut released = Vec::new();
    for ship in ships {
        let docker = match Docker::new(ship) {
            Ok(d) => d,
            Err(e) if e.is_unreachable() => {
                unreachable.push(ship.name.clone());
                continue;
            }
            Err(e) => return Err(e),
        };
        match holder(&docker, &name) {
            Ok(Some(held)) => {
                match docker.remove(&name, false, true) {
                    Err(e) if !e.is_not_found() => return Err(e),
                    _ => {}
                }
                released.push((held, ship.name.clone()));
            }
            Ok(None) => {}
            Err(e) if e.is_unreachable() => unreachable.push(ship.name.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok(released)
}

/// The lock this process holds, for a second Ctrl-C: the process exits at
/// once, and releases it first. Taking and releasing the lock hold this
/// mutex across their request, so the exit waits for them.
static HELD: Mutex<Option<(Ship, String)>> = Mutex::new(None);

fn held() -> std::sync::MutexGuard<'static, Option<(Ship, String)>> {
    HELD.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Releases the lock this process holds, if any: for an exit that skips
/// destructors (a second Ctrl-C). A take or a release in flight is waited
/// for, and none starts afterwards: the caller is about to exit.
pub fn release_held() {
    let mut held = held();
    if let Some((ship, id)) = held.take()
        && let Ok(docker) = Docker::new(&ship)
    {
        let _ = docker.remove(&id, false, true);
    }
    // Kept locked until the process exits: no lock is taken after this.
    std::mem::forget(held);
}

/// An empty tar archive (two zero blocks): the lock image's file system.
fn empty_tar() -> Vec<u8> {
    vec![0; 1024]
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "?".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `2026-11-30 07:20:00 UTC`.
fn utc_text(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = crate::text::civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_container_names() {
        assert_eq!(container_name("prod"), "maestro-lock.prod");
        assert_eq!(container_name("zk kafka/été"), "maestro-lock.zk-kafka--t-");
    }

    #[test]
    fn holders_round_trip_through_labels_and_read_as_a_sentence() {
        let h = Holder {
            user: "alice".into(),
            host: "build-7".into(),
            pid: 4242,
            command: "start".into(),
            since: 1_795_936_800,
        };
        assert_eq!(Holder::from_labels(&h.labels("prod")), h);
        assert_eq!(
            h.to_string(),
            "alice@build-7 (pid 4242, maestro start, since 2026-11-29 07:20:00 UTC)"
        );
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
