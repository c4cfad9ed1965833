//! `health`: waits for the container's own Docker `HEALTHCHECK` to report
//! `healthy`, within `max_wait` seconds. `unhealthy` fails at once (as
//! Compose's `service_healthy`), and so does a container without a
//! healthcheck: waiting could never help.

use super::backoff::Backoff;
use super::retry::{Attempt, Budget, Verdict, retry_with};
use crate::docker::Docker;
use crate::docker::models::HealthProbe;
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

/// Probes shown with an unhealthy verdict.
const PROBES_SHOWN: usize = 3;
/// Characters of one probe's output shown.
const OUTPUT_SHOWN: usize = 400;

/// The last probes' exit codes and outputs, one indented line each, so
/// the failure says why the check failed.
pub fn last_probes(probes: &[HealthProbe]) -> String {
    if probes.is_empty() {
        return String::new();
    }
    let mut out = String::from("; last probes:");
    for p in &probes[probes.len().saturating_sub(PROBES_SHOWN)..] {
        let text = p.output.trim();
        let mut shown: String = text.chars().take(OUTPUT_SHOWN).collect();
        if shown.len() < text.len() {
            shown.push_str("...");
        }
        let shown = shown.replace('\n', " | ");
        if shown.is_empty() {
            out.push_str(&format!("\n    exit {}, no output", p.exit_code));
        } else {
            out.push_str(&format!("\n    exit {}: {shown}", p.exit_code));
        }
    }
    out
}

/// One `inspect`.
pub fn attempt(docker: &Docker, container: &str) -> Attempt {
    let state = match docker.inspect(container) {
        Ok(d) => d.state,
        Err(e) => return Attempt::Retry(e.to_string()),
    };
    let probes = state
        .health
        .as_ref()
        .and_then(|h| h.log.clone())
        .unwrap_or_default();
    match state.health.map(|h| h.status).as_deref() {
        Some("healthy") => Attempt::Pass,
        Some("unhealthy") => Attempt::Fatal(format!(
            "the container's healthcheck reports unhealthy{}",
            last_probes(&probes)
        )),
        Some("starting") => Attempt::Retry("health: starting".into()),
        None | Some("" | "none") => Attempt::Fatal(
            "the container has no healthcheck (HEALTHCHECK in its image or config)".into(),
        ),
        Some(other) => Attempt::Retry(format!("health: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(exit_code: i64, output: &str) -> HealthProbe {
        HealthProbe {
            exit_code,
            output: output.into(),
        }
    }

    #[test]
    fn the_last_three_probes_are_shown_one_line_each() {
        let probes = [
            probe(1, "first"),
            probe(1, "second\n"),
            probe(2, "no such file\nat line 2"),
            probe(1, ""),
        ];
        assert_eq!(
            last_probes(&probes),
            "; last probes:\n    exit 1: second\n    exit 2: no such file | at line 2\n    exit 1, no output"
        );
        assert_eq!(last_probes(&[]), "");
        let long = "x".repeat(1000);
        let shown = last_probes(&[probe(1, &long)]);
        assert!(shown.ends_with(&format!("{}...", "x".repeat(OUTPUT_SHOWN))));
    }
}
