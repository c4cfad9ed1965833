//! Credentials from temp Docker configurations and a fake helper on a
//! PATH given explicitly (the test process environment is never changed).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "maestro-creds-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn lookup(dir: &Path, config: &str, path: Option<&Path>) -> Lookup {
    let file = dir.join("config.json");
    std::fs::write(&file, config).unwrap();
    Lookup {
        config_file: Some(file),
        path: path.map(|p| p.as_os_str().to_owned()),
    }
}

fn b64(s: &str) -> String {
    // Standard alphabet: the url-safe encoder with + and / put back.
    crate::docker::auth::base64url(s.as_bytes())
        .replace('-', "+")
        .replace('_', "/")
}

fn env(yaml_registries: &str) -> Environment {
    let text = format!(
        "name: t\n{yaml_registries}ships:\n  s: {{ip: 127.0.0.1}}\nservices:\n  web:\n    image: x\n    instances:\n      web-1: {{ship: s}}\n"
    );
    crate::config::load_str(&text, Path::new("/tmp")).unwrap()
}

/// A fake `docker-credential-test`: answers for `reg.example:5000`, says
/// "not found" for anything else, and records what it read on stdin.
fn helper(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("docker-credential-test");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 9\nread server\necho \"$server\" > {d}/asked\n\
             case \"$server\" in\n  reg.example:5000) echo '{{\"ServerURL\":\"reg.example:5000\",\"Username\":\"hu\",\"Secret\":\"hs3cret\"}}';;\n\
               broken.example) echo 'backend exploded' >&2; exit 1;;\n\
               *) echo 'credentials not found in native keychain'; exit 1;;\nesac\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let mut perm = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&script, perm).unwrap();
    bin
}

#[test]
fn normalises_server_names() {
    assert_eq!(normalise("https://quay.io/v1/"), "quay.io");
    assert_eq!(normalise("10.213.0.30:5000"), "10.213.0.30:5000");
    assert_eq!(normalise("http://Reg.Example:5000/v2"), "reg.example:5000");
    assert_eq!(normalise("https://index.docker.io/v1/"), DOCKER_HUB);
    assert_eq!(normalise("docker.io"), DOCKER_HUB);
    assert_eq!(image_host("reg.example:5000/a/b:1"), "reg.example:5000");
    assert_eq!(image_host("localhost/a"), "localhost");
    assert_eq!(image_host("user/app:2"), DOCKER_HUB);
    assert_eq!(image_host("ubuntu"), DOCKER_HUB);
}

#[test]
fn base64_decoding() {
    assert_eq!(base64_decode("dTpw").unwrap(), b"u:p");
    assert_eq!(base64_decode(&b64("user:pa:ss")).unwrap(), b"user:pa:ss");
    assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
    assert_eq!(base64_decode("Zm8").unwrap(), b"fo");
    assert!(base64_decode("Z").is_none());
    assert!(base64_decode("a*b=").is_none());
}

#[test]
fn the_environment_entry_wins_over_the_docker_config() {
    let dir = temp_dir("entry");
    let l = lookup(
        &dir,
        &format!(
            r#"{{"auths": {{"reg.example:5000": {{"auth": "{}"}}}}}}"#,
            b64("other:pw")
        ),
        None,
    );
    let e = env(
        "registries:\n  reg.example:5000:\n    registry: https://reg.example:5000/\n    username: u\n    password: s3cret\n",
    );
    let c = for_image(&e, "reg.example:5000/app:1", &l)
        .unwrap()
        .unwrap();
    assert_eq!(c.auth.username, "u");
    assert_eq!(c.auth.password, "s3cret");
    assert_eq!(c.auth.server_address, "reg.example:5000");
    assert_eq!(c.source, "registries.reg.example:5000");
    assert!(!format!("{c:?}").contains("s3cret"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_entry_without_username_reads_the_docker_config_by_url_host() {
    let dir = temp_dir("nouser");
    let l = lookup(
        &dir,
        &format!(
            r#"{{"auths": {{"https://quay.example/v1/": {{"auth": "{}"}}}}}}"#,
            b64("qu:qpw")
        ),
        None,
    );
    let e = env("registries:\n  quay:\n    registry: https://quay.example/v1/\n");
    let c = for_image(&e, "quay/team/app", &l).unwrap().unwrap();
    assert_eq!(
        (c.auth.username.as_str(), c.auth.password.as_str()),
        ("qu", "qpw")
    );
    assert_eq!(c.auth.server_address, "quay.example");
    assert!(
        c.source.ends_with("(auths.https://quay.example/v1/)"),
        "{}",
        c.source
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn auths_with_username_and_password_fields_and_hub_images() {
    let dir = temp_dir("fields");
    let l = lookup(
        &dir,
        r#"{"auths": {"https://index.docker.io/v1/": {"username": "hub", "password": "hpw"},
                      "empty.example": {}}}"#,
        None,
    );
    let e = env("");
    let c = for_image(&e, "library/ubuntu:24.04", &l).unwrap().unwrap();
    assert_eq!(
        (c.auth.username.as_str(), c.auth.password.as_str()),
        ("hub", "hpw")
    );
    assert_eq!(c.auth.server_address, DOCKER_HUB);
    assert_eq!(for_image(&e, "empty.example/app", &l).unwrap(), None);
    assert_eq!(for_image(&e, "other.example/app", &l).unwrap(), None);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_config_is_anonymous_and_a_broken_one_is_an_error_without_secrets() {
    let dir = temp_dir("broken");
    let none = Lookup {
        config_file: Some(dir.join("absent.json")),
        path: None,
    };
    assert_eq!(for_image(&env(""), "reg.example/app", &none).unwrap(), None);
    let l = lookup(&dir, r#"{"auths": {"reg.example": {"auth": "#, None);
    let e = for_image(&env(""), "reg.example/app", &l).unwrap_err();
    assert!(e.message.contains("config.json"), "{e}");
    let l = lookup(
        &dir,
        r#"{"auths": {"reg.example": {"auth": "bm9jb2xvbg=="}}}"#,
        None,
    );
    let e = for_image(&env(""), "reg.example/app", &l).unwrap_err();
    assert!(e.message.contains("not base64 of user:password"), "{e}");
    assert!(
        !e.message.contains("nocolon") && !e.message.contains("bm9jb2xvbg"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cred_helpers_and_creds_store_via_the_helper_program() {
    let dir = temp_dir("helper");
    let bin = helper(&dir);
    let with_store = lookup(
        &dir,
        &format!(
            r#"{{"credsStore": "test", "auths": {{"fallback.example": {{"auth": "{}"}}}}}}"#,
            b64("fu:fpw")
        ),
        Some(&bin),
    );
    let c = for_image(&env(""), "reg.example:5000/app:1", &with_store)
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.auth.username.as_str(), c.auth.password.as_str()),
        ("hu", "hs3cret")
    );
    assert_eq!(c.source, "docker-credential-test");
    assert_eq!(
        std::fs::read_to_string(dir.join("asked")).unwrap(),
        "reg.example:5000\n"
    );
    // The helper has nothing: `auths` is next.
    let c = for_image(&env(""), "fallback.example/app", &with_store)
        .unwrap()
        .unwrap();
    assert_eq!(c.auth.username, "fu");
    // A helper that fails for real is an error naming it, not its output.
    let e = for_image(&env(""), "broken.example/app", &with_store).unwrap_err();
    assert!(
        e.message
            .contains("docker-credential-test get for broken.example failed"),
        "{e}"
    );

    // credHelpers per registry; the helper missing from PATH is skipped.
    let per_host = lookup(
        &dir,
        &format!(
            r#"{{"credHelpers": {{"reg.example:5000": "test", "x.example": "absent"}},
                "auths": {{"x.example": {{"auth": "{}"}}}}}}"#,
            b64("xu:xpw")
        ),
        Some(&bin),
    );
    let c = for_image(&env(""), "reg.example:5000/app", &per_host)
        .unwrap()
        .unwrap();
    assert_eq!(c.auth.username, "hu");
    let c = for_image(&env(""), "x.example/app", &per_host)
        .unwrap()
        .unwrap();
    assert_eq!(c.auth.username, "xu");
    std::fs::remove_dir_all(dir).unwrap();
}
