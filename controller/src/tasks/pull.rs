//! The pull task: bring an image onto a ship, with live progress and the
//! registry's retry policy. Used by `maestro pull`, and by `start` when
//! the ship lacks an image or `-r` is given.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Duration;

use crate::config::model::Retry;
use crate::docker::{Docker, ErrorKind, PullEvent};
use crate::events::State;
use crate::registry_auth::Credentials;

use crate::scheduler::TaskContext;

/// Time between attempts (MaestroNG's 1 s).
pub const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// How a pull ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulled {
    /// Layers were downloaded: the image is new or changed.
    Downloaded,
    /// The registry has nothing newer than the ship's image.
    UpToDate,
    /// The ship already had the image and no refresh was asked for: the
    /// registry was not contacted.
    Present,
}

/// What to pull and how.
#[derive(Debug, Clone)]
pub struct PullSpec<'a> {
    pub image: &'a str,
    pub credentials: Option<&'a Credentials>,
    /// The registry's retry policy; `None`: one attempt.
    pub retry: Option<&'a Retry>,
    /// Ask the registry even when the ship has the image (`-r`).
    pub refresh: bool,
}

/// Pulls `spec.image` on the ship of `docker`, emitting `pulling N%` on
/// `ctx`. Errors name the ship, the image, the registry and where the
/// credentials came from, never the password.
pub fn pull_image(
    docker: &Docker,
    spec: &PullSpec<'_>,
    ctx: &TaskContext<'_>,
) -> Result<Pulled, String> {
    if !spec.refresh {
        match docker.image_inspect(spec.image) {
            Ok(_) => return Ok(Pulled::Present),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let auth = spec.credentials.map(|c| &c.auth);
    let attempts = spec.retry.map_or(1, |r| r.attempts.max(1));
    let mut attempt = 1;
    loop {
        ctx.emit(State::Pulling { percent: None });
        let mut progress = PullProgress::default();
        let mut up_to_date = false;
        let result = docker.pull_all(spec.image, auth, |ev| {
            // Ctrl-C cuts the pull at its next progress event (the daemon
            // sends several a second while it downloads or extracts).
            if ctx.cancel.is_cancelled() {
                return ControlFlow::Break(());
            }
            if let PullEvent::Status(s) = ev
                && s.starts_with("Status: Image is up to date")
            {
                up_to_date = true;
            }
            if let Some(p) = progress.update(ev) {
                ctx.emit(State::Pulling { percent: Some(p) });
            }
            ControlFlow::Continue(())
        });
        let e = match result {
            Ok(false) => {
                return Err(format!(
                    "the pull of {} was interrupted; the ship does not have it",
                    spec.image
                ));
            }
            Ok(true) if up_to_date => return Ok(Pulled::UpToDate),
            Ok(true) => return Ok(Pulled::Downloaded),
            Err(e) => e,
        };
        // Both the daemon's own status and the registry's, which the
        // daemon quotes in its message: a registry's 503 on the manifest
        // comes back as the daemon's 500 "received unexpected HTTP status:
        // 503 Service Unavailable", and `when: [503]` means that 503.
        let statuses = match &e.kind {
            ErrorKind::Pull {
                status, message, ..
            } => [*status, status_in(message)],
            _ => [e.status(), None],
        };
        let retryable = spec
            .retry
            .is_some_and(|r| statuses.iter().flatten().any(|s| r.when.contains(s)));
        let mut msg = describe(&e.to_string(), spec);
        if retryable && attempt < attempts {
            attempt += 1;
            if ctx.cancel.sleep(RETRY_PAUSE) {
                return Err(format!("{msg} (interrupted before attempt {attempt})"));
            }
            continue;
        }
        if retryable {
            msg.push_str(&format!(" (gave up after {attempts} attempts)"));
        }
        return Err(msg);
    }
}

/// The error with the registry and the credentials' source added, and the
/// password masked should anything ever echo it.
fn describe(error: &str, spec: &PullSpec<'_>) -> String {
    let registry = crate::registry_auth::image_host(spec.image);
    let mut msg = match spec.credentials {
        Some(c) => format!(
            "{error} [registry {registry}, credentials of user `{}` from {}]",
            c.auth.username, c.source
        ),
        None => format!("{error} [registry {registry}, no credentials configured]"),
    };
    if let Some(c) = spec.credentials
        && !c.auth.password.is_empty()
    {
        msg = msg.replace(&c.auth.password, "<redacted>");
    }
    msg
}

/// An HTTP status the daemon quotes in a stream error, e.g.
/// `received unexpected HTTP status: 503 Service Unavailable`.
fn status_in(message: &str) -> Option<u16> {
    let at = message.find("HTTP status: ")? + "HTTP status: ".len();
    message.get(at..at + 3)?.parse().ok()
}

/// The mean progress of the image's layers, as MaestroNG showed it.
#[derive(Debug, Default)]
pub struct PullProgress {
    layers: BTreeMap<String, f64>,
    shown: Option<u8>,
}

impl PullProgress {
    /// Takes one event; returns the percentage when it changed.
    pub fn update(&mut self, ev: &PullEvent) -> Option<u8> {
        let PullEvent::Layer {
            id,
            status,
            current,
            total,
        } = ev
        else {
            return None;
        };
        let done = match status.as_str() {
            "Downloading" => match (current, total) {
                (Some(c), Some(t)) if *t > 0 => (*c as f64 / *t as f64).min(1.0),
                _ => 0.0,
            },
            "Verifying Checksum" | "Download complete" | "Extracting" | "Pull complete"
            | "Already exists" => 1.0,
            _ => self.layers.get(id).copied().unwrap_or(0.0),
        };
        self.layers.insert(id.clone(), done);
        let mean = self.layers.values().sum::<f64>() / self.layers.len() as f64;
        // Whole percent, never more than 100; `as` on a finite value in range.
        let pct = (mean * 100.0).floor().clamp(0.0, 100.0) as u8;
        if self.shown == Some(pct) {
            None
        } else {
            self.shown = Some(pct);
            Some(pct)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::RegistryAuth;

    fn layer(id: &str, status: &str, c: Option<u64>, t: Option<u64>) -> PullEvent {
        PullEvent::Layer {
            id: id.into(),
            status: status.into(),
            current: c,
            total: t,
        }
    }

    #[test]
    fn progress_is_the_mean_over_layers_and_only_reported_on_change() {
        let mut p = PullProgress::default();
        assert_eq!(p.update(&PullEvent::Status("Pulling from x".into())), None);
        assert_eq!(
            p.update(&layer("a", "Pulling fs layer", None, None)),
            Some(0)
        );
        assert_eq!(p.update(&layer("b", "Waiting", None, None)), None);
        assert_eq!(
            p.update(&layer("a", "Downloading", Some(50), Some(100))),
            Some(25)
        );
        assert_eq!(
            p.update(&layer("a", "Downloading", Some(50), Some(100))),
            None
        );
        assert_eq!(
            p.update(&layer("b", "Already exists", None, None)),
            Some(75)
        );
        assert_eq!(
            p.update(&layer("a", "Extracting", Some(1), Some(9))),
            Some(100)
        );
        assert_eq!(p.update(&layer("a", "Pull complete", None, None)), None);
    }

    #[test]
    fn statuses_in_stream_errors() {
        assert_eq!(
            status_in("received unexpected HTTP status: 503 Service Unavailable"),
            Some(503)
        );
        assert_eq!(status_in("manifest unknown"), None);
    }

    #[test]
    fn errors_name_the_registry_and_source_and_mask_the_password() {
        let creds = Credentials {
            auth: RegistryAuth {
                username: "u".into(),
                password: "pw-123".into(),
                server_address: "reg:5000".into(),
            },
            source: "registries.reg".into(),
        };
        let spec = PullSpec {
            image: "reg:5000/a/b:1",
            credentials: Some(&creds),
            retry: None,
            refresh: false,
        };
        let m = describe("denied for pw-123", &spec);
        assert_eq!(
            m,
            "denied for <redacted> [registry reg:5000, credentials of user `u` from registries.reg]"
        );
    }
}
