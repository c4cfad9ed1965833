//! Properties of the discovery contract: variable names built from any
//! service, instance or port name are usable as variable names, and the
//! instance list and image split read back what was written.

use maestro_common::{
    host_var, image_details, instances_value, internal_port_var, is_word, normalize, port_var,
    split_instances,
};
use proptest::prelude::*;

/// What `docker run -e NAME=value` and the guest's lookup need of a name:
/// not empty, no `=` (it ends the name), no NUL, no white space or control
/// character; ASCII only as `A-Z`, `0-9` and `_` (what shells accept).
fn valid_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| {
            if c.is_ascii() {
                c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'
            } else {
                !c.is_whitespace() && !c.is_control()
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn normalised_names_are_valid_variable_names(s in any::<String>()) {
        let n = normalize(&s);
        // One character (at least) for each: nothing is dropped.
        prop_assert!(n.chars().count() >= s.chars().count());
        prop_assert!(s.is_empty() || valid_variable_name(&n), "{s:?} -> {n:?}");
        // Every non-word character became `_`.
        for c in s.chars().filter(|c| !is_word(*c)) {
            prop_assert!(!n.contains(c) || c == '_', "{c:?} kept in {n:?}");
        }
    }

    #[test]
    fn variables_of_any_names_are_valid(s in any::<String>(), c in any::<String>(), p in any::<String>()) {
        for var in [host_var(&s, &c), port_var(&s, &c, &p), internal_port_var(&s, &c, &p)] {
            prop_assert!(valid_variable_name(&var), "{var:?}");
        }
    }

    #[test]
    fn normalising_ascii_names_twice_changes_nothing(s in "[ -~]{0,40}") {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn the_instance_list_reads_back_sorted(mut names in prop::collection::vec("[^,]{1,12}", 0..8)) {
        let value = instances_value(names.iter().map(String::as_str));
        names.sort();
        prop_assert_eq!(split_instances(&value).collect::<Vec<_>>(), names);
    }

    #[test]
    fn an_image_splits_into_the_repository_and_tag_it_was_made_of(
        repo in "([a-z0-9.-]+(:[0-9]{1,5})?/)?[a-z0-9._-]+(/[a-z0-9._-]+){0,2}",
        tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        digest in "sha256:[0-9a-f]{64}",
    ) {
        let (tagged, pinned) = (format!("{repo}:{tag}"), format!("{repo}@{digest}"));
        let both = format!("{repo}:{tag}@{digest}");
        prop_assert_eq!(image_details(&tagged), (repo.as_str(), tag.as_str()));
        prop_assert_eq!(image_details(&repo), (repo.as_str(), "latest"));
        prop_assert_eq!(image_details(&pinned), (repo.as_str(), digest.as_str()));
        prop_assert_eq!(image_details(&both), (repo.as_str(), digest.as_str()));
    }
}
