//! Registry credentials for a pull: the environment's `registries` entry
//! for the image, else the user's Docker configuration
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): a
//! credential helper (`credHelpers` for the host, else `credsStore`) when
//! its `docker-credential-<name>` program exists, then `auths`.
//!
//! Passwords are never part of an error or of anything displayed:
//! `RegistryAuth`'s `Debug` hides them and errors only name files, hosts
//! and helpers.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::config::model::{Environment, Registry};
use crate::docker::RegistryAuth;

/// Docker Hub's server address, as `docker login` stores it.
pub const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// Credentials found for an image, and where they came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub auth: RegistryAuth,
    /// e.g. `registries.quay`, `/home/u/.docker/config.json (auths)`,
    /// `docker-credential-pass`.
    pub source: String,
}

/// Where to look besides the environment file: explicit, so tests do not
/// have to change the process environment.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// The Docker configuration file; `None`: no file.
    pub config_file: Option<PathBuf>,
    /// `PATH`, to find `docker-credential-*` helpers.
    pub path: Option<OsString>,
}

impl Lookup {
    /// From the process environment: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`; `$PATH`.
    pub fn from_process() -> Lookup {
        let config_file = std::env::var_os("DOCKER_CONFIG")
            .filter(|d| !d.is_empty())
            .map(|d| PathBuf::from(d).join("config.json"))
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
            });
        Lookup {
            config_file,
            path: std::env::var_os("PATH"),
        }
    }
}

/// Why no credentials could be read. Never holds a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsError {
    pub message: String,
}

impl std::fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn fail(message: String) -> CredentialsError {
    CredentialsError { message }
}

/// The credentials to pull `image` with; `Ok(None)`: pull anonymously.
pub fn for_image(
    env: &Environment,
    image: &str,
    lookup: &Lookup,
) -> Result<Option<Credentials>, CredentialsError> {
    match env.registry_for(image) {
        Some(reg) => for_registry(reg, lookup),
        None => from_docker_config(&image_host(image), lookup),
    }
}

/// The credentials of every image the named instances use, each image
/// looked up once (a credential helper runs once per image, not per
/// instance). A lookup that failed keeps its message, for the rows of the
/// instances that need it.
pub fn for_instances<'a>(
    env: &Environment,
    instances: impl IntoIterator<Item = &'a str>,
    lookup: &Lookup,
) -> BTreeMap<String, Result<Option<Credentials>, String>> {
    let images: BTreeSet<&str> = instances
        .into_iter()
        .filter_map(|name| env.instances.get(name))
        .map(|i| i.image.as_str())
        .collect();
    images
        .into_iter()
        .map(|image| {
            let found = for_image(env, image, lookup).map_err(|e| e.to_string());
            (image.to_string(), found)
        })
        .collect()
}

/// A `registries` entry: its own username and password, else the Docker
/// configuration for the host of its URL (MaestroNG 0.4.5 and later).
pub fn for_registry(
    reg: &Registry,
    lookup: &Lookup,
) -> Result<Option<Credentials>, CredentialsError> {
    let host = normalise(&reg.registry);
    match &reg.username {
        Some(user) => Ok(Some(Credentials {
            auth: RegistryAuth {
                username: user.clone(),
                password: reg.password.clone().unwrap_or_default(),
                server_address: host,
            },
            source: format!("registries.{}", reg.name),
        })),
        None => from_docker_config(&host, lookup),
    }
}

/// The registry host of an image as Docker reads it: the first path
/// component when it looks like a host (has a `.` or `:`, or is
/// `localhost`), else Docker Hub.
pub fn image_host(image: &str) -> String {
    let (repo, _) = maestro_common::image_details(image);
    match repo.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => normalise(first),
        _ => DOCKER_HUB.to_string(),
    }
}

/// The key Docker's configuration uses for a registry: `host[:port]`
/// without scheme or path (`https://host/v1/` -> `host`); Docker Hub's
/// names all become [`DOCKER_HUB`].
pub fn normalise(server: &str) -> String {
    let rest = server.split_once("://").map_or(server, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_string()
        }
        _ => host,
    }
}

#[derive(Debug, Default, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Credentials for `host` (normalised) from the Docker configuration.
pub fn from_docker_config(
    host: &str,
    lookup: &Lookup,
) -> Result<Option<Credentials>, CredentialsError> {
    let Some(file) = &lookup.config_file else {
        return Ok(None);
    };
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(format!("cannot read {}: {e}", file.display()))),
    };
    // serde_json's messages give a position, never the text.
    let cfg: DockerConfig = serde_json::from_slice(&text).map_err(|e| {
        fail(format!(
            "{}: not a valid Docker configuration: {e}",
            file.display()
        ))
    })?;
    let helper = cfg
        .cred_helpers
        .iter()
        .find(|(k, _)| normalise(k) == host)
        .map(|(_, v)| v)
        .or(cfg.creds_store.as_ref());
    if let Some(name) = helper
        && let Some(program) = find_helper(name, lookup.path.as_deref())
        && let Some(c) = run_helper(&program, name, host)?
    {
        return Ok(Some(c));
    }
    let Some((key, entry)) = cfg.auths.iter().find(|(k, _)| normalise(k) == host) else {
        return Ok(None);
    };
    let source = format!("{} (auths.{key})", file.display());
    let (username, password) = match (&entry.auth, &entry.username) {
        (Some(a), _) if !a.is_empty() => {
            let bad = || fail(format!("{source}: `auth` is not base64 of user:password"));
            let plain = base64_decode(a.trim()).ok_or_else(bad)?;
            let plain = String::from_utf8(plain).map_err(|_| bad())?;
            let (u, p) = plain.split_once(':').ok_or_else(bad)?;
            (u.to_string(), p.to_string())
        }
        (_, Some(u)) => (u.clone(), entry.password.clone().unwrap_or_default()),
        _ => return Ok(None),
    };
    Ok(Some(Credentials {
        auth: RegistryAuth {
            username,
            password,
            server_address: server_address(host),
        },
        source,
    }))
}

/// What `serveraddress` says for a host.
fn server_address(host: &str) -> String {
    host.to_string()
}

/// `docker-credential-<name>` in one of `path`'s folders, if it is there.
fn find_helper(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let program = format!("docker-credential-{name}");
    std::env::split_paths(path?)
        .map(|dir| dir.join(&program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[derive(Debug, Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// `docker-credential-<name> get` with the server on stdin; `None` when the
/// helper has nothing for it.
fn run_helper(
    program: &Path,
    name: &str,
    host: &str,
) -> Result<Option<Credentials>, CredentialsError> {
    let label = format!("docker-credential-{name}");
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {label}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("{label} get: {e}")))?;
    if !out.status.success() {
        // Helpers say "credentials not found in native keychain" on both
        // streams; anything else is a real failure. Their output is never
        // shown whole: it could be an answer holding a secret.
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if said.to_lowercase().contains("not found") {
            return Ok(None);
        }
        let code = out
            .status
            .code()
            .map_or_else(|| "a signal".to_string(), |c| c.to_string());
        return Err(fail(format!(
            "{label} get for {host} failed (exit {code}): {}",
            crate::text::summarise(&String::from_utf8_lossy(&out.stderr))
        )));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout)
        .map_err(|_| fail(format!("{label} get for {host}: the answer is not JSON")))?;
    if answer.username == "<token>" {
        return Err(fail(format!(
            "{label} holds an identity token for {host}; maestro needs a username and password"
        )));
    }
    Ok(Some(Credentials {
        auth: RegistryAuth {
            username: answer.username,
            password: answer.secret,
            server_address: server_address(host),
        },
        source: label,
    }))
}

/// Standard base64 (with or without padding).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    }
    let bytes = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests;
