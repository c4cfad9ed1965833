//! The lines of `maestro export`: findings (warnings, or with `--strict`
//! errors) and refusals, each naming the instance and the key.

use crate::export::swarm::{Finding, Refusal};

/// `<instance>: <key>: <message>`, as a warning's text.
pub fn finding(f: &Finding) -> String {
    format!("{}: {}: {}", f.instance, f.key, f.message)
}

/// The error of `--strict`: every finding, one per line.
pub fn strict(findings: &[Finding]) -> String {
    let mut text = format!(
        "the stack cannot carry {} setting{} of the file (--strict):",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    for f in findings {
        text.push_str("\n  ");
        text.push_str(&finding(f));
    }
    text
}

/// Why nothing was exported: every refusal, one per line.
pub fn refusals(refusals: &[Refusal]) -> String {
    let mut text = String::from("refusing to export:");
    for r in refusals {
        text.push_str(&format!("\n  {}: {}", r.instance, r.message));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let f = Finding {
            instance: "web-1".into(),
            key: "privileged".into(),
            message: "no".into(),
        };
        assert_eq!(finding(&f), "web-1: privileged: no");
        assert_eq!(
            strict(&[f.clone(), f]),
            "the stack cannot carry 2 settings of the file (--strict):\n  web-1: privileged: no\n  web-1: privileged: no"
        );
        let r = Refusal {
            instance: "db-1".into(),
            message: "env.PASSWORD holds a secret".into(),
        };
        assert_eq!(
            refusals(&[r]),
            "refusing to export:\n  db-1: env.PASSWORD holds a secret"
        );
    }
}
