//! The words auditors send (reference section 9): who did what to which
//! containers, and how it ended.

use super::PlayInfo;

/// Which moment of a play is being reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase<'a> {
    /// The play is about to start.
    Action,
    Success,
    /// The play failed with this message.
    Error(&'a str),
}

impl Phase<'_> {
    /// `action`, `success` or `error`: the `{event}` of templates.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Action => "action",
            Phase::Success => "success",
            Phase::Error(_) => "error",
        }
    }

    /// The log level the message is written with.
    pub fn level(&self) -> &'static str {
        match self {
            Phase::Error(_) => "ERROR",
            _ => "INFO",
        }
    }
}

/// The names in compact form: one name, a comma list of fewer than five,
/// else `N containers`.
pub fn compact(what: &[String]) -> String {
    match what.len() {
        1 => what[0].clone(),
        n if n < 5 => what.join(", "),
        n => format!("{n} containers"),
    }
}

/// Every name, comma-separated (the `log` auditor's form).
pub fn full(what: &[String]) -> String {
    what.join(", ")
}

/// `stop` -> `stopping`, `start` -> `starting`.
fn gerund(action: &str) -> String {
    match action {
        "stop" => "stopping".into(),
        "" => "working on".into(),
        a => match a.strip_suffix('e') {
            Some(stem) => format!("{stem}ing"),
            None => format!("{a}ing"),
        },
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The sentence for `phase`, with `what` already in the wanted form:
/// "alice is starting web-1.", "Start of web-1 succeeded.",
/// "Failed to start web-1! (message: ...)".
pub fn text(play: &PlayInfo, what: &str, phase: Phase<'_>) -> String {
    match phase {
        Phase::Action => format!("{} is {} {what}.", play.who, gerund(&play.action)),
        Phase::Success => match &play.outcome {
            Some(o) => format!("{} of {what} succeeded ({o}).", capitalised(&play.action)),
            None => format!("{} of {what} succeeded.", capitalised(&play.action)),
        },
        Phase::Error(msg) => format!("Failed to {} {what}! (message: {msg})", play.action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn play(action: &str, n: usize) -> PlayInfo {
        PlayInfo {
            action: action.into(),
            what: (1..=n).map(|i| format!("web-{i}")).collect(),
            who: "alice".into(),
            outcome: None,
        }
    }

    #[test]
    fn a_success_says_what_the_play_did() {
        let mut p = play("up", 1);
        p.outcome = Some("1 created (web-1)".into());
        assert_eq!(
            text(&p, "web-1", Phase::Success),
            "Up of web-1 succeeded (1 created (web-1))."
        );
    }

    #[test]
    fn compact_and_full_forms() {
        assert_eq!(compact(&play("start", 1).what), "web-1");
        assert_eq!(
            compact(&play("start", 4).what),
            "web-1, web-2, web-3, web-4"
        );
        assert_eq!(compact(&play("start", 5).what), "5 containers");
        assert_eq!(
            full(&play("start", 5).what),
            "web-1, web-2, web-3, web-4, web-5"
        );
    }

    #[test]
    fn sentences_as_maestrong_writes_them() {
        let p = play("start", 1);
        assert_eq!(text(&p, "web-1", Phase::Action), "alice is starting web-1.");
        assert_eq!(
            text(&p, "web-1", Phase::Success),
            "Start of web-1 succeeded."
        );
        assert_eq!(
            text(&p, "web-1", Phase::Error("boom")),
            "Failed to start web-1! (message: boom)"
        );
        let s = play("stop", 2);
        assert_eq!(
            text(&s, &compact(&s.what), Phase::Action),
            "alice is stopping web-1, web-2."
        );
        for (a, g) in [
            ("kill", "killing"),
            ("restart", "restarting"),
            ("pull", "pulling"),
            ("clean", "cleaning"),
        ] {
            assert_eq!(
                text(&play(a, 1), "x", Phase::Action),
                format!("alice is {g} x.")
            );
        }
        assert_eq!(
            text(&play("pull", 1), "x", Phase::Success),
            "Pull of x succeeded."
        );
    }
}
