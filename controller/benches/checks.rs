//! Time to detect a service that becomes ready: maestro's `tcp` check
//! (attempts 50 ms apart at first, then a quarter of the time waited, up
//! to 1 s) beside a model of
//! MaestroNG 0.8.3's (connect with a 1 s timeout, then sleep 1 s between
//! attempts). A local listener on 127.0.0.1 starts after a delay; the
//! number is how long after the check began it passed. Run with
//! `scripts/bench/checks`.

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use maestro::lifecycle::retry::Verdict;
use maestro::lifecycle::tcp;
use maestro::scheduler::CancelToken;

const RUNS: usize = 5;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Runs `check` against a port that starts listening after `ready`;
/// returns how long the check took.
fn detect(ready: Duration, check: impl FnOnce(u16)) -> Duration {
    let port = free_port();
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(ready);
            let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
            let _ = l.accept();
        });
        check(port);
    });
    start.elapsed()
}

/// MaestroNG's TCPPortPinger: `max_wait` attempts of a 1 s connect, 1 s apart.
fn maestrong(port: u16) {
    let addr = ("127.0.0.1", port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .expect("address");
    for _ in 0..60 {
        if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    panic!("never connected");
}

fn maestro(port: u16) {
    let out = tcp::check("127.0.0.1", port, 60, &CancelToken::new());
    assert_eq!(out, Verdict::Passed);
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    println!(
        "{:<40} {:>12} {:>18}",
        "tcp check, port ready after", "maestro", "MaestroNG model"
    );
    for ms in [100u64, 200, 500, 1200, 2700, 4300] {
        let ready = Duration::from_millis(ms);
        let ours = median((0..RUNS).map(|_| detect(ready, maestro)).collect());
        let theirs = median((0..RUNS).map(|_| detect(ready, maestrong)).collect());
        println!(
            "{:<40} {:>9.0} ms {:>15.0} ms",
            format!("{ms} ms (median of {RUNS})"),
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3
        );
    }
}
