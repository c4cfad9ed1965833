//! Typed calls to one ship's Docker Engine API.
//!
//! `Docker` is `Sync`: share one per ship between threads; its agent pools
//! and reuses connections. Plain calls are cut by the ship's `timeout`;
//! calls that wait on containers or disks (create, start, stop, kill,
//! remove) by a longer limit (see [`call_limit`]); streaming calls (logs,
//! events, pull, exec output, wait) only by the connect and send phases
//! (and, for a pull, the wait for the answer's head), never while data
//! flows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::BodyReader;
use ureq::http::{self, Method, Response};

use super::auth::RegistryAuth;
use super::error::{Context, Error, ErrorKind};
use super::models::{
    ContainerDetails, ContainerSummary, Created, DaemonEvent, ExecConfig, ExecDetails, ExecOutput,
    ImageInspect, ImageSummary, Version, WaitResult,
};
use super::query::{Filters, Query, seg};
use super::ssh::Forwarder;
use super::stream::{
    Frame, Frames, Framing, JsonStream, MAX_JSON_MESSAGE, ProgressMessage, PullEvent, StreamKind,
};
use super::transport::{self, TransportKind};
use super::version;
use crate::config::ship::{ApiVersion, Ship};

const SMALL: u64 = 1 << 20;
const INSPECT: u64 = 8 << 20;
const LIST: u64 = 64 << 20;
const ERROR_BODY: u64 = 64 << 10;
/// Most pull progress read from one pull. dockerd sends a progress message
/// (about 250 bytes) per 512 KiB downloaded and again per 512 KiB
/// extracted, about 1 KiB per MiB of image: this is a pull of some 64 GiB.
/// A daemon that sends progress without end is cut off here rather than
/// followed forever.
pub const PULL_PROGRESS_LIMIT: u64 = 64 << 20;
/// Most output `exec` collects before it gives up.
pub const EXEC_OUTPUT_LIMIT: usize = 16 << 20;

/// The least time a call that makes the daemon wait on containers or
/// disks may take: a loaded daemon can spend tens of seconds starting a
/// container or removing its volumes, which the ship's `timeout` (meant to
/// tell an unreachable host quickly) must not cut.
pub const LONG_CALL: Duration = Duration::from_secs(60);

/// How long a call may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    /// The ship's timeout: questions (ping, inspect, list).
    Normal,
    /// Work on containers or disks: the ship's timeout but at least
    /// [`LONG_CALL`], plus the time the daemon is asked to wait (stop's
    /// grace period).
    Long(Duration),
    /// Only connecting and sending are timed.
    Stream,
    /// A stream whose answer (its head) must come within the long-call
    /// limit: a pull (dockerd answers once it has the manifest) or logs
    /// read to their end. A daemon that never answers must not hold
    /// maestro forever. What follows is not timed.
    StreamAnswer,
}

/// The whole-call limit of a call of `timing` on a ship whose timeout is
/// `ship`; `None`: not limited as a whole (streams).
fn call_limit(timing: Timing, ship: Duration) -> Option<Duration> {
    match timing {
        Timing::Normal => Some(ship),
        Timing::Long(wait) => Some(ship.max(LONG_CALL) + wait),
        Timing::Stream => None,
        Timing::StreamAnswer => Some(ship.max(LONG_CALL)),
    }
}

/// Options of `logs`.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Only the last N lines; None = all.
    pub tail: Option<u64>,
    /// Unix timestamp (seconds).
    pub since: Option<i64>,
    pub timestamps: bool,
    /// Whether the container has a TTY (raw output); None detects it from
    /// the stream itself.
    pub tty: Option<bool>,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            follow: false,
            stdout: true,
            stderr: true,
            tail: None,
            since: None,
            timestamps: false,
            tty: None,
        }
    }
}

/// A Docker Engine client for one ship.
pub struct Docker {
    agent: ureq::Agent,
    base: String,
    kind: TransportKind,
    ctx: Context,
    forwarder: Option<Arc<Forwarder>>,
    warning: Option<String>,
    fixed_api: Option<String>,
    negotiated: Mutex<Option<String>>,
    timeout: Duration,
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docker")
            .field("ship", &self.ctx.ship)
            .field("endpoint", &self.ctx.endpoint)
            .finish()
    }
}

impl Docker {
    /// A client for the ship. Nothing is contacted yet; fails only when TLS
    /// files cannot be read.
    pub fn new(ship: &Ship) -> Result<Docker, Error> {
        let b = transport::connect(ship)?;
        Ok(Docker {
            agent: b.agent,
            base: b.base,
            kind: b.kind,
            ctx: b.ctx,
            forwarder: b.forwarder,
            warning: b.warning,
            fixed_api: match &ship.api_version {
                ApiVersion::Auto => None,
                ApiVersion::Fixed(v) => Some(v.trim().trim_start_matches('v').to_string()),
            },
            negotiated: Mutex::new(None),
            timeout: ship.timeout,
        })
    }

    pub fn ship(&self) -> &str {
        &self.ctx.ship
    }

    /// How the ship is reached, e.g. `tcp://10.213.0.12:2375`.
    pub fn endpoint(&self) -> &str {
        &self.ctx.endpoint
    }

    pub fn transport(&self) -> TransportKind {
        self.kind
    }

    /// A warning the user should see once (certificate checks off).
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// The SSH forwarder's process id, once started.
    pub fn forwarder_pid(&self) -> Option<u32> {
        self.forwarder.as_ref().and_then(|f| f.pid())
    }

    fn err(&self, kind: ErrorKind) -> Error {
        self.ctx.error(kind)
    }

    /// Adds ssh's own messages to connection-level failures through a tunnel
    /// (e.g. "open failed: connect failed: No such file or directory").
    fn with_ssh(&self, e: Error) -> Error {
        let Some(f) = &self.forwarder else { return e };
        // The daemon's side is not what failed: the tunnel dropped the
        // connection, and ssh's log says why.
        let detail = match &e.kind {
            ErrorKind::Io { .. } | ErrorKind::Protocol { .. } | ErrorKind::Refused => {
                "the connection through the tunnel failed".to_string()
            }
            _ => return e,
        };
        let stderr = f.stderr();
        if stderr.is_empty() {
            return e;
        }
        self.err(ErrorKind::Ssh {
            detail,
            stderr,
            hint: String::new(),
        })
    }

    fn map_io(&self, e: std::io::Error) -> Error {
        self.with_ssh(self.ctx.io(e))
    }

    // ---- requests --------------------------------------------------------

    /// The API version in use: negotiated once per client (`auto`), or the
    /// configured one.
    pub fn api_version(&self) -> Result<String, Error> {
        if let Some(v) = &self.fixed_api {
            return Ok(v.clone());
        }
        let mut cached = self.negotiated.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cached.as_ref() {
            return Ok(v.clone());
        }
        let v = self.daemon_version()?;
        let picked =
            version::negotiate(version::OURS, &v.api_version, v.min_api_version.as_deref())
                .map_err(|detail| {
                    self.err(ErrorKind::ApiVersion {
                        requested: version::OURS.to_string(),
                        detail,
                    })
                })?;
        *cached = Some(picked.clone());
        Ok(picked)
    }

    fn url(&self, path: &str, query: &Query) -> Result<String, Error> {
        Ok(format!(
            "{}/v{}{path}{}",
            self.base,
            self.api_version()?,
            query.0
        ))
    }

    fn unversioned_url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send(
        &self,
        method: Method,
        url: String,
        body: Option<Vec<u8>>,
        headers: &[(&str, String)],
        timing: Timing,
    ) -> Result<Response<ureq::Body>, Error> {
        let mut b = http::Request::builder().method(method.clone()).uri(url);
        for (k, v) in headers {
            b = b.header(*k, v.as_str());
        }
        let result = match body {
            Some(json) => {
                let req = b
                    .header("Content-Type", "application/json")
                    .body(json)
                    .map_err(|e| self.ctx.protocol(format!("bad request: {e}")))?;
                self.agent.run(self.timed(req, timing))
            }
            // dockerd rejects a POST with a body of unknown length ("starting
            // container with non-empty request body"): send an empty one.
            None if method == Method::POST => {
                let req = b
                    .body(Vec::new())
                    .map_err(|e| self.ctx.protocol(format!("bad request: {e}")))?;
                self.agent.run(self.timed(req, timing))
            }
            None => {
                let req = b
                    .body(())
                    .map_err(|e| self.ctx.protocol(format!("bad request: {e}")))?;
                self.agent.run(self.timed(req, timing))
            }
        };
        let resp = result.map_err(|e| {
            let mut err = self.ctx.transport(e);
            // Say the limit this call really had (connecting is always cut
            // by the ship's timeout).
            if let (ErrorKind::Timeout { after, phase }, Some(limit)) =
                (&mut err.kind, call_limit(timing, self.timeout))
                && phase != "connect"
                && (timing != Timing::StreamAnswer || phase == "receive response")
            {
                *after = limit;
            }
            self.with_ssh(err)
        })?;
        self.check(resp)
    }

    fn timed<S: ureq::AsSendBody>(
        &self,
        req: http::Request<S>,
        timing: Timing,
    ) -> http::Request<S> {
        match timing {
            Timing::Normal => req,
            // A host that is down still fails within the ship's timeout.
            Timing::Long(_) => self
                .agent
                .configure_request(req)
                .timeout_global(call_limit(timing, self.timeout))
                .timeout_connect(Some(self.timeout))
                .build(),
            Timing::Stream | Timing::StreamAnswer => self
                .agent
                .configure_request(req)
                .timeout_global(None)
                .timeout_per_call(None)
                .timeout_connect(Some(self.timeout))
                .timeout_send_request(Some(self.timeout))
                .timeout_recv_response(call_limit(timing, self.timeout))
                .timeout_recv_body(None)
                .build(),
        }
    }

    /// Turns 4xx/5xx answers into errors with the daemon's message, and
    /// redirects (never followed) into protocol errors. 304 (already
    /// started, already stopped) is an answer, not a redirect.
    fn check(&self, resp: Response<ureq::Body>) -> Result<Response<ureq::Body>, Error> {
        let status = resp.status().as_u16();
        if (300..400).contains(&status) && status != 304 {
            let to = header(&resp, "location");
            return Err(self.ctx.protocol(format!(
                "HTTP {status}, a redirect to `{}`, which is not followed: a Docker daemon \
                 never redirects; check that the ship's address is the daemon's, not a web \
                 server's or a proxy's",
                excerpt(to.as_bytes(), 200)
            )));
        }
        if status < 400 {
            return Ok(resp);
        }
        let mut body = resp.into_body();
        let bytes = body
            .with_config()
            .limit(ERROR_BODY)
            .read_to_vec()
            .unwrap_or_default();
        let message = daemon_message(&bytes);
        if status == 400 && version::is_version_rejection(&message) {
            let requested = self
                .fixed_api
                .clone()
                .or_else(|| self.negotiated.lock().ok().and_then(|g| g.clone()))
                .unwrap_or_else(|| version::OURS.to_string());
            return Err(self.err(ErrorKind::ApiVersion {
                requested,
                detail: message,
            }));
        }
        Err(self.err(ErrorKind::Daemon { status, message }))
    }

    fn read_json<T: DeserializeOwned>(
        &self,
        resp: Response<ureq::Body>,
        limit: u64,
        what: &str,
    ) -> Result<T, Error> {
        let content_type = header(&resp, "content-type");
        let bytes = self.read_bytes(resp, limit)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            // Say what came instead: an HTML page or plain text means
            // something other than dockerd answered.
            let kind = if content_type.is_empty() {
                "no Content-Type".to_string()
            } else {
                format!("Content-Type {content_type}")
            };
            self.ctx.protocol(format!(
                "invalid JSON from {what} ({e}; {kind}, {} bytes: `{}`)",
                bytes.len(),
                excerpt(&bytes, 80)
            ))
        })
    }

    fn read_bytes(&self, resp: Response<ureq::Body>, limit: u64) -> Result<Vec<u8>, Error> {
        resp.into_body()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| self.with_ssh(self.ctx.transport(e)))
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str, q: Query, limit: u64) -> Result<T, Error> {
        let resp = self.send(Method::GET, self.url(path, &q)?, None, &[], Timing::Normal)?;
        self.read_json(resp, limit, path)
    }

    fn post_empty(&self, path: &str, q: Query, timing: Timing) -> Result<u16, Error> {
        let resp = self.send(Method::POST, self.url(path, &q)?, None, &[], timing)?;
        let status = resp.status().as_u16();
        // Drain so the connection goes back to the pool.
        self.read_bytes(resp, SMALL)?;
        Ok(status)
    }

    fn json_body(&self, body: &impl Serialize) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(body)
            .map_err(|e| self.ctx.protocol(format!("cannot encode request: {e}")))
    }

    // ---- system ----------------------------------------------------------

    /// `GET /_ping`: the daemon answers `OK`.
    pub fn ping(&self) -> Result<(), Error> {
        let resp = self.send(
            Method::GET,
            self.unversioned_url("/_ping"),
            None,
            &[],
            Timing::Normal,
        )?;
        let body = self.read_bytes(resp, SMALL)?;
        if body.trim_ascii() == b"OK" {
            Ok(())
        } else {
            Err(self.ctx.protocol(format!(
                "/_ping answered {:?}",
                String::from_utf8_lossy(&body[..body.len().min(80)])
            )))
        }
    }

    /// `GET /version` (unversioned: works whatever the daemon's API range).
    pub fn daemon_version(&self) -> Result<Version, Error> {
        let resp = self.send(
            Method::GET,
            self.unversioned_url("/version"),
            None,
            &[],
            Timing::Normal,
        )?;
        self.read_json(resp, SMALL, "/version")
    }

    /// `GET /info`, as raw JSON (fields vary a lot between daemon versions;
    /// `models::SystemInfo` can be deserialised from it).
    pub fn info(&self) -> Result<serde_json::Value, Error> {
        self.get_json("/info", Query::new(), INSPECT)
    }

    // ---- swarm -----------------------------------------------------------

    /// `GET /nodes` (a manager only), as raw JSON: `maestro swarm label`
    /// reads a few fields and sends the node's spec back whole, so no field
    /// a newer daemon adds is lost on the way.
    pub fn nodes(&self) -> Result<Vec<serde_json::Value>, Error> {
        self.get_json("/nodes", Query::new(), LIST)
    }

    /// `POST /nodes/{id}/update?version=N` with the whole new spec.
    pub fn node_update(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), Error> {
        let mut q = Query::new();
        q.push("version", &version.to_string());
        let resp = self.send(
            Method::POST,
            self.url(&format!("/nodes/{}/update", seg(id)), &q)?,
            Some(self.json_body(spec)?),
            &[],
            Timing::Normal,
        )?;
        self.read_bytes(resp, SMALL).map(|_| ())
    }

    // ---- containers ------------------------------------------------------

    /// `GET /containers/json`.
    pub fn containers(&self, all: bool, filters: &Filters) -> Result<Vec<ContainerSummary>, Error> {
        let mut q = Query::new();
        q.flag("all", all);
        q.filters(filters);
        self.get_json("/containers/json", q, LIST)
    }

    /// `GET /containers/{id}/json`.
    pub fn inspect(&self, id: &str) -> Result<ContainerDetails, Error> {
        let raw: serde_json::Value = self.get_json(
            &format!("/containers/{}/json", seg(id)),
            Query::new(),
            INSPECT,
        )?;
        let mut d: ContainerDetails = serde_json::from_value(raw.clone())
            .map_err(|e| self.ctx.protocol(format!("invalid container inspect: {e}")))?;
        d.raw = raw;
        Ok(d)
    }

    /// `POST /containers/create?name=`.
    pub fn create(&self, name: &str, body: &impl Serialize) -> Result<Created, Error> {
        self.create_on(name, None, body)
    }

    /// `POST /containers/create?name=&platform=`: `platform` selects the
    /// image variant (`linux/arm64`) the daemon must use.
    pub fn create_on(
        &self,
        name: &str,
        platform: Option<&str>,
        body: &impl Serialize,
    ) -> Result<Created, Error> {
        let mut q = Query::new();
        if !name.is_empty() {
            q.push("name", name);
        }
        if let Some(p) = platform {
            q.push("platform", p);
        }
        let resp = self.send(
            Method::POST,
            self.url("/containers/create", &q)?,
            Some(self.json_body(body)?),
            &[],
            Timing::Long(Duration::ZERO),
        )?;
        self.read_json(resp, SMALL, "/containers/create")
    }

    /// `POST /containers/{id}/start`; already running is fine.
    pub fn start(&self, id: &str) -> Result<(), Error> {
        self.post_empty(
            &format!("/containers/{}/start", seg(id)),
            Query::new(),
            Timing::Long(Duration::ZERO),
        )
        .map(|_| ())
    }

    /// `POST /containers/{id}/stop?t=`; already stopped is fine. The call
    /// may take the stop timeout (the daemon's default: 10 s) on top of the
    /// long-call limit.
    pub fn stop(&self, id: &str, timeout: Option<Duration>) -> Result<(), Error> {
        let mut q = Query::new();
        let mut grace = Duration::from_secs(10);
        if let Some(t) = timeout {
            q.push("t", &t.as_secs().to_string());
            grace = t;
        }
        self.post_empty(
            &format!("/containers/{}/stop", seg(id)),
            q,
            Timing::Long(grace),
        )
        .map(|_| ())
    }

    /// `POST /containers/{id}/kill?signal=`.
    pub fn kill(&self, id: &str, signal: Option<&str>) -> Result<(), Error> {
        let mut q = Query::new();
        if let Some(s) = signal {
            q.push("signal", s);
        }
        // The daemon answers a SIGKILL once the container is dead.
        self.post_empty(
            &format!("/containers/{}/kill", seg(id)),
            q,
            Timing::Long(Duration::ZERO),
        )
        .map(|_| ())
    }

    /// `DELETE /containers/{id}?v=&force=`.
    pub fn remove(&self, id: &str, volumes: bool, force: bool) -> Result<(), Error> {
        let mut q = Query::new();
        q.flag("v", volumes);
        q.flag("force", force);
        let resp = self.send(
            Method::DELETE,
            self.url(&format!("/containers/{}", seg(id)), &q)?,
            None,
            &[],
            Timing::Long(Duration::ZERO),
        )?;
        self.read_bytes(resp, SMALL).map(|_| ())
    }

    /// `POST /containers/{id}/wait`: blocks until the container stops.
    pub fn wait(&self, id: &str) -> Result<WaitResult, Error> {
        let resp = self.send(
            Method::POST,
            self.url(&format!("/containers/{}/wait", seg(id)), &Query::new())?,
            None,
            &[],
            Timing::Stream,
        )?;
        self.read_json(resp, SMALL, "/containers/wait")
    }

    /// `POST /containers/{id}/rename?name=`.
    pub fn rename(&self, id: &str, new_name: &str) -> Result<(), Error> {
        let mut q = Query::new();
        q.push("name", new_name);
        self.post_empty(
            &format!("/containers/{}/rename", seg(id)),
            q,
            Timing::Normal,
        )
        .map(|_| ())
    }

    /// `GET /containers/{id}/logs`: frames as they arrive (with `follow`,
    /// until the container stops or the stream is dropped).
    pub fn logs(&self, id: &str, opts: &LogOptions) -> Result<OutputStream<'_>, Error> {
        let mut q = Query::new();
        q.flag("stdout", opts.stdout);
        q.flag("stderr", opts.stderr);
        q.flag("follow", opts.follow);
        q.flag("timestamps", opts.timestamps);
        q.push(
            "tail",
            &opts
                .tail
                .map_or_else(|| "all".to_string(), |n| n.to_string()),
        );
        if let Some(s) = opts.since {
            q.push("since", &s.to_string());
        }
        // Followed logs last as long as the container. Logs read to their
        // end are answered at once; a tail of them is small, so it is read
        // within the long-call limit and at most `tail_limit` bytes (a
        // daemon sending without end is cut off, in time and in memory).
        let (timing, limit) = match (opts.follow, opts.tail) {
            (true, _) => (Timing::Stream, None),
            (false, None) => (Timing::StreamAnswer, None),
            (false, Some(n)) => (Timing::Long(Duration::ZERO), Some(tail_limit(n))),
        };
        let resp = self.send(
            Method::GET,
            self.url(&format!("/containers/{}/logs", seg(id)), &q)?,
            None,
            &[],
            timing,
        )?;
        let mut stream = self.output_stream(resp, opts.tty);
        stream.cap = limit.map(|l| (l, 0));
        Ok(stream)
    }

    fn output_stream(&self, resp: Response<ureq::Body>, tty: Option<bool>) -> OutputStream<'_> {
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let framing = match tty {
            Some(true) => Framing::Raw,
            Some(false) => Framing::Multiplexed,
            None if content_type.contains("multiplexed-stream") => Framing::Multiplexed,
            None => Framing::Detect,
        };
        let reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        OutputStream {
            docker: self,
            frames: Frames::new(reader, framing),
            cap: None,
            done: false,
        }
    }

    // ---- exec ------------------------------------------------------------

    /// `POST /containers/{id}/exec`: returns the exec id.
    pub fn exec_create(&self, container: &str, config: &ExecConfig) -> Result<String, Error> {
        let resp = self.send(
            Method::POST,
            self.url(
                &format!("/containers/{}/exec", seg(container)),
                &Query::new(),
            )?,
            Some(self.json_body(config)?),
            &[],
            Timing::Normal,
        )?;
        let created: Created = self.read_json(resp, SMALL, "/exec create")?;
        Ok(created.id)
    }

    /// `POST /exec/{id}/start` without an upgrade: the output comes back as a
    /// close-delimited body of frames (raw when `tty`).
    pub fn exec_start(&self, exec_id: &str, tty: bool) -> Result<OutputStream<'_>, Error> {
        let body = serde_json::json!({"Detach": false, "Tty": tty});
        let resp = self.send(
            Method::POST,
            self.url(&format!("/exec/{}/start", seg(exec_id)), &Query::new())?,
            Some(self.json_body(&body)?),
            &[],
            Timing::Stream,
        )?;
        Ok(self.output_stream(resp, Some(tty)))
    }

    /// `POST /exec/{id}/start` detached: returns once the process started;
    /// `exec_inspect` tells when it ends and its exit code. Nothing blocks
    /// while the command runs, so a waiting caller can give up at any time.
    pub fn exec_start_detached(&self, exec_id: &str) -> Result<(), Error> {
        let body = serde_json::json!({"Detach": true, "Tty": false});
        let resp = self.send(
            Method::POST,
            self.url(&format!("/exec/{}/start", seg(exec_id)), &Query::new())?,
            Some(self.json_body(&body)?),
            &[],
            Timing::Normal,
        )?;
        self.read_bytes(resp, SMALL).map(|_| ())
    }

    /// `GET /exec/{id}/json`.
    pub fn exec_inspect(&self, exec_id: &str) -> Result<ExecDetails, Error> {
        self.get_json(&format!("/exec/{}/json", seg(exec_id)), Query::new(), SMALL)
    }

    /// Runs a command in a running container and collects its output (up
    /// to [`EXEC_OUTPUT_LIMIT`]) and exit code.
    pub fn exec(&self, container: &str, cmd: &[&str]) -> Result<ExecOutput, Error> {
        let config = ExecConfig {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        };
        let id = self.exec_create(container, &config)?;
        let mut out = ExecOutput::default();
        for frame in self.exec_start(&id, false)? {
            let frame = frame?;
            if out.stdout.len() + out.stderr.len() + frame.data.len() > EXEC_OUTPUT_LIMIT {
                return Err(self
                    .ctx
                    .protocol(format!("exec output larger than {EXEC_OUTPUT_LIMIT} bytes")));
            }
            match frame.stream {
                StreamKind::Stderr => out.stderr.extend(frame.data),
                _ => out.stdout.extend(frame.data),
            }
        }
        // The output ends when the process does, but the daemon may record
        // the exit code a moment later.
        let deadline = std::time::Instant::now() + self.timeout;
        loop {
            let details = self.exec_inspect(&id)?;
            match details.exit_code {
                Some(code) if !details.running => {
                    out.exit_code = code;
                    return Ok(out);
                }
                _ if std::time::Instant::now() >= deadline => {
                    return Err(self.ctx.protocol(format!(
                        "exec {id} still reported running after its output ended"
                    )));
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    // ---- images ----------------------------------------------------------

    // ---- networks and volumes ---------------------------------------------

    /// `GET /networks?filters=`, as raw JSON.
    pub fn networks(&self, filters: &Filters) -> Result<Vec<serde_json::Value>, Error> {
        let mut q = Query::new();
        q.filters(filters);
        self.get_json("/networks", q, LIST)
    }

    /// `GET /networks/{id or name}`, as raw JSON.
    pub fn network_inspect(&self, name: &str) -> Result<serde_json::Value, Error> {
        self.get_json(&format!("/networks/{}", seg(name)), Query::new(), INSPECT)
    }

    /// `POST /networks/create`; returns the new network's id.
    pub fn network_create(&self, body: &serde_json::Value) -> Result<String, Error> {
        let resp = self.send(
            Method::POST,
            self.url("/networks/create", &Query::new())?,
            Some(self.json_body(body)?),
            &[],
            Timing::Long(Duration::ZERO),
        )?;
        let v: serde_json::Value = self.read_json(resp, SMALL, "/networks/create")?;
        Ok(v["Id"].as_str().unwrap_or_default().to_string())
    }

    /// `POST /networks/{id}/connect`: attaches a container with its
    /// endpoint settings (aliases, fixed address).
    pub fn network_connect(
        &self,
        network: &str,
        container: &str,
        endpoint: &crate::docker::models::EndpointSettings,
    ) -> Result<(), Error> {
        let body = serde_json::json!({ "Container": container, "EndpointConfig": endpoint });
        let resp = self.send(
            Method::POST,
            self.url(
                &format!("/networks/{}/connect", seg(network)),
                &Query::new(),
            )?,
            Some(self.json_body(&body)?),
            &[],
            Timing::Long(Duration::ZERO),
        )?;
        self.read_bytes(resp, SMALL).map(|_| ())
    }

    /// `DELETE /networks/{id}`.
    pub fn network_remove(&self, id: &str) -> Result<(), Error> {
        let resp = self.send(
            Method::DELETE,
            self.url(&format!("/networks/{}", seg(id)), &Query::new())?,
            None,
            &[],
            Timing::Long(Duration::ZERO),
        )?;
        self.read_bytes(resp, SMALL).map(|_| ())
    }

    /// `GET /volumes/{name}`, as raw JSON.
    pub fn volume_inspect(&self, name: &str) -> Result<serde_json::Value, Error> {
        self.get_json(&format!("/volumes/{}", seg(name)), Query::new(), INSPECT)
    }

    /// `POST /volumes/create`.
    pub fn volume_create(&self, body: &serde_json::Value) -> Result<(), Error> {
        let resp = self.send(
            Method::POST,
            self.url("/volumes/create", &Query::new())?,
            Some(self.json_body(body)?),
            &[],
            Timing::Long(Duration::ZERO),
        )?;
        self.read_bytes(resp, SMALL).map(|_| ())
    }

    /// `GET /images/json`.
    pub fn images(&self, filters: &Filters) -> Result<Vec<ImageSummary>, Error> {
        let mut q = Query::new();
        q.filters(filters);
        self.get_json("/images/json", q, LIST)
    }

    /// `GET /images/{name}/json`.
    pub fn image_inspect(&self, name: &str) -> Result<ImageInspect, Error> {
        self.get_json(
            &format!("/images/{}/json", seg(name)),
            Query::new(),
            INSPECT,
        )
    }

    /// `DELETE /images/{name}?force=`.
    pub fn image_remove(&self, name: &str, force: bool) -> Result<(), Error> {
        let mut q = Query::new();
        q.flag("force", force);
        let resp = self.send(
            Method::DELETE,
            self.url(&format!("/images/{}", seg(name)), &q)?,
            None,
            &[],
            Timing::Long(Duration::ZERO),
        )?;
        self.read_bytes(resp, LIST).map(|_| ())
    }

    /// `POST /images/create?fromImage=&tag=`: pulls `reference`
    /// (`registry/repo:tag` or `repo@digest`; no tag means `latest`). The
    /// progress comes back event by event; an error in the stream ends it
    /// with `ErrorKind::Pull`.
    pub fn pull(&self, reference: &str, auth: Option<&RegistryAuth>) -> Result<Pull<'_>, Error> {
        // The one splitter of the workspace: a digest goes in `tag` (a tag
        // before it is dropped), as the Docker CLI sends it.
        let (repo, tag) = maestro_common::image_details(reference);
        let mut q = Query::new();
        q.push("fromImage", repo);
        q.push("tag", tag);
        let mut headers = Vec::new();
        if let Some(a) = auth {
            headers.push(("X-Registry-Auth", a.header_value()));
        }
        let resp = self
            .send(
                Method::POST,
                self.url("/images/create", &q)?,
                None,
                &headers,
                Timing::StreamAnswer,
            )
            .map_err(|e| match e.kind {
                // Failing before any progress (unknown image, no credentials)
                // comes as an error status: report it as the pull's failure.
                ErrorKind::Daemon { status, message } => self.err(ErrorKind::Pull {
                    image: reference.to_string(),
                    message,
                    status: Some(status),
                }),
                _ => e,
            })?;
        let reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        Ok(Pull {
            docker: self,
            image: reference.to_string(),
            inner: JsonStream::with_limits(reader, MAX_JSON_MESSAGE, PULL_PROGRESS_LIMIT),
        })
    }

    /// `POST /images/create?fromSrc=-&repo=&tag=`: imports `tar` (a root
    /// file system) as the image `repo:tag`. An error the daemon reports in
    /// its progress stream fails the call.
    pub fn import_image(&self, repo: &str, tag: &str, tar: Vec<u8>) -> Result<(), Error> {
        let mut q = Query::new();
        q.push("fromSrc", "-");
        q.push("repo", repo);
        q.push("tag", tag);
        let resp = self.send(
            Method::POST,
            self.url("/images/create", &q)?,
            Some(tar),
            &[],
            Timing::Long(Duration::ZERO),
        )?;
        let body = self.read_bytes(resp, SMALL)?;
        for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
                self.ctx
                    .protocol(format!("invalid JSON from an import: {e}"))
            })?;
            if let Some(message) = v.get("error").and_then(|m| m.as_str()) {
                return Err(self.err(ErrorKind::Daemon {
                    status: 500,
                    message: message.to_string(),
                }));
            }
        }
        Ok(())
    }

    /// Pulls to the end, passing each event to `on_event`, or until
    /// `on_event` breaks: the stream is then dropped, which closes the
    /// connection, and the daemon abandons the pull. Returns whether the
    /// pull ran to its end.
    pub fn pull_all(
        &self,
        reference: &str,
        auth: Option<&RegistryAuth>,
        mut on_event: impl FnMut(&PullEvent) -> std::ops::ControlFlow<()>,
    ) -> Result<bool, Error> {
        for ev in self.pull(reference, auth)? {
            if on_event(&ev?).is_break() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    // ---- events ----------------------------------------------------------

    /// `GET /events`: events as they happen (until `until`, or forever).
    pub fn events(
        &self,
        filters: &Filters,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Events<'_>, Error> {
        let mut q = Query::new();
        q.filters(filters);
        if let Some(s) = since {
            q.push("since", &s.to_string());
        }
        if let Some(u) = until {
            q.push("until", &u.to_string());
        }
        let resp = self.send(
            Method::GET,
            self.url("/events", &q)?,
            None,
            &[],
            Timing::Stream,
        )?;
        let reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        Ok(Events {
            docker: self,
            inner: JsonStream::new(reader),
        })
    }
}

/// Log or exec output, frame by frame.
pub struct OutputStream<'a> {
    docker: &'a Docker,
    frames: Frames<BodyReader<'static>>,
    /// Most bytes of output accepted, and bytes read so far.
    cap: Option<(u64, u64)>,
    done: bool,
}

impl Iterator for OutputStream<'_> {
    type Item = Result<Frame, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self
            .frames
            .next()
            .map(|r| r.map_err(|e| self.docker.map_io(e)));
        if let (Some(Ok(frame)), Some((limit, read))) = (&item, self.cap.as_mut()) {
            *read += frame.data.len() as u64;
            if *read > *limit {
                self.done = true;
                return Some(Err(self.docker.ctx.protocol(format!(
                    "a tail of the container's logs went past {limit} bytes; the stream was cut off"
                ))));
            }
        }
        item
    }
}

/// Most bytes a tail of `lines` log lines is read to: 16 KiB a line, at
/// least 16 MiB.
fn tail_limit(lines: u64) -> u64 {
    lines.saturating_mul(16 << 10).max(16 << 20)
}

/// Pull progress, event by event.
pub struct Pull<'a> {
    docker: &'a Docker,
    image: String,
    inner: JsonStream<BodyReader<'static>, ProgressMessage>,
}

impl Iterator for Pull<'_> {
    type Item = Result<PullEvent, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        let d = self.docker;
        self.inner.next().map(|r| match r {
            Ok(msg) => msg.into_event().map_err(|message| {
                d.err(ErrorKind::Pull {
                    image: self.image.clone(),
                    message,
                    status: None,
                })
            }),
            Err(e) => Err(json_stream_error(d, e, "pull progress")),
        })
    }
}

/// Daemon events, one by one.
pub struct Events<'a> {
    docker: &'a Docker,
    inner: JsonStream<BodyReader<'static>, DaemonEvent>,
}

impl Iterator for Events<'_> {
    type Item = Result<DaemonEvent, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        let d = self.docker;
        self.inner
            .next()
            .map(|r| r.map_err(|e| json_stream_error(d, e, "events")))
    }
}

fn json_stream_error(d: &Docker, e: serde_json::Error, what: &str) -> Error {
    if e.io_error_kind() == Some(std::io::ErrorKind::InvalidData) {
        // A limit of `JsonStream`: the body is not what dockerd sends.
        d.ctx
            .protocol(format!("{what}: {e}; the stream was cut off"))
    } else if e.is_io() {
        // serde_json keeps the io::Error's kind and message, not the error.
        let io = std::io::Error::new(
            e.io_error_kind().unwrap_or(std::io::ErrorKind::Other),
            e.to_string(),
        );
        d.map_io(io)
    } else {
        d.ctx.protocol(format!("invalid {what}: {e}"))
    }
}

/// A response header as text ("" when absent or not text).
fn header(resp: &Response<ureq::Body>, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The start of a body or header on one line: whitespace runs become one
/// space, control characters are dropped, at most `max` characters.
fn excerpt(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|c| !c.is_control()));
        if out.chars().count() > max {
            let cut: String = out.chars().take(max).collect();
            return format!("{cut}...");
        }
    }
    out
}

/// The daemon's `{"message": ...}`, or the body's text.
fn daemon_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Msg {
        message: String,
    }
    match serde_json::from_slice::<Msg>(body) {
        Ok(m) => m.message,
        Err(_) => {
            let text = excerpt(body, 300);
            if text.is_empty() {
                "(no message)".into()
            } else if text.starts_with('<') {
                // An error page from a web server or proxy in front of (or
                // instead of) dockerd: show its start on one line.
                format!("an HTML page, not a Docker API error: `{text}`")
            } else {
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_keep_the_ship_timeout_and_work_gets_at_least_a_minute() {
        let secs = Duration::from_secs;
        assert_eq!(call_limit(Timing::Normal, secs(5)), Some(secs(5)));
        assert_eq!(
            call_limit(Timing::Long(Duration::ZERO), secs(5)),
            Some(LONG_CALL)
        );
        // stop: the grace period on top.
        assert_eq!(call_limit(Timing::Long(secs(10)), secs(5)), Some(secs(70)));
        // A ship with a longer timeout keeps it.
        assert_eq!(
            call_limit(Timing::Long(Duration::ZERO), secs(90)),
            Some(secs(90))
        );
        assert_eq!(call_limit(Timing::Stream, secs(5)), None);
        // A pull's answer (its head) comes within the long-call limit.
        assert_eq!(call_limit(Timing::StreamAnswer, secs(5)), Some(LONG_CALL));
    }

    #[test]
    fn daemon_messages_from_json_or_text() {
        assert_eq!(
            daemon_message(br#"{"message":"No such container: x"}"#),
            "No such container: x"
        );
        assert_eq!(
            daemon_message(b"Client sent an HTTP request to an HTTPS server.\n"),
            "Client sent an HTTP request to an HTTPS server."
        );
        assert_eq!(daemon_message(b""), "(no message)");
    }

    #[test]
    fn html_error_pages_are_shown_on_one_short_line() {
        let page = format!(
            "<html>\n<head><title>500 Internal Server Error</title></head>\n<body>{}</body></html>\n",
            "x".repeat(5000)
        );
        let m = daemon_message(page.as_bytes());
        assert!(
            m.starts_with("an HTML page, not a Docker API error: `<html> <head><title>500"),
            "{m}"
        );
        assert!(!m.contains('\n'), "{m}");
        assert!(m.len() < 400, "{m}");
        assert_eq!(excerpt(b"a\r\n\tb\x07c", 10), "a bc");
        assert_eq!(excerpt("é".repeat(20).as_bytes(), 3), "ééé...");
    }
}
