//! `http`: a request until the status is 200 (or the body matches
//! `match_regex`), within `max_wait` seconds of wall clock.

use std::collections::BTreeMap;
use std::time::Duration;

use regex_lite::{Regex, RegexBuilder};
use ureq::Agent;
use ureq::http::{Method, Request};

use super::retry::{Attempt, Budget, Verdict, detached, retry};
use crate::scheduler::CancelToken;

/// Timeout of one request when `requests_options.timeout` is not given
/// (MaestroNG had none: one request could hang the check forever).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Most of a response body read for `match_regex`.
pub const BODY_LIMIT: u64 = 16 << 20;

/// One http check, ready to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub url: String,
    pub method: Method,
    /// Searched anywhere in the body, `.` matching newlines (Python's
    /// `re.search` with DOTALL, as MaestroNG).
    pub regex: Option<Regex>,
    pub verify: bool,
    pub timeout: Duration,
    pub headers: Vec<(String, String)>,
}

/// The check's options as configured, checked: a bad method or regex is an
/// error (retrying cannot fix it).
#[allow(clippy::too_many_arguments)]
pub fn spec(
    scheme: &str,
    host: &str,
    port: u16,
    path: &str,
    method: &str,
    match_regex: Option<&str>,
    verify: bool,
    timeout: Option<f64>,
    headers: &BTreeMap<String, String>,
) -> Result<Spec, String> {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("invalid http method \"{method}\""))?;
    let regex = match match_regex {
        Some(p) => Some(compile(p)?),
        None => None,
    };
    let timeout = match timeout {
        Some(t) => Duration::try_from_secs_f64(t).map_err(|_| format!("invalid timeout {t}"))?,
        None => DEFAULT_TIMEOUT,
    };
    Ok(Spec {
        url: url(scheme, host, port, path),
        method,
        regex,
        verify,
        timeout,
        headers: headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// `match_regex` compiled as MaestroNG did (DOTALL).
pub fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .dot_matches_new_line(true)
        .build()
        .map_err(|e| format!("bad match_regex \"{pattern}\": {e}"))
}

/// `scheme://host:port/path`, an IPv6 host in brackets.
pub fn url(scheme: &str, host: &str, port: u16, path: &str) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    format!("{scheme}://{host}:{port}{path}")
}

/// Requests until a pass or `max_wait` seconds have passed.
pub fn check(spec: &Spec, max_wait: f64, stop: &CancelToken) -> Verdict {
    let agent = agent(spec.verify);
    retry(Budget::seconds(max_wait), stop, |left| {
        // Never much past the deadline, but give a request at least 1 s.
        let timeout = spec.timeout.min(left.max(Duration::from_secs(1)));
        let (agent, spec) = (agent.clone(), spec.clone());
        detached(stop, move || attempt(&agent, &spec, timeout))
    })
}

fn agent(verify: bool) -> Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .disable_verification(!verify)
        .build();
    Agent::new_with_config(
        Agent::config_builder()
            // Checks go straight to the ship, never through a proxy from
            // the environment.
            .proxy(None)
            .http_status_as_error(false)
            .tls_config(tls)
            .build(),
    )
}

/// One request.
pub fn attempt(agent: &Agent, spec: &Spec, timeout: Duration) -> Attempt {
    let mut req = Request::builder()
        .method(spec.method.clone())
        .uri(&spec.url);
    for (k, v) in &spec.headers {
        req = req.header(k, v);
    }
    let req = match req.body(()) {
        Ok(r) => r,
        // Header values may be secrets: name the header only.
        Err(_) => return Attempt::Fatal(invalid_request(spec)),
    };
    let req = agent
        .configure_request(req)
        .timeout_global(Some(timeout))
        .build();
    let mut resp = match agent.run(req) {
        Ok(r) => r,
        Err(ureq::Error::Timeout(_)) => {
            return Attempt::Retry(format!("no response within {}", secs(timeout)));
        }
        Err(e) => return Attempt::Retry(e.to_string()),
    };
    let status = resp.status().as_u16();
    let Some(re) = &spec.regex else {
        return if status == 200 {
            Attempt::Pass
        } else {
            Attempt::Retry(format!("status {status}"))
        };
    };
    match resp
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
    {
        Ok(body) if search(re, &String::from_utf8_lossy(&body)) => Attempt::Pass,
        Ok(_) => Attempt::Retry(format!("status {status}, body does not match the regex")),
        Err(e) => Attempt::Retry(format!("status {status}, reading the body: {e}")),
    }
}

/// Python's `re.search`, which MaestroNG used: there `$` also matches just
/// before a final newline (`' ok$'` finds `api ok\n`), where regex-lite's
/// `$` only matches at the very end. Trying the body without that newline
/// as well gives the same answers.
fn search(re: &Regex, body: &str) -> bool {
    re.is_match(body) || body.strip_suffix('\n').is_some_and(|b| re.is_match(b))
}

fn invalid_request(spec: &Spec) -> String {
    let names: Vec<&str> = spec.headers.iter().map(|(k, _)| k.as_str()).collect();
    if names.is_empty() {
        format!("invalid url {}", spec.url)
    } else {
        format!(
            "invalid url {} or header (one of {})",
            spec.url,
            names.join(", ")
        )
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    /// A one-thread HTTP/1.1 server on 127.0.0.1 answering every request
    /// with `status` and `body` (after `ready` has passed since it started,
    /// 503 before), recording the request lines and headers it saw.
    struct Server {
        port: u16,
        seen: Arc<Mutex<Vec<String>>>,
    }

    fn serve(status: u16, body: &'static str, ready: Duration) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let start = Instant::now();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut conn) = conn else { return };
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                log.lock().unwrap().push(head);
                let (status, body) = if start.elapsed() >= ready {
                    (status, body)
                } else {
                    (503, "starting")
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Server { port, seen }
    }

    fn spec_for(port: u16, path: &str, regex: Option<&str>) -> Spec {
        let headers = [("X-Probe".to_string(), "yes".to_string())].into();
        spec(
            "http",
            "127.0.0.1",
            port,
            path,
            "get",
            regex,
            true,
            Some(1.0),
            &headers,
        )
        .unwrap()
    }

    #[test]
    fn status_200_passes_and_sends_method_path_and_headers() {
        let s = serve(200, "ok", Duration::ZERO);
        let out = check(&spec_for(s.port, "/health", None), 2.0, &CancelToken::new());
        assert_eq!(out, Verdict::Passed);
        let seen = s.seen.lock().unwrap().join("");
        assert!(seen.starts_with("GET /health HTTP/1.1\r\n"), "{seen}");
        assert!(seen.to_ascii_lowercase().contains("x-probe: yes"), "{seen}");
    }

    #[test]
    fn any_other_status_fails_when_no_regex() {
        let s = serve(404, "nope", Duration::ZERO);
        let start = Instant::now();
        let out = check(&spec_for(s.port, "/", None), 0.5, &CancelToken::new());
        let Verdict::GaveUp { last, attempts, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!(last, "status 404");
        assert!(attempts >= 3, "retried: {attempts}");
        assert!(start.elapsed() >= Duration::from_millis(500));
        // 204 is not 200 either.
        let s = serve(204, "", Duration::ZERO);
        let out = check(&spec_for(s.port, "/", None), 0.0, &CancelToken::new());
        assert!(matches!(out, Verdict::GaveUp { .. }), "{out:?}");
    }

    #[test]
    fn waits_for_the_service_to_become_ready() {
        let s = serve(200, "ok", Duration::from_millis(200));
        let out = check(&spec_for(s.port, "/", None), 5.0, &CancelToken::new());
        assert_eq!(out, Verdict::Passed);
        assert!(s.seen.lock().unwrap().len() >= 2);
    }

    #[test]
    fn match_regex_searches_the_body_across_lines_whatever_the_status() {
        let s = serve(500, "line one\nstatus: READY\n", Duration::ZERO);
        let out = check(
            &spec_for(s.port, "/", Some("one.status: READY")),
            1.0,
            &CancelToken::new(),
        );
        assert_eq!(out, Verdict::Passed);
        let s = serve(200, "status: starting", Duration::ZERO);
        let out = check(
            &spec_for(s.port, "/", Some("READY")),
            0.2,
            &CancelToken::new(),
        );
        let Verdict::GaveUp { last, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!(last, "status 200, body does not match the regex");
    }

    #[test]
    fn dollar_matches_before_a_final_newline_as_in_python() {
        let re = compile(" ok$").unwrap();
        assert!(search(&re, "api-1 ok\n"));
        assert!(search(&re, "api-1 ok"));
        assert!(!search(&re, "api-1 ok\n\n"));
        assert!(!search(&re, "api-1 ok then"));
    }

    #[test]
    fn bad_regex_and_method_are_errors() {
        let h = BTreeMap::new();
        let e = spec(
            "http",
            "h",
            1,
            "/",
            "get",
            Some("(unclosed"),
            true,
            None,
            &h,
        )
        .unwrap_err();
        assert!(e.starts_with("bad match_regex \"(unclosed\": "), "{e}");
        let e = spec("http", "h", 1, "/", "g e t", None, true, None, &h).unwrap_err();
        assert_eq!(e, "invalid http method \"g e t\"");
    }

    #[test]
    fn urls() {
        assert_eq!(
            url("http", "10.213.0.1", 80, "/x"),
            "http://10.213.0.1:80/x"
        );
        assert_eq!(url("https", "::1", 443, "/"), "https://[::1]:443/");
    }

    /// A listener on 127.0.0.1 that accepts every connection and never
    /// answers (nor closes); returns its port and how many it accepted.
    fn silent() -> (u16, Arc<Mutex<Vec<std::net::TcpStream>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { return };
                keep.lock().unwrap().push(conn);
            }
        });
        (port, held)
    }

    #[test]
    fn a_server_that_never_answers_is_bounded_by_the_timeout_and_max_wait() {
        let (port, held) = silent();
        let mut s = spec_for(port, "/", None);
        // Requests of 0.3 s, within 1.2 s: a few requests, each cut.
        s.timeout = Duration::from_millis(300);
        let start = Instant::now();
        let out = check(&s, 1.2, &CancelToken::new());
        let took = start.elapsed();
        let Verdict::GaveUp { last, attempts, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!(last, "no response within 0.3s");
        assert!(attempts >= 2, "{attempts}");
        assert!(took >= Duration::from_millis(1200), "{took:?}");
        assert!(took < Duration::from_millis(2500), "{took:?}");
        assert!(held.lock().unwrap().len() as u64 >= attempts);

        // A request timeout longer than max_wait is cut to what is left of
        // it (at least 1 s, the least a request is given).
        s.timeout = Duration::from_secs(30);
        let start = Instant::now();
        let out = check(&s, 0.5, &CancelToken::new());
        let took = start.elapsed();
        let Verdict::GaveUp { last, attempts, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!((last.as_str(), attempts), ("no response within 1s", 1));
        assert!(took < Duration::from_millis(2500), "{took:?}");
    }

    #[test]
    fn a_closed_port_is_retried_with_the_reason() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = check(&spec_for(port, "/", None), 0.1, &CancelToken::new());
        let Verdict::GaveUp { last, .. } = out else {
            panic!("{out:?}")
        };
        assert!(last.to_lowercase().contains("refused"), "{last}");
    }
}
