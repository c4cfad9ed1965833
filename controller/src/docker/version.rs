//! Engine API version negotiation: the lower of ours and the daemon's.

/// The API version our models (bollard-stubs) are written against.
pub const OURS: &str = "1.53";

/// Compares dotted versions numerically (`1.9` < `1.41`); missing parts are 0.
pub fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| -> Vec<u64> {
        s.trim()
            .split('.')
            .map(|p| p.trim().parse::<u64>().unwrap_or(0))
            .collect()
    };
    let (a, b) = (parse(a), parse(b));
    let n = a.len().max(b.len());
    for i in 0..n {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            std::cmp::Ordering::Equal => continue,
            other => return other,
        }
    }
    std::cmp::Ordering::Equal
}

/// Picks the version to speak: the daemon's maximum when it is older than
/// ours, else ours. `Err` (with a reason) when ours is below the daemon's
/// minimum, i.e. the daemon is too new for this maestro.
pub fn negotiate(ours: &str, daemon_max: &str, daemon_min: Option<&str>) -> Result<String, String> {
    if daemon_max.trim().is_empty() {
        return Err("the daemon did not report its API version".into());
    }
    let pick = if compare(daemon_max, ours).is_lt() {
        daemon_max
    } else {
        ours
    };
    if let Some(min) = daemon_min.filter(|m| !m.trim().is_empty())
        && compare(pick, min).is_lt()
    {
        return Err(format!(
            "the daemon accepts API {min} to {daemon_max}, this maestro speaks up to {ours}"
        ));
    }
    Ok(pick.trim().to_string())
}

/// Recognises dockerd's answer to an unsupported version, e.g.
/// "client version 1.53 is too new. Maximum supported API version is 1.41".
pub fn is_version_rejection(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("client version") && (m.contains("too new") || m.contains("too old"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_numerically() {
        assert!(compare("1.9", "1.41").is_lt());
        assert!(compare("1.41", "1.53").is_lt());
        assert!(compare("1.53", "1.53.0").is_eq());
        assert!(compare("2.0", "1.99").is_gt());
    }

    #[test]
    fn older_daemon_lands_on_its_version() {
        assert_eq!(negotiate(OURS, "1.41", Some("1.12")).unwrap(), "1.41");
    }

    #[test]
    fn newer_daemon_lands_on_ours() {
        assert_eq!(negotiate("1.53", "1.54", Some("1.44")).unwrap(), "1.53");
    }

    #[test]
    fn daemon_too_new_is_an_error() {
        let e = negotiate("1.41", "1.60", Some("1.44")).unwrap_err();
        assert!(e.contains("1.44 to 1.60"));
        assert!(negotiate("1.41", "", None).is_err());
    }

    #[test]
    fn recognises_rejections() {
        assert!(is_version_rejection(
            "client version 1.53 is too new. Maximum supported API version is 1.41"
        ));
        assert!(!is_version_rejection("No such container: x"));
    }
}
