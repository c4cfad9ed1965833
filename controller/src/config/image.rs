//! Image references, checked against Docker's reference grammar when the
//! file is loaded, so that `image: box@` or `image: My/App` fails at
//! `validate` with the key's line instead of at the pull on every ship.
//!
//! The grammar (github.com/distribution/reference, as dockerd applies it):
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path           (at most 255 characters)
//! domain     := host [ ":" port ]             host: letters, digits, "-", "."; or [IPv6]
//! path       := component ( "/" component )*
//! component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest     := algorithm ":" hex             algorithm: [A-Za-z][A-Za-z0-9]* joined by [+._-]; hex: 32+ [0-9a-fA-F]
//! ```
//!
//! The first part of the name is a registry only when it holds a `.`, a
//! `:` or a capital, or is `localhost` (as Docker decides); otherwise it is
//! part of the path (`library/ubuntu`), where capitals are refused.

/// Why `text` is not an image reference, in a sentence; `Ok` when it is.
pub fn check(text: &str) -> Result<(), String> {
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    if let Some(d) = digest {
        check_digest(d)?;
    }
    // A tag follows the last `:` that has no `/` after it (a `:` before a
    // `/` is a registry's port).
    let (name, tag) = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        check_tag(t)?;
    }
    check_name(name)
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the repository name is empty".into());
    }
    if name.len() > 255 {
        return Err(format!(
            "the repository name is {} characters long; Docker allows 255",
            name.len()
        ));
    }
    let path = match name.split_once('/') {
        Some((first, path))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            check_domain(first)?;
            path
        }
        _ => name,
    };
    for component in path.split('/') {
        check_component(component)?;
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), String> {
    let (host, port) = if let Some(v6) = domain.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err(format!("the registry \"{domain}\" has no closing \"]\""));
        };
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err(format!(
                "the registry \"{domain}\" is not an IPv6 address in brackets"
            ));
        }
        match after {
            "" => (None, None),
            p => match p.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err(format!("the registry \"{domain}\" has text after \"]\"")),
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !host.split('.').all(label_ok) {
            return Err(format!(
                "the registry \"{domain}\" is not a host name (letters, digits and \"-\" between dots)"
            ));
        }
    }
    if let Some(port) = port
        && (port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!(
            "the registry \"{domain}\" has a port that is not a number"
        ));
    }
    Ok(())
}

fn check_component(c: &str) -> Result<(), String> {
    let alnum = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit();
    if c.is_empty() {
        return Err("the repository name has an empty part (\"//\", or \"/\" at an end)".into());
    }
    if c.chars().any(|ch| ch.is_ascii_uppercase()) {
        return Err(format!(
            "the repository name part \"{c}\" has capitals; Docker wants lower case"
        ));
    }
    // Runs of lower-case letters and digits, joined by ".", "_", "__" or
    // dashes.
    let bytes: Vec<char> = c.chars().collect();
    let mut i = 0;
    let mut expect_alnum = true;
    while i < bytes.len() {
        if expect_alnum {
            if !alnum(bytes[i]) {
                return Err(format!(
                    "the repository name part \"{c}\" must start and end with a letter or digit, and join them only with \".\", \"_\", \"__\" or \"-\""
                ));
            }
            while i < bytes.len() && alnum(bytes[i]) {
                i += 1;
            }
            expect_alnum = false;
        } else {
            let sep_len = match bytes[i] {
                '.' => 1,
                '_' if bytes.get(i + 1) == Some(&'_') => 2,
                '_' => 1,
                '-' => bytes[i..].iter().take_while(|&&ch| ch == '-').count(),
                _ => {
                    return Err(format!(
                        "the repository name part \"{c}\" has \"{}\"; only lower-case letters, digits, \".\", \"_\" and \"-\" are allowed",
                        bytes[i]
                    ));
                }
            };
            i += sep_len;
            expect_alnum = true;
        }
    }
    if expect_alnum {
        return Err(format!(
            "the repository name part \"{c}\" must end with a letter or digit"
        ));
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), String> {
    let word = |ch: char| ch.is_ascii_alphanumeric() || ch == '_';
    let mut chars = tag.chars();
    match chars.next() {
        None => Err("the tag after \":\" is empty".into()),
        Some(first) if !word(first) => Err(format!(
            "the tag \"{tag}\" must start with a letter, a digit or \"_\""
        )),
        _ if tag.len() > 128 => Err(format!(
            "the tag is {} characters long; Docker allows 128",
            tag.len()
        )),
        _ if !chars.all(|ch| word(ch) || ch == '.' || ch == '-') => Err(format!(
            "the tag \"{tag}\" may hold only letters, digits, \"_\", \".\" and \"-\""
        )),
        _ => Ok(()),
    }
}

fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(if digest.is_empty() {
            "the digest after \"@\" is empty (expected algorithm:hex, such as sha256:...)".into()
        } else {
            format!(
                "the digest \"{digest}\" has no \":\" (expected algorithm:hex, such as sha256:...)"
            )
        });
    };
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|part| {
        part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && part.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if !algorithm_ok {
        return Err(format!(
            "the digest algorithm \"{algorithm}\" is not a name such as sha256"
        ));
    }
    if hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "the digest of \"{algorithm}\" must be at least 32 hexadecimal digits"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn references_docker_accepts_pass() {
        for ok in [
            "ubuntu",
            "ubuntu:22.04",
            "library/ubuntu:latest",
            "stackbrew/ubuntu:13.10",
            "quay.io:8081/foo/bar",
            "quay.io:8081/foo/bar:1.2",
            "localhost/app",
            "localhost:5000/app:v1",
            "10.213.0.30:5000/maestro-lab/box:1",
            "[::1]:5000/app",
            "Registry.Example.com/app",
            "Registry/app",
            "a__b/c.d_e-f--g:T_ag-1.0",
            "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "maestro-lab/box:1",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn references_docker_refuses_fail_with_the_reason() {
        for (bad, why) in [
            ("box@", "digest after \"@\" is empty"),
            ("box@sha256", "has no \":\""),
            ("box@sha256:abc", "at least 32 hexadecimal"),
            (
                "box@1sha:0123456789abcdef0123456789abcdef",
                "not a name such as sha256",
            ),
            ("box:", "tag after \":\" is empty"),
            ("box:-x", "must start with a letter"),
            ("box:a+b", "may hold only"),
            ("My/App", "\"App\" has capitals"),
            ("MyApp", "capitals"),
            ("app/Web", "capitals"),
            ("", "repository name is empty"),
            (":tag", "repository name is empty"),
            ("a//b", "empty part"),
            ("app/", "empty part"),
            ("-app", "must start and end"),
            ("app-", "must end with"),
            ("app..x", "must start and end"),
            ("app___x", "must start and end"),
            ("a b", "only lower-case letters"),
            ("host.com:x/app", "not a number"),
            ("-bad.com/app", "not a host name"),
            ("[::1/app", "no closing"),
        ] {
            let e = check(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long_tag = format!("box:{}", "a".repeat(129));
        assert!(check(&long_tag).unwrap_err().contains("128"));
        let long_name = "a".repeat(256);
        assert!(check(&long_name).unwrap_err().contains("255"));
    }
}
