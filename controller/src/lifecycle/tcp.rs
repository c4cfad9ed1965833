//! `tcp`: a connection to the ship's address and the port's external side.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::retry::{Attempt, Budget, Verdict, detached, retry};
use crate::scheduler::CancelToken;

/// Timeout of one connect, as MaestroNG's.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Tries to connect to `host:port` within `max_wait` attempts (see `retry`).
pub fn check(host: &str, port: u16, max_wait: u64, stop: &CancelToken) -> Verdict {
    retry(Budget::attempts(max_wait), stop, |_| {
        let host = host.to_string();
        detached(stop, move || connect(&host, port, CONNECT_TIMEOUT))
    })
}

/// One attempt: every address the host resolves to, in order.
pub fn connect(host: &str, port: u16, timeout: Duration) -> Attempt {
    let addrs = match (host, port).to_socket_addrs() {
        Ok(a) => a,
        Err(e) => return Attempt::Retry(format!("cannot resolve {host}: {e}")),
    };
    let mut last = format!("{host} resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Attempt::Pass,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = format!("connect to {addr} timed out");
            }
            Err(e) => last = format!("connect to {addr}: {e}"),
        }
    }
    Attempt::Retry(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    fn free_port() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    #[test]
    fn passes_soon_after_the_port_opens() {
        let port = free_port();
        let start = Instant::now();
        std::thread::scope(|s| {
            let server = s.spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
                // Keep listening until the check connected.
                let _ = l.accept();
            });
            let out = check("127.0.0.1", port, 5, &CancelToken::new());
            assert_eq!(out, Verdict::Passed);
            server.join().unwrap();
        });
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(200), "{took:?}");
        // Sanity only (a shared machine; the speed is measured by
        // scripts/bench/checks): 200 ms + a 50 ms delay when idle.
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn a_closed_port_fails_after_its_attempts() {
        let port = free_port();
        let start = Instant::now();
        let out = check("127.0.0.1", port, 2, &CancelToken::new());
        let Verdict::GaveUp { attempts, last, .. } = out else {
            panic!("{out:?}")
        };
        // 2 attempts and 2 s: 50+100+200+400+800 ms, then one at 2 s.
        assert!(attempts >= 2, "{attempts}");
        assert!(last.contains("refused"), "{last}");
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(2), "{took:?}");
        assert!(took < Duration::from_secs(10), "{took:?}");
    }
}
