//! `run` and `run_max_wait`: one-shot (data or init) containers, on a
//! service and on an instance. `run: once` makes maestro start the
//! container and wait until it exits; exit 0 is its success. The instance
//! value replaces the service's, as the other container options do.

use std::collections::BTreeMap;

use super::model::{Check, ContainerOptions, LifecycleState, RestartPolicy, RunMode};
use super::reader::{Fields, Reader, describe};

/// Reads `run` and `run_max_wait` present in `f` over `into`.
pub fn read(r: &mut Reader, f: &Fields<'_>, into: &mut ContainerOptions) {
    if let Some(n) = f.get("run") {
        let path = f.path("run");
        let mode = match n.text() {
            Some("once") => Some(RunMode::Once),
            Some("always") => Some(RunMode::Always),
            _ => {
                r.error(
                    n,
                    &path,
                    format!(
                        "invalid run mode {}; choose once (a one-shot container, run to completion) or always (the default)",
                        describe(n)
                    ),
                );
                None
            }
        };
        if mode.is_some() {
            into.run = mode;
        }
    }
    if let Some(n) = f.get("run_max_wait") {
        let path = f.path("run_max_wait");
        match r.uint(n, &path) {
            Some(0) => r.error(n, &path, "run_max_wait must be at least 1 second"),
            Some(s) => into.run_max_wait = Some(s),
            None => {}
        }
    }
}

/// Checks of a one-shot against the instance's other keys, on the merged
/// result: Docker must not restart it, its `running` checks could never
/// pass on a container that exits, and `run_max_wait` means nothing
/// without `run: once`.
pub fn conflicts(
    r: &mut Reader,
    f: &Fields<'_>,
    o: &ContainerOptions,
    restart: &RestartPolicy,
    lifecycle: &BTreeMap<LifecycleState, Vec<Check>>,
) {
    let at = |k: &str| f.get(k).unwrap_or(f.node);
    let once = o.run == Some(RunMode::Once);
    if !once {
        // A service's `run_max_wait` left behind by an instance's
        // `run: always` is harmless; one without any `run` is a mistake.
        let own = f.get("run_max_wait").is_some();
        if o.run_max_wait.is_some() && (own || o.run.is_none()) {
            r.error(
                at("run_max_wait"),
                &f.path("run_max_wait"),
                "run_max_wait is only used with run: once (how long a one-shot container may run)",
            );
        }
        return;
    }
    if restart.name != "no" {
        let k = if f.get("restart").is_some() {
            "restart"
        } else {
            "run"
        };
        r.error(
            at(k),
            &f.path(k),
            format!(
                "run: once cannot be combined with restart: {}; a one-shot container runs to completion and must not be restarted by Docker (remove restart or set it to no)",
                restart.name
            ),
        );
    }
    if lifecycle
        .get(&LifecycleState::Running)
        .is_some_and(|c| !c.is_empty())
    {
        let k = if f.get("lifecycle").is_some() {
            "lifecycle"
        } else {
            "run"
        };
        r.error(
            at(k),
            &f.path(k),
            "run: once cannot have lifecycle running checks: a one-shot container is waited for until it exits 0 instead (its time limit is run_max_wait)",
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::config::load_str;
    use crate::config::model::{DEFAULT_RUN_MAX_WAIT, RunMode};

    const HEAD: &str = "name: t\nships:\n  s1: {ip: 10.213.0.1}\nservices:\n";

    fn file(service: &str, instance: &str) -> String {
        format!(
            "{HEAD}  init:\n    image: box\n{service}    instances:\n      i1: {{ship: s1{}{instance}}}\n      i2: {{ship: s1}}\n",
            if instance.is_empty() { "" } else { ", " }
        )
    }

    fn err(yaml: &str) -> String {
        match load_str(yaml, Path::new(".")) {
            Ok(_) => panic!("expected errors for:\n{yaml}"),
            Err(e) => e.to_string(),
        }
    }

    fn assert_err(yaml: &str, want: &str) {
        let out = err(yaml);
        assert!(out.contains(want), "wanted {want:?} in:\n{out}");
    }

    #[test]
    fn run_once_on_a_service_or_an_instance() {
        let e = load_str(&file("    run: once\n", ""), Path::new(".")).unwrap();
        for i in ["i1", "i2"] {
            assert_eq!(e.instances[i].options.run, Some(RunMode::Once));
            assert_eq!(
                e.instances[i].one_shot(),
                Some(Duration::from_secs(DEFAULT_RUN_MAX_WAIT))
            );
        }
        // An instance's value replaces the service's.
        let e = load_str(
            &file("    run: once\n    run_max_wait: 30\n", "run: always"),
            Path::new("."),
        )
        .unwrap();
        assert_eq!(e.instances["i1"].one_shot(), None);
        assert_eq!(e.instances["i2"].one_shot(), Some(Duration::from_secs(30)));
        let e = load_str(&file("", "run: once, run_max_wait: 5"), Path::new(".")).unwrap();
        assert_eq!(e.instances["i1"].one_shot(), Some(Duration::from_secs(5)));
        assert_eq!(e.instances["i2"].one_shot(), None);
        assert_eq!(e.instances["i2"].options.run, None);
    }

    #[test]
    fn run_once_changes_the_configuration_hash_and_its_time_limit_does_not() {
        let plain = load_str(&file("", ""), Path::new(".")).unwrap();
        let once = load_str(&file("", "run: once"), Path::new(".")).unwrap();
        let longer = load_str(&file("", "run: once, run_max_wait: 900"), Path::new(".")).unwrap();
        let always = load_str(&file("", "run: always"), Path::new(".")).unwrap();
        let h = |e: &crate::config::Environment| e.instances["i1"].config_hash.clone();
        assert_ne!(h(&plain), h(&once));
        assert_eq!(h(&once), h(&longer));
        assert_eq!(h(&plain), h(&always));
    }

    #[test]
    fn bad_values_are_named_with_their_path() {
        assert_err(
            &file("    run: twice\n", ""),
            "services.init.run: invalid run mode \"twice\"; choose once",
        );
        assert_err(
            &file("", "run: [once]"),
            "services.init.instances.i1.run: invalid run mode",
        );
        assert_err(
            &file("", "run: once, run_max_wait: 0"),
            "services.init.instances.i1.run_max_wait: run_max_wait must be at least 1 second",
        );
        assert_err(
            &file("", "run: once, run_max_wait: soon"),
            "services.init.instances.i1.run_max_wait: expected a non-negative integer",
        );
        assert_err(
            &file("", "run_max_wait: 10"),
            "services.init.instances.i1.run_max_wait: run_max_wait is only used with run: once",
        );
    }

    #[test]
    fn a_restart_policy_other_than_no_is_refused() {
        assert_err(
            &file("    run: once\n", "restart: always"),
            "services.init.instances.i1.restart: run: once cannot be combined with restart: always",
        );
        assert_err(
            &file("", "run: once, restart: 'on-failure:3'"),
            "services.init.instances.i1.restart: run: once cannot be combined with restart: on-failure",
        );
        load_str(&file("    run: once\n", "restart: 'no'"), Path::new(".")).unwrap();
    }

    #[test]
    fn running_checks_are_refused() {
        let yaml = file(
            "    run: once\n    lifecycle:\n      running: [{type: sleep, wait: 1}]\n",
            "",
        );
        let out = err(&yaml);
        assert!(
            out.contains(
                "services.init.instances.i1.run: run: once cannot have lifecycle running checks"
            ),
            "{out}"
        );
        // Other states' checks are fine.
        load_str(
            &file(
                "    run: once\n    lifecycle:\n      pre-start: [{type: sleep, wait: 1}]\n",
                "",
            ),
            Path::new("."),
        )
        .unwrap();
    }
}
