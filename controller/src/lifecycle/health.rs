//! `health`: waits for the container's own Docker `HEALTHCHECK` to report
//! `healthy`, within `max_wait` seconds. `unhealthy` fails at once (as
//! Compose's `service_healthy`), and so does a container without a
//! healthcheck: waiting could never help.

use super::backoff::Backoff;
use super::retry::{Attempt, Budget, Verdict, retry_with};
use crate::docker::Docker;
use crate::scheduler::CancelToken;

pub fn check(
    docker: &Docker,
    container: Option<&str>,
    max_wait: f64,
    stop: &CancelToken,
) -> Verdict {
    let Some(id) = container else {
        return Verdict::Fatal("there is no container".into());
    };
    retry_with(Budget::seconds(max_wait), Backoff::new(), stop, |_| {
        attempt(docker, id)
    })
}

/// One `inspect`.
pub fn attempt(docker: &Docker, container: &str) -> Attempt {
    let state = match docker.inspect(container) {
        Ok(d) => d.state,
        Err(e) => return Attempt::Retry(e.to_string()),
    };
    match state.health.map(|h| h.status).as_deref() {
        Some("healthy") => Attempt::Pass,
        Some("unhealthy") => Attempt::Fatal("the container's healthcheck reports unhealthy".into()),
        Some("starting") => Attempt::Retry("health: starting".into()),
        None | Some("" | "none") => Attempt::Fatal(
            "the container has no healthcheck (HEALTHCHECK in its image or config)".into(),
        ),
        Some(other) => Attempt::Retry(format!("health: {other}")),
    }
}
