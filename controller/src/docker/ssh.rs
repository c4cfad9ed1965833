//! The SSH forwarder: the system ssh forwarding a local unix socket to the
//! remote daemon's, started on the first request to a ship and shared by
//! every request to it. Two modes:
//!
//! - Shared (the default, `ssh_tunnel.control_persist`): an OpenSSH control
//!   master per user, host, port, key and known_hosts file, in a 0700
//!   per-user folder, holds the forward; it outlives maestro by
//!   `ControlPersist`, so that the next run starts no ssh at all and pays
//!   no handshake. Started (under a lock file) when its socket does not
//!   answer.
//! - Per run (`control_persist: false`): one `ssh -N -L <private
//!   socket>:<remote>` child per ship, its socket in a fresh 0700 folder,
//!   ended with maestro as below.
//!
//! Why the system client: one ssh process multiplexes any number of
//! concurrent channels (ssh2 stalls a whole session on one blocked read), and
//! it brings the user's known_hosts, agent and ssh config for free.
//!
//! Lifetime (per run): the forwarder is killed when its `Forwarder` is dropped. So
//! that it also ends when maestro ends in any other way (exit, Ctrl-C,
//! SIGTERM, even SIGKILL), the child asks the kernel for `PR_SET_PDEATHSIG`.
//! That signal follows the thread that spawned the child, so every
//! forwarder is spawned by one keeper thread that lives as long as the
//! process. The child runs in its own process group, so a terminal Ctrl-C
//! reaches maestro first and in-flight requests can still finish while
//! maestro winds down.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use super::error::SshFailure;

/// What to forward, and over which SSH connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSpec {
    pub ship: String,
    pub host: String,
    pub user: String,
    pub key: PathBuf,
    pub port: u16,
    pub known_hosts: Option<PathBuf>,
    /// Remote end of the forward: a unix socket path, or `127.0.0.1:<port>`.
    pub remote: String,
    pub connect_timeout: Duration,
    /// Share one SSH connection between runs (OpenSSH's control master),
    /// kept this long after its last use; `None`: a connection per run.
    pub control_persist: Option<Duration>,
}

impl SshSpec {
    /// The ssh command line (without the program), for a local socket path.
    pub fn args(&self, local: &Path) -> Vec<String> {
        let mut a: Vec<String> = ["-N", "-T", "-o", "ExitOnForwardFailure=yes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(self.connection_args());
        a.push("-L".into());
        a.push(format!("{}:{}", local.display(), self.remote));
        // `--`: a host name can never be read as an option.
        a.push("--".into());
        a.push(self.host.clone());
        a
    }

    /// The command line that asks a running master to forward `local` to
    /// the remote socket (`op` = `forward`; the master listens on it until
    /// it ends) or to stop (`cancel`).
    pub fn forward_args(&self, control: &Path, local: &Path, op: &str) -> Vec<String> {
        vec![
            "-o".into(),
            format!("ControlPath={}", control.display()),
            "-O".into(),
            op.into(),
            "-L".into(),
            format!("{}:{}", local.display(), self.remote),
            "--".into(),
            self.host.clone(),
        ]
    }

    /// The command line of the shared connection's master: authenticated
    /// in the foreground (so that failures come back with ssh's words),
    /// then in the background (`-f`) for `persist` after its last client.
    pub fn master_args(&self, control: &Path, log: &Path, persist: Duration) -> Vec<String> {
        let mut a: Vec<String> = vec!["-M".into(), "-N".into(), "-f".into()];
        a.extend(["-E".into(), log.display().to_string()]);
        a.extend(["-o".into(), format!("ControlPath={}", control.display())]);
        a.extend([
            "-o".into(),
            format!("ControlPersist={}", persist.as_secs().max(1)),
        ]);
        a.extend(self.connection_args());
        a.push("--".into());
        a.push(self.host.clone());
        a
    }

    /// How to connect and authenticate: strict host keys, only the
    /// configured key, no prompts.
    fn connection_args(&self) -> Vec<String> {
        let secs = self.connect_timeout.as_secs().max(1);
        let mut a: Vec<String> = [
            "-o",
            "BatchMode=yes",
            "-o",
            "StreamLocalBindUnlink=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            // Only the configured key: an agent's keys would hide a wrong one.
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ServerAliveInterval=15",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.push("-o".into());
        a.push(format!("ConnectTimeout={secs}"));
        if let Some(kh) = &self.known_hosts {
            a.push("-o".into());
            a.push(format!("UserKnownHostsFile={}", kh.display()));
        }
        a.push("-i".into());
        a.push(self.key.display().to_string());
        a.push("-p".into());
        a.push(self.port.to_string());
        a.push("-l".into());
        a.push(self.user.clone());
        a
    }

    /// The name of the shared connection: one per user, host, port, key
    /// and known_hosts file, so that a ship with other settings (another
    /// known_hosts file) never rides on a connection checked with these.
    pub fn control_name(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            self.user.as_str(),
            self.host.as_str(),
            &self.port.to_string(),
            &self.key.display().to_string(),
            &self
                .known_hosts
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// What to do about a failure ssh reported, when it is about the
    /// host's key (empty otherwise). Host keys are checked strictly: an
    /// unknown or changed key stops the ship, and only the user can decide
    /// that a key is right.
    pub fn hint(&self, stderr: &str) -> String {
        let file = self.known_hosts.as_ref().map_or_else(
            || "~/.ssh/known_hosts".to_string(),
            |p| p.display().to_string(),
        );
        let name = if self.port == 22 {
            self.host.clone()
        } else {
            format!("[{}]:{}", self.host, self.port)
        };
        if stderr.contains("has changed") || stderr.contains("IDENTIFICATION HAS CHANGED") {
            format!(
                "the host key of {name} is not the one in {file}: this can be an attack; \
                 if the host was reinstalled and its new key checked, remove the old one \
                 (`ssh-keygen -f {file} -R {name}`) and add the new one"
            )
        } else if stderr.contains("Host key verification failed") {
            format!(
                "the host key of {name} is not in {file}: compare its fingerprint with the \
                 host's own (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there), then \
                 add it (`ssh-keyscan -p {port} {host} >> {file}`)",
                port = self.port,
                host = self.host,
            )
        } else {
            String::new()
        }
    }

    /// How the ship is reached, for messages: `ssh://root@10.213.0.22:22 -> /run/docker.sock`.
    pub fn describe(&self) -> String {
        format!(
            "ssh://{}@{}:{} -> {}",
            self.user, self.host, self.port, self.remote
        )
    }
}

struct Running {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
    log: PathBuf,
}

impl Running {
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Where a shared connection lives, in the per-user folder (see
/// [`shared_dir`]): the master's control socket, log and lock file, and the
/// socket the master forwards to this ship's remote daemon socket.
#[derive(Debug, Clone)]
struct Shared {
    control: PathBuf,
    log: PathBuf,
    lock: PathBuf,
    forward: PathBuf,
}

impl Shared {
    fn of(spec: &SshSpec) -> Option<Shared> {
        spec.control_persist?;
        let dir = shared_dir()?;
        let name = spec.control_name();
        let remote: String = {
            use sha2::{Digest, Sha256};
            Sha256::digest(spec.remote.as_bytes())[..4]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        Some(Shared {
            control: dir.join(format!("{name}.ctl")),
            log: dir.join(format!("{name}.log")),
            lock: dir.join(format!("{name}.lock")),
            forward: dir.join(format!("{name}-{remote}.sock")),
        })
    }
}

/// The environment variable that overrides every ship's
/// `ssh_tunnel.control_persist`: seconds, or `0`/`off` for no sharing.
pub const CONTROL_PERSIST_VAR: &str = "MAESTRO_SSH_CONTROL_PERSIST";

/// A ship's `control_persist` after [`CONTROL_PERSIST_VAR`].
pub fn control_persist(configured: Option<Duration>) -> Option<Duration> {
    persist_from(
        std::env::var(CONTROL_PERSIST_VAR).ok().as_deref(),
        configured,
    )
}

fn persist_from(var: Option<&str>, configured: Option<Duration>) -> Option<Duration> {
    match var.map(str::trim) {
        None | Some("") => configured,
        Some("0" | "off" | "no" | "false") => None,
        Some(v) => match v.parse::<u64>() {
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => configured,
        },
    }
}

/// The per-user folder of shared connections,
/// `<temp dir>/maestro-ssh-shared-<uid>`: `0700` and ours, since a control
/// socket lets whoever reaches it use the connection. `None` (no sharing)
/// when it cannot be made so, or when its path would be too long for a
/// control socket (ssh adds a suffix while it binds).
pub fn shared_dir() -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("maestro-ssh-shared-{uid}"));
    match fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(_) => return None,
    }
    let m = fs::symlink_metadata(&dir).ok()?;
    let safe = m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0;
    (safe && dir.as_os_str().len() <= 60).then_some(dir)
}

/// Holds an exclusive lock on a file until dropped: one maestro at a time
/// starts a shared connection, so that two runs do not start two masters.
fn lock_file(path: &Path) -> Result<fs::File, (String, String)> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            (
                format!("cannot open {}: {e}", path.display()),
                String::new(),
            )
        })?;
    // SAFETY: flock on a descriptor we own; released when `file` closes.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        let e = io::Error::last_os_error();
        return Err((
            format!("cannot lock {}: {e}", path.display()),
            String::new(),
        ));
    }
    Ok(file)
}

/// Makes sure the shared connection's master runs (the caller holds the
/// lock): started, authenticated and its host key checked when its control
/// socket does not answer. `true` when it was started now.
fn ensure_master(spec: &SshSpec, sh: &Shared, persist: Duration) -> Result<bool, (String, String)> {
    if UnixStream::connect(&sh.control).is_ok() {
        return Ok(false);
    }
    // A socket left by a master that was killed would make the new master
    // give up sharing; its forward socket is stale too.
    let _ = fs::remove_file(&sh.control);
    let _ = fs::remove_file(&sh.forward);
    let _ = fs::File::create(&sh.log);
    let mut cmd = Command::new("ssh");
    cmd.args(spec.master_args(&sh.control, &sh.log, persist))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Not maestro's: a terminal's Ctrl-C must not end it.
        .process_group(0);
    let status = run_within(cmd, spec.connect_timeout + Duration::from_secs(5))
        .map_err(|detail| (detail, read_log(&sh.log)))?;
    if status.success() {
        Ok(true)
    } else {
        Err((
            format!("ssh exited ({status}) before the shared connection was up"),
            read_log(&sh.log),
        ))
    }
}

/// Runs a command to its end, killed after `limit`.
fn run_within(mut cmd: Command, limit: Duration) -> Result<std::process::ExitStatus, String> {
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run `ssh` ({e}); is the OpenSSH client installed?"))?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("ssh did not answer within {} s", limit.as_secs()));
            }
        }
    }
}

/// A lazily started ssh forwarder, shared by every request to its ship.
pub struct Forwarder {
    spec: SshSpec,
    state: Mutex<Option<Running>>,
    /// With a shared connection: where it lives, and the length of the
    /// master's log when this forwarder first used it (its later lines may
    /// be about our requests). Set on the first request.
    shared: Mutex<Option<(Shared, u64)>>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("spec", &self.spec)
            .finish()
    }
}

impl Forwarder {
    pub fn new(spec: SshSpec) -> Forwarder {
        Forwarder {
            spec,
            state: Mutex::new(None),
            shared: Mutex::new(None),
        }
    }

    pub fn spec(&self) -> &SshSpec {
        &self.spec
    }

    /// The ssh process id of a forwarder of this run, once started (for
    /// tests and diagnostics); `None` with a shared connection, whose
    /// master is no child of maestro.
    pub fn pid(&self) -> Option<u32> {
        self.lock().as_ref().map(|r| r.child.id())
    }

    /// The local socket, once started.
    pub fn socket(&self) -> Option<PathBuf> {
        if let Some((sh, _)) = self.shared_lock().as_ref() {
            return Some(sh.forward.clone());
        }
        self.lock().as_ref().map(|r| r.socket.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn shared_lock(&self) -> std::sync::MutexGuard<'_, Option<(Shared, u64)>> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection through the tunnel, starting (or restarting, if ssh
    /// died since) the forwarder first. ssh's failures come back as an
    /// `io::Error` carrying an [`SshFailure`].
    pub fn connect(&self) -> io::Result<UnixStream> {
        if let Some(persist) = self.spec.control_persist
            && let Some(sh) = Shared::of(&self.spec)
        {
            return self.connect_shared(sh, persist);
        }
        let mut state = self.lock();
        if let Some(running) = state.as_mut() {
            match running.child.try_wait() {
                Ok(None) => match UnixStream::connect(&running.socket) {
                    Ok(s) => return Ok(s),
                    // ssh is going away (or lost its socket): start a new one.
                    Err(_) => {
                        running.stop();
                        *state = None;
                    }
                },
                // ssh ended (network drop, remote restart): start it again below.
                _ => {
                    running.stop();
                    *state = None;
                }
            }
        }
        let (running, stream) = self.start()?;
        *state = Some(running);
        Ok(stream)
    }

    /// Through the shared connection's forward: no process at all while
    /// the master runs and listens; otherwise (first use, the master ended
    /// or was killed) the master is started and asked for the forward, once
    /// per request, under the lock.
    fn connect_shared(&self, sh: Shared, persist: Duration) -> io::Result<UnixStream> {
        let fail = |(detail, stderr): (String, String)| {
            let hint = self.spec.hint(&stderr);
            io::Error::other(SshFailure {
                detail,
                stderr,
                hint,
            })
        };
        let mut shared = self.shared_lock();
        if shared.is_none() {
            let len = fs::metadata(&sh.log).map(|m| m.len()).unwrap_or(0);
            *shared = Some((sh.clone(), len));
        }
        if let Ok(s) = UnixStream::connect(&sh.forward) {
            return Ok(s);
        }
        let _lock = lock_file(&sh.lock).map_err(fail)?;
        // Another maestro may have set it up while we waited for the lock.
        if let Ok(s) = UnixStream::connect(&sh.forward) {
            return Ok(s);
        }
        if ensure_master(&self.spec, &sh, persist).map_err(fail)? {
            // A new master's log starts empty.
            *shared = Some((sh.clone(), 0));
        }
        let _ = fs::remove_file(&sh.forward);
        // A master that still has the forward (its socket file was
        // removed) would take a new request for it as done: drop it first.
        let mut status = None;
        for op in ["cancel", "forward"] {
            let mut cmd = Command::new("ssh");
            cmd.args(self.spec.forward_args(&sh.control, &sh.forward, op))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            status = Some(
                run_within(cmd, Duration::from_secs(5))
                    .map_err(|detail| fail((detail, read_log(&sh.log))))?,
            );
        }
        let status = status.map_or_else(String::new, |s| s.to_string());
        match UnixStream::connect(&sh.forward) {
            Ok(s) => Ok(s),
            Err(e) => Err(fail((
                format!(
                    "the shared connection did not forward {} ({status}, {e})",
                    self.spec.remote
                ),
                read_log(&sh.log),
            ))),
        }
    }

    fn start(&self) -> io::Result<(Running, UnixStream)> {
        let dir = private_dir()?;
        let socket = dir.join(format!("{}.sock", socket_stem(&self.spec.ship)));
        let log = dir.join("ssh.stderr");
        let fail = |detail: String, stderr: String| {
            let hint = self.spec.hint(&stderr);
            io::Error::other(SshFailure {
                detail,
                stderr,
                hint,
            })
        };
        let log_file = fs::File::create(&log)?;
        let mut cmd = Command::new("ssh");
        cmd.args(self.spec.args(&socket))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .process_group(0);
        die_with_parent(&mut cmd);
        let mut child = match spawn_from_keeper(cmd) {
            Ok(c) => c,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(fail(
                    format!("cannot run `ssh` ({e}); is the OpenSSH client installed?"),
                    String::new(),
                ));
            }
        };
        let deadline = Instant::now() + self.spec.connect_timeout + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let stderr = read_log(&log);
                let _ = fs::remove_dir_all(&dir);
                return Err(fail(
                    format!("ssh exited ({status}) before the tunnel was up"),
                    stderr,
                ));
            }
            if socket.exists()
                && let Ok(stream) = UnixStream::connect(&socket)
            {
                let running = Running {
                    child,
                    dir,
                    socket,
                    log,
                };
                return Ok((running, stream));
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = read_log(&log);
                let _ = fs::remove_dir_all(&dir);
                return Err(fail(
                    format!(
                        "the tunnel was not up within {} s",
                        (self.spec.connect_timeout + Duration::from_secs(5)).as_secs()
                    ),
                    stderr,
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// ssh's messages so far (e.g. "open failed: connect failed: ..."), for
    /// errors met after the tunnel was up: the forwarder's, or with a
    /// shared connection the master's since this forwarder first used it
    /// (the master serves the forward and says why a connection failed).
    pub fn stderr(&self) -> String {
        if let Some((sh, from)) = self.shared_lock().as_ref() {
            return read_log_from(&sh.log, *from);
        }
        self.lock()
            .as_ref()
            .map(|r| read_log(&r.log))
            .unwrap_or_default()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        // A shared connection's master and forward stay (ControlPersist).
        if let Some(mut r) = self.lock().take() {
            r.stop();
        }
    }
}

/// The last part of ssh's stderr, without anything that looks like key
/// material (ssh does not print keys, but be sure).
fn read_log(path: &Path) -> String {
    read_log_from(path, 0)
}

/// [`read_log`] of what follows the first `offset` bytes.
fn read_log_from(path: &Path, offset: u64) -> String {
    use std::io::{Seek, SeekFrom};
    let mut text = String::new();
    if let Ok(mut f) = fs::File::open(path)
        && f.seek(SeekFrom::Start(offset)).is_ok()
    {
        let mut buf = Vec::new();
        let _ = f.by_ref().take(64 << 10).read_to_end(&mut buf);
        text = String::from_utf8_lossy(&buf).into_owned();
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("PRIVATE KEY"))
        .collect();
    let start = lines.len().saturating_sub(10);
    lines[start..].join("\n")
}

/// A fresh 0700 folder for one forwarder's socket and log: the socket is
/// root-equivalent access to the remote daemon.
fn private_dir() -> io::Result<PathBuf> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::temp_dir();
    remove_stale_dirs(&base);
    loop {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("maestro-ssh-{}-{n}", std::process::id()));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Folders left by a maestro that could not run its `Drop` (killed): the
/// process is gone, so its folder is ours to remove. Only our own folders.
fn remove_stale_dirs(base: &Path) {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("maestro-ssh-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let owned = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if owned && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A file-name-safe, short form of the ship name (socket paths are limited
/// to 107 bytes).
fn socket_stem(ship: &str) -> String {
    let s: String = ship
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    if s.is_empty() { "ship".into() } else { s }
}

/// Asks the kernel to SIGTERM the child when its parent thread ends.
fn die_with_parent(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl and getppid are async-signal-safe and touch no memory of
    // the parent; this runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGTERM as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(io::Error::other("maestro exited while starting ssh"));
            }
            Ok(())
        });
    }
}

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns on the process-long keeper thread (see the module docs).
fn spawn_from_keeper(cmd: Command) -> io::Result<Child> {
    static KEEPER: OnceLock<Option<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("maestro-ssh-keeper".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .ok()
            .map(|_| tx)
    });
    let mut cmd = cmd;
    let Some(tx) = keeper else {
        return cmd.spawn();
    };
    let (reply_tx, reply_rx) = mpsc::channel();
    if let Err(mpsc::SendError((mut cmd, _))) = tx.send((cmd, reply_tx)) {
        return cmd.spawn();
    }
    reply_rx
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the ssh keeper thread is gone")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_strict_and_ends_with_the_host() {
        let spec = SshSpec {
            ship: "shipssh".into(),
            host: "10.213.0.22".into(),
            user: "root".into(),
            key: "/k/id".into(),
            port: 22,
            known_hosts: Some("/k/known_hosts".into()),
            remote: "/var/run/docker.sock".into(),
            connect_timeout: Duration::from_secs(5),
            control_persist: None,
        };
        let a = spec.args(Path::new("/tmp/d/shipssh.sock")).join(" ");
        for want in [
            "-N -T",
            "BatchMode=yes",
            "ExitOnForwardFailure=yes",
            "StreamLocalBindUnlink=yes",
            "StrictHostKeyChecking=yes",
            "ConnectTimeout=5",
            "UserKnownHostsFile=/k/known_hosts",
            "-i /k/id -p 22 -l root",
            "-L /tmp/d/shipssh.sock:/var/run/docker.sock -- 10.213.0.22",
        ] {
            assert!(a.contains(want), "{want} missing in {a}");
        }
        assert!(a.ends_with("-- 10.213.0.22"));
        assert!(!a.contains("Control"), "{a}");

        // The shared connection's master, and a forward asked of it.
        let ctl = Path::new("/s/ab.ctl");
        let f = spec
            .forward_args(ctl, Path::new("/s/ab-1.sock"), "forward")
            .join(" ");
        assert_eq!(
            f,
            "-o ControlPath=/s/ab.ctl -O forward -L /s/ab-1.sock:/var/run/docker.sock -- 10.213.0.22"
        );
        let m = spec
            .master_args(ctl, Path::new("/s/ab.log"), Duration::from_secs(300))
            .join(" ");
        assert!(
            m.starts_with("-M -N -f -E /s/ab.log -o ControlPath=/s/ab.ctl -o ControlPersist=300"),
            "{m}"
        );
        for want in [
            "StrictHostKeyChecking=yes",
            "BatchMode=yes",
            "IdentitiesOnly=yes",
            "UserKnownHostsFile=/k/known_hosts",
            "-i /k/id -p 22 -l root",
        ] {
            assert!(m.contains(want), "{want} missing in {m}");
        }
        assert!(m.ends_with("-- 10.213.0.22") && !m.contains("-L"), "{m}");
    }

    #[test]
    fn shared_connections_differ_by_every_setting_that_authenticates() {
        let spec = SshSpec {
            ship: "a".into(),
            host: "10.213.0.22".into(),
            user: "root".into(),
            key: "/k/id".into(),
            port: 22,
            known_hosts: Some("/k/kh".into()),
            remote: "/r.sock".into(),
            connect_timeout: Duration::from_secs(5),
            control_persist: Some(Duration::from_secs(300)),
        };
        let name = spec.control_name();
        assert_eq!(name.len(), 16);
        // The ship's name and the remote socket do not matter...
        let same = SshSpec {
            ship: "b".into(),
            remote: "/other.sock".into(),
            ..spec.clone()
        };
        assert_eq!(same.control_name(), name);
        // ...every setting of the connection does.
        for other in [
            SshSpec {
                known_hosts: None,
                ..spec.clone()
            },
            SshSpec {
                known_hosts: Some("/k/kh2".into()),
                ..spec.clone()
            },
            SshSpec {
                key: "/k/id2".into(),
                ..spec.clone()
            },
            SshSpec {
                user: "ops".into(),
                ..spec.clone()
            },
            SshSpec {
                port: 2222,
                ..spec.clone()
            },
            SshSpec {
                host: "10.213.0.23".into(),
                ..spec.clone()
            },
        ] {
            assert_ne!(other.control_name(), name, "{other:?}");
        }
    }

    #[test]
    fn the_variable_overrides_control_persist() {
        let five = Some(Duration::from_secs(300));
        assert_eq!(persist_from(None, five), five);
        assert_eq!(persist_from(Some(""), five), five);
        for off in ["0", "off", "no", "false", " 0 "] {
            assert_eq!(persist_from(Some(off), five), None, "{off}");
        }
        assert_eq!(
            persist_from(Some("60"), None),
            Some(Duration::from_secs(60))
        );
        assert_eq!(persist_from(Some("soon"), five), five);
    }

    #[test]
    fn shared_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = shared_dir().expect("a private folder");
        let mode = fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn host_key_failures_say_what_to_do() {
        let mut spec = SshSpec {
            ship: "s".into(),
            host: "10.213.0.22".into(),
            user: "root".into(),
            key: "/k/id".into(),
            port: 22,
            known_hosts: Some("/k/kh".into()),
            remote: "/r.sock".into(),
            connect_timeout: Duration::from_secs(5),
            control_persist: None,
        };
        let unknown = "No ED25519 host key is known for 10.213.0.22 and you have requested strict checking.\nHost key verification failed.";
        let h = spec.hint(unknown);
        assert!(h.contains("is not in /k/kh"), "{h}");
        assert!(h.contains("ssh-keyscan -p 22 10.213.0.22 >> /k/kh"), "{h}");
        let changed = "Host key for 10.213.0.22 has changed and you have requested strict checking.\nHost key verification failed.";
        let h = spec.hint(changed);
        assert!(h.contains("can be an attack"), "{h}");
        assert!(h.contains("ssh-keygen -f /k/kh -R 10.213.0.22"), "{h}");
        spec.port = 2222;
        spec.known_hosts = None;
        assert!(
            spec.hint(changed)
                .contains("ssh-keygen -f ~/.ssh/known_hosts -R [10.213.0.22]:2222")
        );
        assert_eq!(spec.hint("Permission denied (publickey)."), "");
    }

    #[test]
    fn socket_names_are_safe_and_short() {
        assert_eq!(socket_stem("ship/../x y"), "ship____x_y");
        assert_eq!(socket_stem(&"a".repeat(100)).len(), 32);
        assert_eq!(socket_stem(""), "ship");
    }

    #[test]
    fn private_dir_is_0700() {
        use std::os::unix::fs::PermissionsExt;
        let d = private_dir().unwrap();
        let mode = fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        fs::remove_dir_all(&d).unwrap();
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn log_drops_key_material_and_keeps_the_tail() {
        let d = private_dir().unwrap();
        let p = d.join("log");
        fs::write(
            &p,
            "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nPermission denied (publickey).\n",
        )
        .unwrap();
        let s = read_log(&p);
        fs::remove_dir_all(&d).unwrap();
        assert_eq!(s, "a\nPermission denied (publickey).");
    }
}
