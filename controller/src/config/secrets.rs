//! Which environment values are secret, for everything that shows a
//! container's environment (`dump`, `config`) without `--show-secrets`.
//!
//! A variable's value is secret when
//! - its name contains one of the words of the top-level `secret_names`
//!   (default `PASSWORD`, `SECRET`, `TOKEN`, `KEY`; compared without regard
//!   to case; `secret_names: []` turns this rule off), or
//! - its name is listed in the `secrets` of its service or of its instance
//!   (an instance's list adds to its service's).
//!
//! Variables maestro computes (the link variables that say where the
//! dependencies live) are never secret: they are addresses and ports, and
//! the reason to show environments at all. Registry passwords, auditor
//! tokens and HTTP check headers are redacted by `dump` whatever their names.

use std::collections::{BTreeMap, BTreeSet};

use super::reader::{Reader, join};
use super::yaml::Node;

/// The words that make a variable's name secret when `secret_names` is not given.
pub const DEFAULT_SECRET_NAMES: [&str; 4] = ["PASSWORD", "SECRET", "TOKEN", "KEY"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    /// Upper-cased words; a name containing one is secret.
    pub names: Vec<String>,
    /// Service `secrets`, by service name.
    pub services: BTreeMap<String, BTreeSet<String>>,
    /// Instance `secrets`, by instance name (without the service's).
    pub instances: BTreeMap<String, BTreeSet<String>>,
}

impl Default for Secrets {
    fn default() -> Self {
        Secrets {
            names: DEFAULT_SECRET_NAMES.iter().map(|s| s.to_string()).collect(),
            services: BTreeMap::new(),
            instances: BTreeMap::new(),
        }
    }
}

impl Secrets {
    /// Whether the name alone makes a value secret (`secret_names`).
    pub fn name_is_secret(&self, var: &str) -> bool {
        if self.names.is_empty() {
            return false;
        }
        let up = var.to_uppercase();
        self.names.iter().any(|w| up.contains(w.as_str()))
    }

    /// Whether the value of `var` in the container of `instance` (of
    /// `service`) is secret. Link variables are not asked about.
    pub fn is_secret(&self, service: &str, instance: &str, var: &str) -> bool {
        self.name_is_secret(var)
            || self.services.get(service).is_some_and(|s| s.contains(var))
            || self
                .instances
                .get(instance)
                .is_some_and(|s| s.contains(var))
    }

    /// Whether `var` is secret anywhere in the file: for the parsed file
    /// (`dump -c`), where an `env` mapping is shown without knowing whose
    /// list applies.
    pub fn is_secret_anywhere(&self, var: &str) -> bool {
        self.name_is_secret(var)
            || self
                .services
                .values()
                .chain(self.instances.values())
                .any(|s| s.contains(var))
    }
}

/// The top-level `secret_names`: a list of non-empty words.
pub fn parse_names(r: &mut Reader, node: &Node) -> Vec<String> {
    let Some(words) = r.string_list(node, "secret_names") else {
        return DEFAULT_SECRET_NAMES.iter().map(|s| s.to_string()).collect();
    };
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.into_iter().enumerate() {
        if w.is_empty() {
            // An empty word would make every value secret: say so instead.
            r.error(
                node,
                &format!("secret_names[{i}]"),
                "an empty word would match every variable; leave it out",
            );
        } else {
            out.push(w.to_uppercase());
        }
    }
    out
}

/// A service's or an instance's `secrets`: variable names.
pub fn parse_list(r: &mut Reader, node: Option<&Node>, parent: &str) -> BTreeSet<String> {
    let Some(node) = node else {
        return BTreeSet::new();
    };
    r.string_list(node, &join(parent, "secrets"))
        .unwrap_or_default()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(names: &[&str]) -> Secrets {
        Secrets {
            names: names.iter().map(|s| s.to_string()).collect(),
            services: BTreeMap::from([("db".into(), BTreeSet::from(["DSN".to_string()]))]),
            instances: BTreeMap::from([("db-1".into(), BTreeSet::from(["PEER".to_string()]))]),
        }
    }

    #[test]
    fn names_that_look_secret_are_secret_in_any_case() {
        let s = Secrets::default();
        for secret in [
            "DB_PASSWORD",
            "password",
            "Api_Token",
            "AWS_SECRET_ACCESS_KEY",
            "ssh_key",
            "KEYRING",
            "client_secret",
        ] {
            assert!(s.name_is_secret(secret), "{secret}");
        }
        for plain in ["ZK_ZK_1_HOST", "JVM_OPTS", "PASSWD", "SERVICE_NAME", "TOKN"] {
            assert!(!s.name_is_secret(plain), "{plain}");
        }
    }

    #[test]
    fn marked_names_are_secret_for_their_service_and_instance_only() {
        let s = rule(&["PASSWORD"]);
        assert!(s.is_secret("db", "db-1", "DSN"));
        assert!(s.is_secret("db", "db-2", "DSN"));
        assert!(s.is_secret("db", "db-1", "PEER"));
        assert!(!s.is_secret("db", "db-2", "PEER"));
        assert!(!s.is_secret("web", "web-1", "DSN"));
        assert!(s.is_secret("web", "web-1", "X_PASSWORD"));
        assert!(!s.is_secret("web", "web-1", "X_TOKEN"));
        assert!(s.is_secret_anywhere("DSN") && s.is_secret_anywhere("PEER"));
        assert!(!s.is_secret_anywhere("HOST"));
    }

    #[test]
    fn no_words_turns_the_name_rule_off() {
        let s = rule(&[]);
        assert!(!s.name_is_secret("DB_PASSWORD"));
        assert!(s.is_secret("db", "db-1", "DSN"));
    }
}
