//! Faults between maestro and what it talks to, each staged on loopback in
//! this test process:
//!
//! - slow and silent daemons: a TCP relay in front of ship1's daemon that
//!   adds latency, or that accepts connections and never answers;
//! - malformed answers: a fake Engine API (plain `std::net`, one thread per
//!   connection) that answers well enough to get past the version
//!   negotiation, then badly (or badly at the negotiation itself);
//! - a registry that fails mid-pull: an HTTP relay in ship1's network
//!   namespace (where its daemon can reach it on 127.0.0.1, an insecure
//!   registry address by Docker's default) in front of the lab registry,
//!   which cuts the layer's download halfway, answers 503, or sends the
//!   layer slowly (for a Ctrl-C during a pull).
//!
//! Every case: maestro exits non-zero with a message naming the ship (or
//! the registry), within a bounded time, without a panic, while the healthy
//! ship's work goes on.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use maestro_tests::{Lab, TestEnv, assert_code, code, running, stderr, stdout};

// ---- running maestro with a stopwatch and a memory gauge -------------------

/// A finished maestro run: its output, how long it took and its peak
/// resident memory (VmHWM, KiB).
struct Run {
    out: Output,
    took: Duration,
    peak_kib: u64,
}

impl Run {
    /// Both outputs, for messages and searches.
    fn text(&self) -> String {
        format!("{}{}", stdout(&self.out), stderr(&self.out))
    }
}

/// Runs `cmd`, killing it after `hard_limit` (the test then fails: maestro
/// hung). Samples the child's peak memory while it runs.
fn run_bounded(mut cmd: Command, hard_limit: Duration) -> Run {
    let started = Instant::now();
    let mut child = cmd.spawn().expect("maestro starts");
    let pid = child.id();
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let mut peak_kib = 0;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kib) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait for maestro") {
            break status;
        }
        if started.elapsed() > hard_limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "maestro did not end within {hard_limit:?}: {}{}",
                String::from_utf8_lossy(&out_reader.join().unwrap_or_default()),
                String::from_utf8_lossy(&err_reader.join().unwrap_or_default())
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    let took = started.elapsed();
    let out = Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    };
    Run {
        out,
        took,
        peak_kib,
    }
}

/// Not a crash: a normal failing exit, no panic message.
#[track_caller]
fn assert_clean_failure(run: &Run) {
    let c = code(&run.out);
    assert!(c == 1 || c == 2, "exit code {c}:\n{}", run.text());
    assert!(!run.text().contains("panicked"), "{}", run.text());
}

// ---- a TCP relay in front of a daemon ---------------------------------------

#[derive(Debug, Clone, Copy)]
enum Relaying {
    /// Forward both ways, holding every chunk this long.
    Delay(Duration),
    /// Accept, never read, never answer.
    Silent,
}

/// A relay on 127.0.0.1 to `upstream`, ended on drop.
struct Relay {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    accepted: Arc<AtomicUsize>,
}

impl Relay {
    fn start(upstream: SocketAddr, mode: Relaying) -> Relay {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a relay");
        let addr = listener.local_addr().expect("relay address");
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (stop2, open2, accepted2) = (stop.clone(), open.clone(), accepted.clone());
        thread::spawn(move || {
            accept_until(&listener, &stop2, |conn| {
                accepted2.fetch_add(1, Ordering::Relaxed);
                if let Ok(c) = conn.try_clone() {
                    lock(&open2).push(c);
                }
                match mode {
                    // Held open in `open` until the relay is dropped.
                    Relaying::Silent => {}
                    Relaying::Delay(d) => {
                        let Ok(up) = TcpStream::connect_timeout(&upstream, Duration::from_secs(3))
                        else {
                            return;
                        };
                        if let Ok(c) = up.try_clone() {
                            lock(&open2).push(c);
                        }
                        let (c2, u2) = match (conn.try_clone(), up.try_clone()) {
                            (Ok(c), Ok(u)) => (c, u),
                            _ => return,
                        };
                        thread::spawn(move || pump(conn, up, d));
                        thread::spawn(move || pump(u2, c2, d));
                    }
                }
            })
        });
        Relay {
            addr,
            stop,
            open,
            accepted,
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for c in lock(&self.open).drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Accepts connections (polling, so a listener in another network
/// namespace can be stopped too) and hands each to `on_conn`.
fn accept_until(listener: &TcpListener, stop: &AtomicBool, mut on_conn: impl FnMut(TcpStream)) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, _)) => {
                if conn.set_nonblocking(false).is_ok() {
                    on_conn(conn);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(_) => return,
        }
    }
}

/// Copies `from` to `to`, holding each chunk `delay`; closes `to`'s write
/// side at the end.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        thread::sleep(delay);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// ship1's daemon on TCP.
fn ship1_daemon(lab: &Lab) -> SocketAddr {
    format!("{}:2375", lab.ship_ip("ship1"))
        .parse()
        .expect("ship1's address")
}

/// A service on the ship under test and one on a healthy lab ship.
const TWO_SHIPS: &str = "
  faulty:
    image: {IMAGE}
    instances:
      {P}-f1: {ship: bad, command: sleep 3600}
  healthy:
    image: {IMAGE}
    instances:
      {P}-h1: {ship: ship2, command: sleep 3600}
";

fn bad_ship(addr: SocketAddr, timeout: u64) -> String {
    format!(
        "  bad:\n    ip: 127.0.0.1\n    docker_port: {}\n    timeout: {timeout}\n",
        addr.port()
    )
}

/// What a run over TWO_SHIPS must show when ship `bad` fails: non-zero,
/// the bad ship named with its address, the healthy one's work done.
#[track_caller]
fn assert_bad_ship_named(run: &Run, addr: SocketAddr) {
    assert_clean_failure(run);
    let text = run.text();
    assert!(
        text.contains(&format!("ship `bad` (tcp://127.0.0.1:{})", addr.port())),
        "{text}"
    );
}

/// The summary of a start over TWO_SHIPS where `bad` failed: what was
/// done, what was not and why.
#[track_caller]
fn assert_summary(text: &str, t: &TestEnv) {
    assert!(text.contains("start: 1 done, 1 failed"), "{text}");
    assert!(
        text.lines().any(|l| l
            .trim_start()
            .starts_with(&format!("{}: failed: host down: ship `bad`", t.n("f1")))),
        "{text}"
    );
}

#[test]
fn a_silent_daemon_is_cut_by_the_ship_timeout_and_the_others_go_on() {
    let lab = Lab::get();
    let relay = Relay::start(ship1_daemon(&lab), Relaying::Silent);
    let t = TestEnv::with_extra("fsilent", &bad_ship(relay.addr, 2), TWO_SHIPS);

    let st = run_bounded(t.cmd(&["status"]), Duration::from_secs(30));
    assert_bad_ship_named(&st, relay.addr);
    let text = st.text();
    assert!(text.contains("no answer within 2 s"), "{text}");
    // The ship's timeout plus start-up, not more.
    assert!(st.took < Duration::from_secs(8), "{:?}", st.took);
    assert!(relay.accepted.load(Ordering::Relaxed) >= 1);

    let start = run_bounded(
        t.cmd(&["start", "--progress", "plain"]),
        Duration::from_secs(60),
    );
    assert_bad_ship_named(&start, relay.addr);
    assert_code(&start.out, 1);
    let text = start.text();
    assert!(text.contains("no answer within 2 s"), "{text}");
    assert!(start.took < Duration::from_secs(20), "{:?}", start.took);
    // The healthy ship's container started; the summary says what was not done.
    assert!(running(&t.inspect("ship2", &t.n("h1")).expect("h1 exists")));
    assert_summary(&text, &t);
    eprintln!(
        "silent daemon, timeout 2 s: status {:?}, start {:?}",
        st.took, start.took
    );
}

#[test]
fn a_slow_daemon_works_within_its_timeout_and_fails_beyond_it() {
    let lab = Lab::get();
    // 150 ms each way per chunk: every request takes 300 ms or more.
    let slow = Relay::start(
        ship1_daemon(&lab),
        Relaying::Delay(Duration::from_millis(150)),
    );
    let t = TestEnv::with_extra("fslow", &bad_ship(slow.addr, 10), TWO_SHIPS);
    let start = run_bounded(
        t.cmd(&["start", "--progress", "plain"]),
        Duration::from_secs(120),
    );
    assert_code(&start.out, 0);
    // The container went through the relay to ship1's daemon.
    assert!(running(&t.inspect("ship1", &t.n("f1")).expect("f1 exists")));
    let st = run_bounded(t.cmd(&["status"]), Duration::from_secs(60));
    assert_code(&st.out, 0);
    eprintln!(
        "slow daemon (+300 ms a round trip), timeout 10 s: start {:?}, status {:?}",
        start.took, st.took
    );
    drop(slow);

    // 3 s each way against a 1 s timeout: every request is cut.
    let slower = Relay::start(ship1_daemon(&lab), Relaying::Delay(Duration::from_secs(3)));
    let t = TestEnv::with_extra("fslower", &bad_ship(slower.addr, 1), TWO_SHIPS);
    let st = run_bounded(t.cmd(&["status"]), Duration::from_secs(30));
    assert_bad_ship_named(&st, slower.addr);
    assert!(st.text().contains("no answer within 1 s"), "{}", st.text());
    assert!(st.took < Duration::from_secs(6), "{:?}", st.took);
    let start = run_bounded(
        t.cmd(&["start", "--progress", "plain"]),
        Duration::from_secs(60),
    );
    assert_bad_ship_named(&start, slower.addr);
    assert!(
        start.text().contains("no answer within 1 s"),
        "{}",
        start.text()
    );
    assert_summary(&start.text(), &t);
    assert!(start.took < Duration::from_secs(20), "{:?}", start.took);
    assert!(running(&t.inspect("ship2", &t.n("h1")).expect("h1 exists")));
    assert!(t.inspect("ship1", &t.n("f1")).is_none());
    eprintln!(
        "slower daemon (+6 s a round trip), timeout 1 s: status {:?}, start {:?}",
        st.took, start.took
    );
}

// ---- a fake Engine API that answers badly -----------------------------------

/// How the fake answers the call it is told to break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// 200, JSON that stops in the middle, connection closed.
    TruncatedJson,
    /// 200 with a Content-Length the body never reaches.
    ShortBody,
    /// 200, `text/html`: a web server's page.
    WrongContentType,
    /// 200, chunked, never ends.
    EndlessBody,
    /// 500 with an HTML error page.
    Html500,
    /// 302 to another listener (which must never be contacted).
    Redirect,
    /// Reads the request, never answers.
    Silent,
    /// Plays a daemon on which a container is created, started and found
    /// dead, then answers its log tail with output without end.
    EndlessLogs,
}

const FAULTS: [Fault; 7] = [
    Fault::TruncatedJson,
    Fault::ShortBody,
    Fault::WrongContentType,
    Fault::EndlessBody,
    Fault::Html500,
    Fault::Redirect,
    Fault::Silent,
];

/// Which call gets the fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// `GET /version`, the API version negotiation.
    Negotiation,
    /// Every call after it (image inspects answer 404, so a pull gets to
    /// `POST /images/create`).
    Call,
}

struct FakeState {
    mode: Mutex<(Fault, At)>,
    /// Body bytes written by faulty answers.
    served: AtomicU64,
    /// Faulty answers given.
    hits: AtomicUsize,
    stop: AtomicBool,
    /// Where redirects point; counts connections it gets.
    trap: SocketAddr,
    trapped: Arc<AtomicUsize>,
}

struct FakeDaemon {
    addr: SocketAddr,
    state: Arc<FakeState>,
}

impl FakeDaemon {
    fn start() -> FakeDaemon {
        let trap = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the trap");
        let trap_addr = trap.local_addr().expect("trap address");
        let trapped = Arc::new(AtomicUsize::new(0));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the fake");
        let addr = listener.local_addr().expect("fake address");
        let state = Arc::new(FakeState {
            mode: Mutex::new((Fault::TruncatedJson, At::Call)),
            served: AtomicU64::new(0),
            hits: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            trap: trap_addr,
            trapped: trapped.clone(),
        });
        let s = state.clone();
        thread::spawn(move || {
            accept_until(&trap, &s.stop, |_| {
                s.trapped.fetch_add(1, Ordering::Relaxed);
            })
        });
        let s = state.clone();
        thread::spawn(move || {
            accept_until(&listener, &s.stop, |conn| {
                let s = s.clone();
                thread::spawn(move || {
                    let _ = serve_fake(conn, &s);
                });
            })
        });
        FakeDaemon { addr, state }
    }

    fn set(&self, fault: Fault, at: At) {
        *lock(&self.state.mode) = (fault, at);
        self.state.served.store(0, Ordering::Relaxed);
        self.state.hits.store(0, Ordering::Relaxed);
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
    }
}

/// An HTTP/1.1 message head: the first line and the header lines as sent.
struct Head {
    line: String,
    headers: Vec<String>,
}

impl Head {
    /// The next head, `None` at a clean end of the connection. Anything
    /// that is not HTTP (e.g. a TLS handshake) is an error.
    fn read(r: &mut impl BufRead) -> io::Result<Option<Head>> {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.contains("HTTP/1.") {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "not HTTP/1"));
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let h = h.trim_end().to_string();
            if h.is_empty() {
                break;
            }
            if headers.len() > 200 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "too many headers",
                ));
            }
            headers.push(h);
        }
        Ok(Some(Head {
            line: line.trim_end().to_string(),
            headers,
        }))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn content_length(&self) -> Option<u64> {
        self.get("content-length").and_then(|v| v.parse().ok())
    }

    fn chunked(&self) -> bool {
        self.get("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    }

    /// Method and path of a request head.
    fn request(&self) -> (&str, &str) {
        let mut parts = self.line.split_whitespace();
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
    }

    /// Status of a response head.
    fn status(&self) -> u16 {
        self.line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn bytes(&self) -> Vec<u8> {
        let mut v = format!("{}\r\n", self.line);
        for h in &self.headers {
            v.push_str(h);
            v.push_str("\r\n");
        }
        v.push_str("\r\n");
        v.into_bytes()
    }
}

fn respond(w: &mut impl Write, status: &str, content_type: &str, body: &[u8]) -> io::Result<()> {
    w.write_all(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )?;
    w.write_all(body)?;
    w.flush()
}

const VERSION: &str = r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}"#;

/// One connection of the fake daemon: good answers until the faulty call.
fn serve_fake(conn: TcpStream, s: &FakeState) -> io::Result<()> {
    let mut r = BufReader::new(conn.try_clone()?);
    let mut w = conn;
    while let Some(head) = Head::read(&mut r)? {
        if let Some(n) = head.content_length() {
            io::copy(&mut (&mut r).take(n), &mut io::sink())?;
        }
        let (_, path) = head.request();
        let path = path.to_string();
        let negotiation = path == "/version" || path == "/_ping";
        let image_inspect = path.contains("/images/") && path.ends_with("/json");
        let (fault, at) = *lock(&s.mode);
        if fault == Fault::EndlessLogs && !negotiation && !path.contains("/logs") {
            scripted_start(&mut w, &path)?;
            continue;
        }
        let faulty = match at {
            At::Negotiation => negotiation,
            At::Call => !negotiation && !image_inspect,
        };
        if !faulty {
            match path.as_str() {
                "/_ping" => respond(&mut w, "200 OK", "text/plain", b"OK")?,
                "/version" => respond(&mut w, "200 OK", "application/json", VERSION.as_bytes())?,
                _ => respond(
                    &mut w,
                    "404 Not Found",
                    "application/json",
                    br#"{"message":"No such image"}"#,
                )?,
            }
            continue;
        }
        s.hits.fetch_add(1, Ordering::Relaxed);
        return answer_badly(&mut w, s, fault, &path);
    }
    Ok(())
}

/// A daemon on which starting a container works but the container dies.
fn scripted_start(w: &mut TcpStream, path: &str) -> io::Result<()> {
    let json = "application/json";
    let p = path.split('?').next().unwrap_or("");
    if p.ends_with("/containers/json") {
        respond(w, "200 OK", json, b"[]")
    } else if p.contains("/images/") && p.ends_with("/json") {
        respond(w, "200 OK", json, br#"{"Id":"sha256:4f1c2e"}"#)
    } else if p.ends_with("/containers/create") {
        respond(w, "201 Created", json, br#"{"Id":"4f1c2e","Warnings":[]}"#)
    } else if p.ends_with("/containers/4f1c2e/start") {
        w.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
    } else if p.ends_with("/containers/4f1c2e/json") {
        respond(
            w,
            "200 OK",
            json,
            br#"{"Id":"4f1c2e","Name":"/x","State":{"Status":"exited","Running":false,"ExitCode":1,"StartedAt":"2026-01-01T00:00:00Z","FinishedAt":"2026-01-01T00:00:01Z"}}"#,
        )
    } else {
        respond(w, "404 Not Found", json, br#"{"message":"no such thing"}"#)
    }
}

fn answer_badly(w: &mut TcpStream, s: &FakeState, fault: Fault, path: &str) -> io::Result<()> {
    let json = "application/json";
    // The start of what the call should have answered.
    let partial: &[u8] = if path == "/version" {
        &VERSION.as_bytes()[..40]
    } else {
        br#"[{"Id":"4f1c2e","Names":["/x"],"State":"run"#
    };
    match fault {
        Fault::TruncatedJson => {
            w.write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Type: {json}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )?;
            w.write_all(partial)?;
        }
        Fault::ShortBody => {
            w.write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Type: {json}\r\nContent-Length: 4096\r\n\r\n")
                    .as_bytes(),
            )?;
            w.write_all(partial)?;
        }
        Fault::WrongContentType => respond(
            w,
            "200 OK",
            "text/html; charset=utf-8",
            b"<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1></body></html>\n",
        )?,
        Fault::Html500 => respond(
            w,
            "500 Internal Server Error",
            "text/html",
            b"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        )?,
        Fault::Redirect => {
            let to = format!("http://{}/v1.41/containers/json", s.trap);
            w.write_all(
                format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")
                    .as_bytes(),
            )?;
        }
        Fault::Silent => {
            while !s.stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(50));
            }
        }
        Fault::EndlessBody | Fault::EndlessLogs => {
            w.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {json}\r\nTransfer-Encoding: chunked\r\n\r\n"
                )
                .as_bytes(),
            )?;
            // A pull gets well-formed progress without end; other calls a
            // JSON string without end.
            let (first, unit): (&[u8], &[u8]) = if path.contains("/images/create") {
                (
                    b"",
                    b"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":2},\"id\":\"4f1c2e\"}\r\n",
                )
            } else {
                (br#"[{"Id":""#, b"a")
            };
            if !first.is_empty() {
                w.write_all(format!("{:x}\r\n", first.len()).as_bytes())?;
                w.write_all(first)?;
                w.write_all(b"\r\n")?;
            }
            let chunk = unit.repeat((64 << 10) / unit.len());
            while !s.stop.load(Ordering::Relaxed) {
                w.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                w.write_all(&chunk)?;
                w.write_all(b"\r\n")?;
                s.served.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        }
    }
    w.flush()?;
    // Let the client read what was sent before the connection closes.
    thread::sleep(Duration::from_millis(50));
    Ok(())
}

/// What maestro must say about each fault, beside the ship's name.
fn expected(fault: Fault, at: At, fake: &FakeDaemon) -> String {
    let what = match at {
        At::Negotiation => "/version",
        At::Call => "/containers/json",
    };
    match fault {
        Fault::TruncatedJson => format!("invalid JSON from {what} (EOF while parsing"),
        Fault::ShortBody => "the daemon closed the connection".into(),
        Fault::WrongContentType => {
            format!("invalid JSON from {what} (expected value at line 1 column 1; Content-Type text/html")
        }
        Fault::EndlessBody => match at {
            At::Negotiation => "response body larger than 1048576 bytes".into(),
            At::Call => "response body larger than 67108864 bytes".into(),
        },
        Fault::Html500 => "the daemon answered 500: an HTML page, not a Docker API error: `<html> <head><title>500 Internal Server Error</title>".into(),
        Fault::Redirect => format!(
            "HTTP 302, a redirect to `http://{}/v1.41/containers/json`, which is not followed",
            fake.state.trap
        ),
        Fault::Silent => "no answer within 3 s".into(),
        Fault::EndlessLogs => unreachable!("not a status case"),
    }
}

#[test]
fn malformed_answers_fail_the_ship_by_name_in_bounded_time_and_memory() {
    let fake = FakeDaemon::start();
    let t = TestEnv::with_extra("fmalformed", &bad_ship(fake.addr, 3), TWO_SHIPS);
    let mut report = Vec::new();
    for at in [At::Negotiation, At::Call] {
        for fault in FAULTS {
            fake.set(fault, at);
            let run = run_bounded(t.cmd(&["status"]), Duration::from_secs(60));
            let text = run.text();
            assert_bad_ship_named(&run, fake.addr);
            // status: 1 when a ship did not answer.
            assert_code(&run.out, 1);
            let want = expected(fault, at, &fake);
            assert!(
                text.contains(&want),
                "{fault:?} at {at:?}: want {want:?} in\n{text}"
            );
            // The healthy ship's row is still there, with its state.
            assert!(
                text.lines()
                    .any(|l| l.contains(&t.n("h1")) && l.contains("ship2")),
                "{text}"
            );
            assert!(
                fake.state.hits.load(Ordering::Relaxed) >= 1,
                "{fault:?} at {at:?}"
            );
            assert!(
                run.took < Duration::from_secs(20),
                "{fault:?} at {at:?}: {:?}",
                run.took
            );
            // The endless body is cut at the call's limit (64 MiB for lists),
            // so memory stays bounded.
            assert!(
                run.peak_kib < 400 << 10,
                "{fault:?} at {at:?}: peak {} KiB",
                run.peak_kib
            );
            report.push(format!(
                "{fault:?} at {at:?}: {:?}, peak {} KiB, {} body bytes served",
                run.took,
                run.peak_kib,
                fake.state.served.load(Ordering::Relaxed)
            ));
        }
    }
    // Redirects were never followed.
    assert_eq!(fake.state.trapped.load(Ordering::Relaxed), 0);
    eprintln!("{}", report.join("\n"));

    // start. The deploy lock goes to the first ship by name that answers,
    // here `bad`: an error answer (500) stops the command before any change.
    fake.set(Fault::Html500, At::Call);
    let start = run_bounded(
        t.cmd(&["start", "--progress", "plain"]),
        Duration::from_secs(60),
    );
    assert_bad_ship_named(&start, fake.addr);
    assert_code(&start.out, 1);
    assert!(
        start.text().contains("cannot take the deploy lock"),
        "{}",
        start.text()
    );
    assert!(t.inspect("ship2", &t.n("h1")).is_none());
    // A ship whose answers are unreadable counts as not answering: the
    // lock goes to the next ship, the faulty ship's instance fails, the
    // healthy one starts.
    fake.set(Fault::TruncatedJson, At::Call);
    let start = run_bounded(
        t.cmd(&["start", "--progress", "plain"]),
        Duration::from_secs(60),
    );
    assert_bad_ship_named(&start, fake.addr);
    assert_code(&start.out, 1);
    let text = start.text();
    assert!(
        text.contains("the deploy lock is on ship `ship1`"),
        "{text}"
    );
    assert_summary(&text, &t);
    assert!(running(&t.inspect("ship2", &t.n("h1")).expect("h1 exists")));
    // The lock was released on ship1.
    assert!(
        t.inspect("ship1", &format!("maestro-lock.{}", t.name))
            .is_none()
    );
}

#[test]
fn an_endless_pull_progress_stream_is_cut_off() {
    let fake = FakeDaemon::start();
    let t = TestEnv::with_extra("fendless", &bad_ship(fake.addr, 3), TWO_SHIPS);
    fake.set(Fault::EndlessBody, At::Call);
    let run = run_bounded(
        t.cmd(&["pull", "--progress", "plain", "faulty"]),
        Duration::from_secs(120),
    );
    assert_bad_ship_named(&run, fake.addr);
    let text = run.text();
    assert!(
        text.contains("pull progress: the stream went past its limit of 67108864 bytes"),
        "{text}"
    );
    let served = fake.state.served.load(Ordering::Relaxed);
    assert!(served >= 64 << 20, "{served}");
    assert!(run.peak_kib < 100 << 10, "peak {} KiB", run.peak_kib);
    eprintln!(
        "endless pull progress: cut after {:?}, {served} bytes served, peak {} KiB",
        run.took, run.peak_kib
    );
}

// ---- a registry that fails mid-pull ------------------------------------------

/// What the registry relay breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegistryFault {
    /// The first large blob (the image's layer), and every later request
    /// for it (a resumed download included): half of it, then the
    /// connection is dropped.
    CutLayer,
    /// Every manifest request: 503 Service Unavailable.
    Manifest503,
    /// Every large blob: 4 KiB every 100 ms (a 300 KB layer takes about
    /// 7 s), so that a pull is still downloading when maestro is stopped.
    SlowLayer,
}

struct RegistryState {
    fault: RegistryFault,
    /// The layer being cut, once seen.
    cut_digest: Mutex<Option<String>>,
    /// One line per request: method, path, Range, status, what was done.
    log: Mutex<Vec<String>>,
    stop: AtomicBool,
}

/// An HTTP relay listening on 127.0.0.1:<port> inside ship network
/// namespaces, speaking plain HTTP to the daemons (127.0.0.0/8 is an
/// insecure registry by Docker's default, so after its TLS attempt fails
/// the daemon speaks HTTP) and TLS to the lab registry.
struct RegistryRelay {
    port: u16,
    state: Arc<RegistryState>,
}

impl RegistryRelay {
    fn start(lab: &Lab, namespaces: &[&str], fault: RegistryFault) -> RegistryRelay {
        let tls = registry_tls(lab);
        let upstream: SocketAddr = lab.var("MAESTRO_LAB_REGISTRY").parse().expect("registry");
        let state = Arc::new(RegistryState {
            fault,
            cut_digest: Mutex::new(None),
            log: Mutex::default(),
            stop: AtomicBool::new(false),
        });
        let mut port = 0;
        for ns in namespaces {
            let listener = listen_in_netns(ns, port);
            port = listener.local_addr().expect("relay address").port();
            let (s, tls) = (state.clone(), tls.clone());
            thread::spawn(move || {
                accept_until(&listener, &s.stop, |conn| {
                    let (s, tls) = (s.clone(), tls.clone());
                    thread::spawn(move || {
                        let _ = proxy(conn, &tls, upstream, &s);
                    });
                })
            });
        }
        RegistryRelay { port, state }
    }

    fn log(&self) -> Vec<String> {
        lock(&self.state.log).clone()
    }
}

impl Drop for RegistryRelay {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
    }
}

/// A listener on 127.0.0.1:`port` (0: any) inside the network namespace
/// `ns`: a thread enters the namespace, binds, and ends; the socket stays
/// in that namespace.
fn listen_in_netns(ns: &str, port: u16) -> TcpListener {
    use std::os::fd::AsRawFd;
    let path = format!("/var/run/netns/{ns}");
    thread::spawn(move || {
        let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: setns on a namespace file we hold open; it changes this
        // thread's network namespace only, and the thread ends right after.
        let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", io::Error::last_os_error());
        TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .unwrap_or_else(|e| panic!("bind 127.0.0.1:{port} in {path}: {e}"))
    })
    .join()
    .expect("the namespace thread")
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn registry_tls(lab: &Lab) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(lab.var("MAESTRO_LAB_TLS_CA")).expect("lab CA") {
        roots
            .add(cert.expect("a CA certificate"))
            .expect("CA added");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn connect_registry(tls: &Arc<rustls::ClientConfig>, upstream: SocketAddr) -> io::Result<Tls> {
    let tcp = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
    let name = rustls::pki_types::ServerName::IpAddress(upstream.ip().into());
    let conn = rustls::ClientConnection::new(tls.clone(), name).map_err(io::Error::other)?;
    Ok(rustls::StreamOwned::new(conn, tcp))
}

fn copy_exact(from: &mut impl Read, to: &mut impl Write, n: u64) -> io::Result<()> {
    if io::copy(&mut from.take(n), to)? < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// One daemon connection: requests relayed one after the other.
fn proxy(
    client: TcpStream,
    tls: &Arc<rustls::ClientConfig>,
    upstream: SocketAddr,
    s: &RegistryState,
) -> io::Result<()> {
    let mut cr = BufReader::new(client.try_clone()?);
    let mut cw = client;
    let mut up: Option<BufReader<Tls>> = None;
    // The daemon's TLS attempt is not HTTP: Head::read fails, the
    // connection closes, the daemon falls back to plain HTTP.
    while let Some(req) = Head::read(&mut cr)? {
        let mut body = Vec::new();
        if let Some(n) = req.content_length() {
            (&mut cr).take(n).read_to_end(&mut body)?;
        }
        let (method, path) = req.request();
        let (method, path) = (method.to_string(), path.to_string());
        let range = req.get("range").unwrap_or("-").to_string();
        let note =
            |what: String| lock(&s.log).push(format!("{method} {path} range={range} {what}"));
        if s.fault == RegistryFault::Manifest503 && path.contains("/manifests/") {
            note("503 (relay)".into());
            respond(
                &mut cw,
                "503 Service Unavailable",
                "text/plain",
                b"unavailable\n",
            )?;
            continue;
        }
        if up.is_none() {
            up = Some(BufReader::new(connect_registry(tls, upstream)?));
        }
        let Some(upr) = up.as_mut() else { break };
        upr.get_mut().write_all(&req.bytes())?;
        upr.get_mut().write_all(&body)?;
        upr.get_mut().flush()?;
        let resp = Head::read(upr)?.ok_or(io::ErrorKind::UnexpectedEof)?;
        let status = resp.status();
        cw.write_all(&resp.bytes())?;
        if method == "HEAD" || status == 204 || status == 304 || status < 200 {
            note(format!("{status}"));
            continue;
        }
        if let Some(n) = resp.content_length() {
            let digest = path.rsplit('/').next().unwrap_or("").to_string();
            let is_blob = method == "GET" && path.contains("/blobs/sha256:") && status / 100 == 2;
            let cut = s.fault == RegistryFault::CutLayer && is_blob && {
                let mut d = lock(&s.cut_digest);
                if d.is_none() && n > 64 << 10 {
                    *d = Some(digest.clone());
                }
                d.as_deref() == Some(digest.as_str())
            };
            if s.fault == RegistryFault::SlowLayer && is_blob && n > 64 << 10 {
                let mut sent = 0;
                let mut piece = [0u8; 4096];
                while sent < n {
                    let len = piece.len().min((n - sent) as usize);
                    upr.read_exact(&mut piece[..len])?;
                    if cw
                        .write_all(&piece[..len])
                        .and_then(|()| cw.flush())
                        .is_err()
                    {
                        note(format!(
                            "{status} stopped after {sent} of {n} bytes: the daemon closed"
                        ));
                        return Ok(());
                    }
                    sent += len as u64;
                    thread::sleep(Duration::from_millis(100));
                }
                note(format!("{status} {n} bytes, slowly"));
                continue;
            }
            if cut {
                copy_exact(upr, &mut cw, n / 2)?;
                cw.flush()?;
                note(format!("{status} cut after {} of {n} bytes", n / 2));
                let _ = cw.shutdown(Shutdown::Both);
                return Ok(());
            }
            copy_exact(upr, &mut cw, n)?;
            note(format!("{status} {n} bytes"));
        } else if resp.chunked() {
            loop {
                let mut size = String::new();
                upr.read_line(&mut size)?;
                cw.write_all(size.as_bytes())?;
                let n = u64::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))?;
                if n == 0 {
                    // Trailers, then the empty line.
                    loop {
                        let mut l = String::new();
                        upr.read_line(&mut l)?;
                        cw.write_all(l.as_bytes())?;
                        if l.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                copy_exact(upr, &mut cw, n + 2)?;
            }
            note(format!("{status} chunked"));
        } else {
            io::copy(upr, &mut cw)?;
            note(format!("{status} until close"));
            return Ok(());
        }
        cw.flush()?;
    }
    Ok(())
}

/// Removes a tag from ships at the end of a test.
struct Untag<'a> {
    lab: &'a Lab,
    image: String,
    ships: &'a [&'a str],
}

impl Drop for Untag<'_> {
    fn drop(&mut self) {
        for ship in self.ships {
            let _ = self.lab.docker(ship).args(["rmi", &self.image]).output();
        }
    }
}

/// The image's ID on a ship, `None` when absent.
fn image_id(lab: &Lab, ship: &str, image: &str) -> Option<String> {
    let out = lab
        .docker(ship)
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .output()
        .expect("docker image inspect");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// An environment pulling `image` (through the relay) on ship1 and ship3,
/// with a healthy instance on ship2; the relay's registry gets the lab's
/// credentials and `retry`.
fn registry_env(tag: &str, relay: &RegistryRelay, image: &str, retry: &str) -> TestEnv {
    let t = TestEnv::new(
        tag,
        &format!(
            "
  pulled:
    image: {image}
    instances:
      {{P}}-p1: {{ship: ship1, command: sleep 3600}}
      {{P}}-p3: {{ship: ship3, command: sleep 3600}}
  healthy:
    image: {{IMAGE}}
    instances:
      {{P}}-h1: {{ship: ship2, command: sleep 3600}}
"
        ),
    );
    let file = t.dir.join("maestro.yaml");
    let text = std::fs::read_to_string(&file).expect("maestro.yaml");
    let entry = format!(
        "registries:\n  \"127.0.0.1:{port}\":\n    registry: http://127.0.0.1:{port}/\n    \
         username: \"{}\"\n    password: \"{}\"\n    retry: {retry}\n",
        t.lab.var("MAESTRO_LAB_REGISTRY_USER"),
        t.lab.var("MAESTRO_LAB_REGISTRY_PASSWORD"),
        port = relay.port,
    );
    std::fs::write(&file, text.replacen("registries:\n", &entry, 1)).expect("maestro.yaml");
    t
}

#[test]
fn a_registry_dropping_the_layer_halfway_fails_the_pull_and_leaves_no_partial_image() {
    let lab = Lab::get();
    let pushed = lab.push_unique_image();
    let relay = RegistryRelay::start(&lab, &["mlab-ship1", "mlab-ship3"], RegistryFault::CutLayer);
    let image = pushed.replacen(
        &lab.var("MAESTRO_LAB_REGISTRY"),
        &format!("127.0.0.1:{}", relay.port),
        1,
    );
    let _untag = Untag {
        lab: &lab,
        image: image.clone(),
        ships: &["ship1", "ship3"],
    };
    let t = registry_env(
        "fregcut",
        &relay,
        &image,
        "{attempts: 3, when: [500, 502, 503]}",
    );
    // ship3 has an older image under that name; ship1 has none.
    let old = image_id(&lab, "ship3", &lab.var("MAESTRO_LAB_IMAGE")).expect("lab image on ship3");
    assert!(
        lab.docker("ship3")
            .args(["tag", &lab.var("MAESTRO_LAB_IMAGE"), &image])
            .status()
            .expect("docker tag")
            .success()
    );
    assert_eq!(image_id(&lab, "ship1", &image), None);

    let pull = run_bounded(
        t.cmd(&["pull", "-r", "--progress", "plain", "pulled"]),
        Duration::from_secs(300),
    );
    assert_clean_failure(&pull);
    assert_code(&pull.out, 1);
    let text = pull.text();
    let registry = format!(
        "[registry 127.0.0.1:{}, credentials of user `{}`",
        relay.port,
        lab.var("MAESTRO_LAB_REGISTRY_USER")
    );
    for (ship, inst) in [("ship1", "p1"), ("ship3", "p3")] {
        let row = text
            .lines()
            .find(|l| {
                l.trim_start()
                    .starts_with(&format!("{}: failed:", t.n(inst)))
            })
            .unwrap_or_else(|| panic!("no failure row for {inst}:\n{text}"));
        assert!(row.contains(&format!("ship `{ship}`")), "{row}");
        assert!(row.contains(&format!("pulling {image} failed")), "{row}");
        assert!(row.contains(&registry), "{row}");
    }
    assert!(!text.contains(&lab.var("MAESTRO_LAB_REGISTRY_PASSWORD")));
    // No partial image: absent where there was none, the old one kept.
    assert_eq!(image_id(&lab, "ship1", &image), None);
    assert_eq!(image_id(&lab, "ship3", &image), Some(old.clone()));
    let log = relay.log();
    let cuts = log.iter().filter(|l| l.contains(" cut after ")).count();
    assert!(cuts >= 2, "{log:#?}");
    eprintln!(
        "registry cut mid-layer: pull failed after {:?}; relay log:\n{}\nmaestro said:\n{text}",
        pull.took,
        log.join("\n")
    );

    // start: p1 needs the image and fails; p3 runs on the image it has; the
    // healthy ship's instance starts.
    let n_before = relay.log().len();
    let start = run_bounded(
        t.cmd(&["start", "--progress", "plain"]),
        Duration::from_secs(300),
    );
    assert_code(&start.out, 1);
    let text = start.text();
    assert!(text.contains("start: 2 done, 1 failed"), "{text}");
    let row = text
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with(&format!("{}: failed:", t.n("p1")))
        })
        .unwrap_or_else(|| panic!("no failure row for p1:\n{text}"));
    assert!(row.contains(&registry), "{row}");
    assert!(t.inspect("ship1", &t.n("p1")).is_none());
    let p3 = t.inspect("ship3", &t.n("p3")).expect("p3 exists");
    assert!(running(&p3));
    assert_eq!(p3["Image"].as_str(), Some(old.as_str()));
    assert!(running(&t.inspect("ship2", &t.n("h1")).expect("h1 exists")));
    assert_eq!(image_id(&lab, "ship1", &image), None);
    eprintln!(
        "start with a pull through the cutting relay: {:?}, {} more requests",
        start.took,
        relay.log().len() - n_before
    );
}

#[test]
fn a_registry_answering_503_is_retried_as_configured_then_named() {
    let lab = Lab::get();
    let relay = RegistryRelay::start(&lab, &["mlab-ship1"], RegistryFault::Manifest503);
    let image = format!("127.0.0.1:{}/{}", relay.port, lab.var("MAESTRO_LAB_IMAGE"));
    let _untag = Untag {
        lab: &lab,
        image: image.clone(),
        ships: &["ship1"],
    };
    let t = registry_env("freg503", &relay, &image, "{attempts: 3, when: [503]}");
    let pull = run_bounded(
        t.cmd(&["pull", "-r", "--progress", "plain", &t.n("p1")]),
        Duration::from_secs(120),
    );
    assert_clean_failure(&pull);
    assert_code(&pull.out, 1);
    let text = pull.text();
    assert!(text.contains("503 Service Unavailable"), "{text}");
    assert!(text.contains("(gave up after 3 attempts)"), "{text}");
    assert!(
        text.contains(&format!("[registry 127.0.0.1:{}", relay.port)),
        "{text}"
    );
    // Three pulls, one second apart.
    assert!(pull.took >= Duration::from_secs(2), "{:?}", pull.took);
    let log = relay.log();
    let manifests = log.iter().filter(|l| l.contains("/manifests/")).count();
    assert!(manifests >= 3 && manifests % 3 == 0, "{log:#?}");
    assert_eq!(image_id(&lab, "ship1", &image), None);
    eprintln!(
        "registry 503: {manifests} manifest requests, failed after {:?}",
        pull.took
    );
}

/// Ctrl-C while a layer downloads: the pull is cut at its next progress
/// event (not when the download would end), maestro exits 130 saying so,
/// the connection to the daemon closes and the daemon abandons the pull:
/// the relay sees the download stop, and the ship has no image.
#[test]
fn ctrl_c_cuts_a_pull_in_flight_and_the_daemon_abandons_it() {
    let lab = Lab::get();
    let pushed = lab.push_unique_image();
    let relay = RegistryRelay::start(&lab, &["mlab-ship1"], RegistryFault::SlowLayer);
    let image = pushed.replacen(
        &lab.var("MAESTRO_LAB_REGISTRY"),
        &format!("127.0.0.1:{}", relay.port),
        1,
    );
    let _untag = Untag {
        lab: &lab,
        image: image.clone(),
        ships: &["ship1"],
    };
    let t = registry_env("fregint", &relay, &image, "{attempts: 1}");
    let mut child = t
        .cmd(&["pull", "--progress", "json", &t.n("p1")])
        .spawn()
        .expect("maestro starts");
    let pid = child.id().to_string();
    let mut err = child.stderr.take().expect("stderr");
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let mut signalled_at = None;
    let mut events = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("a line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON events");
        // Once the layer is downloading (a percentage is known).
        if signalled_at.is_none()
            && v["event"] == "instance"
            && v["state"] == "pulling"
            && v["percent"].is_number()
        {
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .expect("kill");
            signalled_at = Some(Instant::now());
        }
        events.push(line);
        assert!(started.elapsed() < Duration::from_secs(120), "no end");
    }
    let status = child.wait().expect("maestro ends");
    let stderr = err_reader.join().expect("stderr reader");
    let signalled_at = signalled_at.unwrap_or_else(|| {
        panic!(
            "no pulling event with a percentage:\n{}\n{stderr}",
            events.join("\n")
        )
    });
    let after_signal = signalled_at.elapsed();
    let text = format!("{}\n{stderr}", events.join("\n"));
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(
        text.contains("was interrupted; the ship does not have it"),
        "{text}"
    );
    // Well before the 7 s the download takes.
    assert!(after_signal < Duration::from_secs(3), "{after_signal:?}");
    // The daemon closed the layer's download once maestro went away.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !relay.log().iter().any(|l| l.contains("the daemon closed")) {
        assert!(Instant::now() < deadline, "{:#?}", relay.log());
        thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !relay.log().iter().any(|l| l.contains("slowly")),
        "{:#?}",
        relay.log()
    );
    assert_eq!(image_id(&lab, "ship1", &image), None);
    assert!(!text.contains(&lab.var("MAESTRO_LAB_REGISTRY_PASSWORD")));
    eprintln!(
        "pull interrupted: exit {after_signal:?} after the signal; relay log:\n{}",
        relay.log().join("\n")
    );
}

#[test]
fn a_daemon_silent_after_a_pull_request_is_cut_at_the_long_call_limit() {
    let fake = FakeDaemon::start();
    let t = TestEnv::with_extra("fsilentpull", &bad_ship(fake.addr, 3), TWO_SHIPS);
    fake.set(Fault::Silent, At::Call);
    // Without the deploy lock, whose creation on `bad` (work on a ship,
    // like any create) would wait out the same 60 s first.
    let run = run_bounded(
        t.cmd(&["pull", "--no-lock", "--progress", "plain", "faulty"]),
        Duration::from_secs(120),
    );
    assert_bad_ship_named(&run, fake.addr);
    assert_code(&run.out, 1);
    let text = run.text();
    // The image inspect before it was answered; the pull's answer is
    // awaited 60 s (the long-call limit), not forever.
    assert!(
        text.contains("no answer within 60 s (receive response)"),
        "{text}"
    );
    assert!(run.took >= Duration::from_secs(60), "{:?}", run.took);
    assert!(run.took < Duration::from_secs(75), "{:?}", run.took);
    eprintln!("silent pull: cut after {:?}", run.took);
}

#[test]
fn an_endless_log_tail_of_a_dead_container_is_cut_off() {
    let fake = FakeDaemon::start();
    let t = TestEnv::with_extra("fendlesslogs", &bad_ship(fake.addr, 3), TWO_SHIPS);
    fake.set(Fault::EndlessLogs, At::Call);
    // Without the deploy lock, which would otherwise go to the fake.
    let run = run_bounded(
        t.cmd(&["start", "--no-lock", "--progress", "plain"]),
        Duration::from_secs(60),
    );
    assert_clean_failure(&run);
    assert_code(&run.out, 1);
    let text = run.text();
    assert!(text.contains("start: 1 done, 1 failed"), "{text}");
    assert!(
        text.contains("container exited (code 1) right after start"),
        "{text}"
    );
    // The failure shows the start of the (one, endless) log line, cut short.
    let row = text
        .lines()
        .position(|l| {
            l.trim_start()
                .starts_with(&format!("{}: failed:", t.n("f1")))
        })
        .unwrap_or_else(|| panic!("no failure row:\n{text}"));
    let shown = text.lines().nth(row + 1).unwrap_or("");
    assert!(shown.contains("aaaa"), "{text}");
    assert!(shown.trim().ends_with("..."), "{shown}");
    assert!(shown.len() < 600, "{}", shown.len());
    let served = fake.state.served.load(Ordering::Relaxed);
    assert!(served >= 16 << 20, "{served}");
    assert!(run.peak_kib < 200 << 10, "peak {} KiB", run.peak_kib);
    assert!(running(&t.inspect("ship2", &t.n("h1")).expect("h1 exists")));
    eprintln!(
        "endless log tail: {:?}, {served} bytes served, peak {} KiB",
        run.took, run.peak_kib
    );
}
