//! Short forms of text for messages: what a command said, cut down to
//! what a one-line error can carry without leaking secrets. Shared by the
//! layers that run programs (audit scripts, credential helpers).

/// The last three non-empty lines of standard error, at most 300
/// characters; a line mentioning a password, secret, token or key is
/// replaced by a note.
pub fn summarise(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail: Vec<String> = lines[lines.len().saturating_sub(3)..]
        .iter()
        .map(|l| {
            let lower = l.to_lowercase();
            if [
                "password",
                "passwd",
                "secret",
                "token",
                "key",
                "authorization",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                "<a line that may hold a secret>".to_string()
            } else {
                (*l).to_string()
            }
        })
        .collect();
    let joined = tail.join(" / ");
    if joined.chars().count() > 300 {
        let cut: String = joined.chars().take(300).collect();
        format!("{cut}...")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_summary_keeps_the_end_and_hides_secret_lines() {
        assert_eq!(summarise("a\n\nb\nc\nd\n"), "b / c / d");
        assert_eq!(
            summarise("x\nPASSWORD=hunter2\n"),
            "x / <a line that may hold a secret>"
        );
        assert_eq!(summarise(&"y".repeat(400)).len(), 303);
        assert_eq!(summarise(""), "");
    }
}
