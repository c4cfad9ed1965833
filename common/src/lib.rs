//! The discovery contract between `maestro` (which writes variables into each
//! container's environment) and `maestro-guest` (which reads them back inside
//! the container). One definition, so the two sides cannot drift apart.
//!
//! The names follow MaestroNG 0.8.3 exactly, so images built for MaestroNG's
//! Python `guestutils` keep working.

/// Name of the environment (top-level `name` of the environment file).
pub const ENVIRONMENT_NAME: &str = "MAESTRO_ENVIRONMENT_NAME";
/// Name of the service the container belongs to.
pub const SERVICE_NAME: &str = "SERVICE_NAME";
/// Name of the container (the instance name).
pub const CONTAINER_NAME: &str = "CONTAINER_NAME";
/// Address of the ship (its `ip`) the container runs on.
pub const CONTAINER_HOST_ADDRESS: &str = "CONTAINER_HOST_ADDRESS";
/// The image as configured, e.g. `quay.io/acme/kafka:2.1`.
pub const DOCKER_IMAGE: &str = "DOCKER_IMAGE";
/// The tag of the image, `latest` when none is given.
pub const DOCKER_TAG: &str = "DOCKER_TAG";

mod word_table;
pub use word_table::UNICODE_VERSION;

/// Normalises a service, instance or port name for use in a variable name
/// exactly as MaestroNG's `re.sub(r'[^\w]', '_', name).upper()` on Python 3:
/// every character that is not a word character becomes `_`, then the
/// result is upper-cased.
pub fn normalize(name: &str) -> String {
    // Names are ASCII nearly always: byte by byte, without the Unicode
    // tables (the same result for ASCII).
    if name.is_ascii() {
        return name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'_' {
                    char::from(b.to_ascii_uppercase())
                } else {
                    '_'
                }
            })
            .collect();
    }
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if !is_word(c) {
            out.push('_');
        } else if UPPER_UNCHANGED.contains(&c) {
            out.push(c);
        } else {
            out.extend(c.to_uppercase());
        }
    }
    out
}

/// Lowercase letters that gained an uppercase after the table's Unicode
/// version ([`UNICODE_VERSION`]), in the newer Unicode of Rust's
/// `to_uppercase`: Python's `str.upper()` of that version keeps them.
/// `common/tests/python_word.rs` finds any others, code point by code point.
const UPPER_UNCHANGED: [char; 4] = ['\u{19b}', '\u{264}', '\u{a7d3}', '\u{a7d5}'];

/// Python 3's `\w` for str patterns: `_` and the characters for which
/// `str.isalnum()` is true (letters, categories L*, and characters with a
/// numeric value). Combining marks, such as the vowel signs of Indic
/// scripts, are not word characters, unlike Rust's `char::is_alphanumeric`.
/// The table follows the Unicode version of the Python that generated it
/// ([`UNICODE_VERSION`], `scripts/gen-word-table`).
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let c = u32::from(c);
    // Start at the last indexed boundary at or before `c` (just after it a
    // word run starts), then walk the boundaries until the first one past
    // `c`; each toggles between a non-word and a word run.
    let index = &word_table::WORD_INDEX;
    let (mut at, mut inside, offset) = match index.partition_point(|&(cp, _)| cp <= c) {
        0 => (0, false, 0),
        n => (index[n - 1].0, true, usize::from(index[n - 1].1)),
    };
    let mut bytes = word_table::WORD_BOUNDARIES[offset..].iter();
    loop {
        let mut delta = 0u32;
        let mut shift = 0;
        loop {
            let Some(&b) = bytes.next() else {
                return inside;
            };
            delta |= u32::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                break;
            }
        }
        at += delta;
        if c < at {
            return inside;
        }
        inside = !inside;
    }
}

/// `<S>_<C>_HOST`: the address of the ship instance `container` of `service` runs on.
pub fn host_var(service: &str, container: &str) -> String {
    format!("{}_{}_HOST", normalize(service), normalize(container))
}

/// `<S>_<C>_<P>_PORT`: the external (host) port of the named port.
pub fn port_var(service: &str, container: &str, port: &str) -> String {
    format!(
        "{}_{}_{}_PORT",
        normalize(service),
        normalize(container),
        normalize(port)
    )
}

/// `<S>_<C>_<P>_INTERNAL_PORT`: the exposed (in-container) port; only peers of
/// the same service get it.
pub fn internal_port_var(service: &str, container: &str, port: &str) -> String {
    format!(
        "{}_{}_{}_INTERNAL_PORT",
        normalize(service),
        normalize(container),
        normalize(port)
    )
}

/// `<S>_INSTANCES`: the raw instance names of a service, sorted, comma-joined.
pub fn instances_var(service: &str) -> String {
    format!("{}_INSTANCES", normalize(service))
}

/// The value of `<S>_INSTANCES`: the raw instance names, sorted and
/// comma-joined (MaestroNG sorts by name).
pub fn instances_value<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = names.into_iter().collect();
    names.sort_unstable();
    names.join(",")
}

/// Reads a `<S>_INSTANCES` value back into instance names. An empty value
/// means no instances; MaestroNG's guestutils would yield one instance named
/// `""` and then fail to find its host.
pub fn split_instances(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter(move |_| !value.is_empty())
}

/// Splits an image reference into repository and tag the way MaestroNG does,
/// but also understands digests (the controller's Docker client sends the
/// two halves as a pull's `fromImage` and `tag`): `repo@sha256:...` keeps the digest as its
/// "tag" part and the whole reference as repository is never mis-split.
///
/// - `stackbrew/ubuntu:13.10` -> (`stackbrew/ubuntu`, `13.10`)
/// - `quay.io:8081/foo/bar` -> (`quay.io:8081/foo/bar`, `latest`)
/// - `ubuntu` -> (`ubuntu`, `latest`)
/// - `ubuntu@sha256:abc` -> (`ubuntu`, `sha256:abc`)
pub fn image_details(image: &str) -> (&str, &str) {
    // An empty digest (`box@`) is no digest: an empty tag would make a pull
    // fetch every tag of the repository.
    if let Some((repo, digest)) = image.split_once('@')
        && !digest.is_empty()
    {
        // A digest pins the image; a tag before it is informative only.
        let repo = match repo.rsplit_once(':') {
            Some((r, tag)) if !tag.contains('/') => r,
            _ => repo,
        };
        return (repo, digest);
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') && !tag.is_empty() => (repo, tag),
        _ => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_replaces_non_word_characters_and_upper_cases() {
        assert_eq!(normalize("my-svc.v2"), "MY_SVC_V2");
        assert_eq!(normalize("web-1"), "WEB_1");
        assert_eq!(normalize("http-alt"), "HTTP_ALT");
        assert_eq!(normalize("a b+c/d"), "A_B_C_D");
        assert_eq!(normalize("zk_1"), "ZK_1");
        // Unicode letters are word characters, as in Python 3's `\w`.
        assert_eq!(normalize("café"), "CAFÉ");
        // Combining marks are not: the vowel sign of "कि" (U+093F, Mc) and
        // the accent of a decomposed "é" (U+0301, Mn) become `_`.
        assert_eq!(normalize("\u{915}\u{93f}-1"), "\u{915}__1");
        assert_eq!(normalize("e\u{301}"), "E_");
        // Digits of other scripts and other numerics are word characters.
        assert_eq!(normalize("\u{664}\u{b2}\u{2163}"), "\u{664}\u{b2}\u{2163}");
        assert!(!is_word('\u{24b6}'), "circled letters are So, not \\w");
        assert!(!is_word('\u{10ffff}') && !is_word('\u{2ffff}'));
        // Upper-cased as Python 3.11 does: no uppercase in Unicode 14.
        assert_eq!(normalize("\u{19b}\u{264}"), "\u{19b}\u{264}");
    }

    /// ASCII names take a path of their own: each ASCII character comes
    /// out as the general rule (word characters upper-cased, the rest `_`)
    /// makes it, alone and beside a character outside ASCII.
    #[test]
    fn ascii_names_normalise_as_the_general_rule_does() {
        for b in 0u8..128 {
            let c = char::from(b);
            let expected: String = if is_word(c) {
                c.to_uppercase().collect()
            } else {
                "_".into()
            };
            assert_eq!(normalize(&c.to_string()), expected, "{b}");
            assert_eq!(normalize(&format!("{c}é")), format!("{expected}É"), "{b}");
        }
    }

    #[test]
    fn variable_names_match_maestro_ng() {
        assert_eq!(host_var("my-svc.v2", "web-1"), "MY_SVC_V2_WEB_1_HOST");
        assert_eq!(
            port_var("my-svc.v2", "web-1", "http-alt"),
            "MY_SVC_V2_WEB_1_HTTP_ALT_PORT"
        );
        assert_eq!(
            internal_port_var("zookeeper", "zk-node-1", "client"),
            "ZOOKEEPER_ZK_NODE_1_CLIENT_INTERNAL_PORT"
        );
        assert_eq!(instances_var("my-svc.v2"), "MY_SVC_V2_INSTANCES");
    }

    #[test]
    fn instances_value_round_trips() {
        let value = instances_value(["zk-2", "zk-10", "zk-1"]);
        // Plain string order, as Python's `sorted`.
        assert_eq!(value, "zk-1,zk-10,zk-2");
        assert_eq!(
            split_instances(&value).collect::<Vec<_>>(),
            ["zk-1", "zk-10", "zk-2"]
        );
        assert_eq!(instances_value([]), "");
        assert_eq!(split_instances("").count(), 0);
        assert_eq!(split_instances("a, b").collect::<Vec<_>>(), ["a", " b"]);
    }

    #[test]
    fn image_details_split_like_maestro_ng() {
        assert_eq!(
            image_details("stackbrew/ubuntu:13.10"),
            ("stackbrew/ubuntu", "13.10")
        );
        assert_eq!(
            image_details("quay.io:8081/foo/bar"),
            ("quay.io:8081/foo/bar", "latest")
        );
        assert_eq!(
            image_details("stackbrew/ubuntu"),
            ("stackbrew/ubuntu", "latest")
        );
        assert_eq!(
            image_details("quay.io:8081/foo/bar:1.2"),
            ("quay.io:8081/foo/bar", "1.2")
        );
        assert_eq!(image_details("ubuntu@sha256:abc"), ("ubuntu", "sha256:abc"));
        // A registry with a port, with and without a tag.
        assert_eq!(
            image_details("10.213.0.30:5000/maestro-lab/box:1"),
            ("10.213.0.30:5000/maestro-lab/box", "1")
        );
        assert_eq!(
            image_details("10.213.0.30:5000/box"),
            ("10.213.0.30:5000/box", "latest")
        );
        assert_eq!(image_details("busybox"), ("busybox", "latest"));
        assert_eq!(
            image_details("ubuntu:22.04@sha256:abc"),
            ("ubuntu", "sha256:abc")
        );
    }

    /// Found by the `image` fuzz target: a reference ending in `@` gave an
    /// empty tag, with which the Engine API pulls every tag.
    #[test]
    fn an_empty_digest_never_gives_an_empty_tag() {
        for image in ["lquay.io:808b:oa/1/far:1.2x@", "box@", "box:1@", "@", ""] {
            let (_, tag) = image_details(image);
            assert!(!tag.is_empty(), "{image:?}");
        }
        assert_eq!(image_details("box@"), ("box@", "latest"));
    }
}
