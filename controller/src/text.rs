//! Text for messages, shared by layers that must not depend on each other:
//! what a command said, cut down to what a one-line error can carry without
//! leaking secrets (audit scripts, credential helpers), and calendar dates
//! of Unix times (the audit log, the deploy lock's holder).

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

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
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
