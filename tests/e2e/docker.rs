//! The Docker client against the lab's real daemons, over every transport.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use maestro::config::ship::{ApiVersion, Ship, SshTunnel, Tls};
use maestro::docker::models::ContainerCreateBody;
use maestro::docker::{
    Docker, ErrorKind, LogOptions, PullEvent, StreamKind, TransportKind, filters,
};
use maestro_tests::{Lab, TempDir, unique};

const TICKER: &str = "echo hi; echo oops >&2; while true; do echo tick; sleep 0.2; done";

fn base(lab: &Lab, name: &str, port: u16) -> Ship {
    let ip = lab.ship_ip(name);
    Ship {
        name: name.into(),
        ip: ip.clone(),
        endpoint: ip,
        docker_port: port,
        socket_path: None,
        api_version: ApiVersion::Auto,
        timeout: Duration::from_secs(5),
        tls: None,
        ssh_tunnel: None,
        max_concurrency: 8,
    }
}

fn unix_ship(lab: &Lab) -> Ship {
    Ship {
        socket_path: Some(PathBuf::from(lab.var("MAESTRO_LAB_SHIP1_SOCKET"))),
        ..base(lab, "ship1", 2375)
    }
}

fn tcp_ship(lab: &Lab) -> Ship {
    base(lab, "ship2", 2375)
}

fn tls(lab: &Lab) -> Tls {
    Tls {
        verify: true,
        ca_cert: Some(lab.var("MAESTRO_LAB_TLS_CA").into()),
        cert: Some(lab.var("MAESTRO_LAB_TLS_CERT").into()),
        key: Some(lab.var("MAESTRO_LAB_TLS_KEY").into()),
    }
}

fn tls_ship(lab: &Lab) -> Ship {
    Ship {
        tls: Some(tls(lab)),
        ..base(lab, "shiptls", 2376)
    }
}

fn tunnel(lab: &Lab) -> SshTunnel {
    SshTunnel {
        user: lab.var("MAESTRO_LAB_SSH_USER"),
        key: lab.var("MAESTRO_LAB_SSH_KEY").into(),
        port: 22,
        known_hosts: Some(lab.var("MAESTRO_LAB_SSH_KNOWN_HOSTS").into()),
        // One connection per forwarder: these tests watch the forwarder's
        // own ssh process (sharing: tests/e2e/transport_security.rs).
        control_persist: None,
    }
}

fn ssh_ship(lab: &Lab) -> Ship {
    Ship {
        // With a tunnel, socket_path is the daemon's socket on the remote side.
        socket_path: Some(lab.var("MAESTRO_LAB_SSH_DOCKER_SOCKET").into()),
        ssh_tunnel: Some(tunnel(lab)),
        ..base(lab, "shipssh", 2375)
    }
}

/// Removes the test's containers even when the test fails.
struct Cleanup<'a> {
    docker: &'a Docker,
    names: Vec<String>,
}

impl<'a> Cleanup<'a> {
    fn new(docker: &'a Docker) -> Self {
        Cleanup {
            docker,
            names: Vec::new(),
        }
    }
    fn add(&mut self, name: &str) -> String {
        self.names.push(name.to_string());
        name.to_string()
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = self.docker.remove(n, true, true);
        }
    }
}

fn ticker_body(lab: &Lab, script: &str) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(lab.var("MAESTRO_LAB_IMAGE")),
        cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
        labels: Some([("maestro.test".to_string(), "docker".to_string())].into()),
        ..Default::default()
    }
}

/// create / start / inspect / logs follow / exec / stop / remove.
fn round_trip(docker: &Docker, lab: &Lab, tag: &str) {
    let mut guard = Cleanup::new(docker);
    let name = guard.add(&unique("docker", tag));
    let created = docker.create(&name, &ticker_body(lab, TICKER)).unwrap();
    assert!(!created.id.is_empty());
    docker.start(&name).unwrap();

    let d = docker.inspect(&name).unwrap();
    assert_eq!(d.id, created.id);
    assert_eq!(d.name, format!("/{name}"));
    assert!(d.state.running, "{:?}", d.state);
    assert_eq!(d.state.status, "running");
    assert_eq!(d.config.image, lab.var("MAESTRO_LAB_IMAGE"));
    assert!(d.full().is_ok());

    let listed = docker
        .containers(false, &filters([("name", name.as_str())]))
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name(), name);
    assert_eq!(listed[0].state, "running");

    // Follow: frames arrive as the container prints them.
    let started = Instant::now();
    let opts = LogOptions {
        follow: true,
        ..Default::default()
    };
    let (mut out, mut err, mut ticks) = (String::new(), String::new(), 0);
    for frame in docker.logs(&name, &opts).unwrap() {
        let frame = frame.unwrap();
        let text = String::from_utf8_lossy(&frame.data).to_string();
        match frame.stream {
            StreamKind::Stdout => out.push_str(&text),
            StreamKind::Stderr => err.push_str(&text),
            StreamKind::Stdin => panic!("stdin frame"),
        }
        ticks += text.matches("tick").count();
        if ticks >= 4 && !err.is_empty() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "logs stalled");
    }
    assert!(out.starts_with("hi\n"), "{out:?}");
    assert_eq!(err, "oops\n");

    let tail = docker
        .logs(
            &name,
            &LogOptions {
                stderr: false,
                tail: Some(1),
                ..Default::default()
            },
        )
        .unwrap()
        .map(|f| String::from_utf8(f.unwrap().data).unwrap())
        .collect::<String>();
    assert_eq!(tail, "tick\n");

    let ex = docker
        .exec(&name, &["sh", "-c", "echo out; echo err >&2; exit 3"])
        .unwrap();
    assert_eq!(ex.exit_code, 3);
    assert_eq!(ex.stdout, b"out\n");
    assert_eq!(ex.stderr, b"err\n");

    docker.stop(&name, Some(Duration::from_secs(1))).unwrap();
    let d = docker.inspect(&name).unwrap();
    assert!(!d.state.running);
    assert_eq!(d.state.status, "exited");
    // Stopping a stopped container is not an error.
    docker.stop(&name, Some(Duration::from_secs(1))).unwrap();

    docker.remove(&name, true, false).unwrap();
    let gone = docker.inspect(&name).unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    assert!(gone.to_string().contains("No such container"), "{gone}");
}

#[test]
fn unix_socket_round_trip() {
    let lab = Lab::get();
    let docker = Docker::new(&unix_ship(&lab)).unwrap();
    assert_eq!(docker.transport(), TransportKind::Unix);
    round_trip(&docker, &lab, "unix");
}

#[test]
fn tcp_round_trip() {
    let lab = Lab::get();
    let docker = Docker::new(&tcp_ship(&lab)).unwrap();
    assert_eq!(docker.transport(), TransportKind::Tcp);
    round_trip(&docker, &lab, "tcp");
}

#[test]
fn tls_round_trip() {
    let lab = Lab::get();
    let docker = Docker::new(&tls_ship(&lab)).unwrap();
    assert_eq!(docker.transport(), TransportKind::Tls);
    round_trip(&docker, &lab, "tls");
}

#[test]
fn ssh_round_trip_and_forwarder_ends_on_drop() {
    let lab = Lab::get();
    let docker = Docker::new(&ssh_ship(&lab)).unwrap();
    assert_eq!(docker.transport(), TransportKind::Ssh);
    assert_eq!(
        docker.forwarder_pid(),
        None,
        "started before the first request"
    );
    round_trip(&docker, &lab, "ssh");
    let pid = docker.forwarder_pid().expect("forwarder running");
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(docker);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "ssh {pid} outlived its client"
    );
}

#[test]
fn ssh_to_remote_tcp_port_when_no_socket_path() {
    // MaestroNG's way: forward to 127.0.0.1:<docker_port> on the remote host.
    let lab = Lab::get();
    let ship = Ship {
        ssh_tunnel: Some(tunnel(&lab)),
        ..base(&lab, "shipssh", 2375)
    };
    let docker = Docker::new(&ship).unwrap();
    assert!(
        docker.endpoint().ends_with("-> 127.0.0.1:2375"),
        "{}",
        docker.endpoint()
    );
    docker.ping().unwrap();
    assert_eq!(docker.api_version().unwrap(), "1.41");
}

#[test]
fn tty_logs_are_raw() {
    let lab = Lab::get();
    let docker = Docker::new(&tcp_ship(&lab)).unwrap();
    let mut guard = Cleanup::new(&docker);
    let name = guard.add(&unique("docker", "tty"));
    let body = ContainerCreateBody {
        tty: Some(true),
        ..ticker_body(&lab, "echo hello tty; echo err >&2")
    };
    docker.create(&name, &body).unwrap();
    docker.start(&name).unwrap();
    assert_eq!(docker.wait(&name).unwrap().status_code, 0);
    let text: Vec<u8> = docker
        .logs(&name, &LogOptions::default())
        .unwrap()
        .flat_map(|f| f.unwrap().data)
        .collect();
    // A TTY merges both streams and translates newlines.
    assert_eq!(String::from_utf8_lossy(&text), "hello tty\r\nerr\r\n");
}

#[test]
fn kill_wait_rename_and_events() {
    let lab = Lab::get();
    let docker = Docker::new(&tcp_ship(&lab)).unwrap();
    let mut guard = Cleanup::new(&docker);
    let name = guard.add(&unique("docker", "kill"));
    let renamed = guard.add(&format!("{name}-renamed"));
    let since = now();
    let id = docker.create(&name, &ticker_body(&lab, TICKER)).unwrap().id;
    docker.rename(&name, &renamed).unwrap();
    docker.start(&renamed).unwrap();
    docker.kill(&renamed, Some("KILL")).unwrap();
    let w = docker.wait(&renamed).unwrap();
    assert_eq!(w.status_code, 137);
    let until = now() + 1;

    let actions: Vec<String> = docker
        .events(
            &filters([("container", id.as_str()), ("type", "container")]),
            Some(since),
            Some(until),
        )
        .unwrap()
        .map(|e| e.unwrap().action)
        .collect();
    for want in ["create", "rename", "start", "kill", "die"] {
        assert!(
            actions.iter().any(|a| a == want),
            "{want} not in {actions:?}"
        );
    }

    let e = docker.kill(&renamed, None).unwrap_err();
    assert_eq!(e.status(), Some(409), "{e}");
    assert!(e.to_string().contains("is not running"), "{e}");
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn images_list_and_inspect() {
    let lab = Lab::get();
    let docker = Docker::new(&unix_ship(&lab)).unwrap();
    let image = lab.var("MAESTRO_LAB_IMAGE");
    let list = docker
        .images(&filters([("reference", "maestro-lab/box")]))
        .unwrap();
    let row = list
        .iter()
        .find(|i| i.repo_tags.iter().flatten().any(|t| *t == image))
        .expect("lab image listed");
    let inspected = docker.image_inspect(&image).unwrap();
    assert_eq!(inspected.id.as_deref(), Some(row.id.as_str()));
    let missing = docker.image_inspect("maestro-lab/nope:0").unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
}

#[test]
fn api_negotiation_lands_on_1_41_everywhere() {
    let lab = Lab::get();
    for ship in [
        unix_ship(&lab),
        tcp_ship(&lab),
        tls_ship(&lab),
        ssh_ship(&lab),
    ] {
        let docker = Docker::new(&ship).unwrap();
        assert_eq!(docker.api_version().unwrap(), "1.41", "{}", ship.name);
        let v = docker.daemon_version().unwrap();
        assert_eq!(v.api_version, "1.41");
        docker.ping().unwrap();
        assert!(docker.info().unwrap()["ID"].is_string());
    }
}

#[test]
fn fixed_api_version_is_used_as_given() {
    let lab = Lab::get();
    let ship = Ship {
        api_version: ApiVersion::Fixed("1.30".into()),
        ..tcp_ship(&lab)
    };
    let docker = Docker::new(&ship).unwrap();
    assert_eq!(docker.api_version().unwrap(), "1.30");
    docker.containers(true, &Default::default()).unwrap();

    let ship = Ship {
        api_version: ApiVersion::Fixed("1.99".into()),
        ..tcp_ship(&lab)
    };
    let e = Docker::new(&ship)
        .unwrap()
        .containers(true, &Default::default())
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::ApiVersion { .. }), "{e:?}");
    let s = e.to_string();
    assert!(s.contains("API version 1.99 is not supported"), "{s}");
    assert!(s.contains("Maximum supported API version is 1.41"), "{s}");
}

#[test]
fn tls_without_client_certificate_is_refused() {
    let lab = Lab::get();
    let ship = Ship {
        tls: Some(Tls {
            cert: None,
            key: None,
            ..tls(&lab)
        }),
        ..tls_ship(&lab)
    };
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    assert_eq!(
        e.kind,
        ErrorKind::TlsClientRejected { sent_cert: None },
        "{e}"
    );
    let s = e.to_string();
    assert!(
        s.starts_with("ship `shiptls` (tcp+tls://10.213.0.21:2376): TLS:"),
        "{s}"
    );
    assert!(s.contains("set the ship's tls_cert and tls_key"), "{s}");
}

#[test]
fn tls_with_the_wrong_ca_names_the_ca_file() {
    let lab = Lab::get();
    let other = lab.var("MAESTRO_LAB_TLS_OTHER_CA");
    let ship = Ship {
        tls: Some(Tls {
            ca_cert: Some(other.clone().into()),
            ..tls(&lab)
        }),
        ..tls_ship(&lab)
    };
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    assert!(
        matches!(e.kind, ErrorKind::TlsUnknownIssuer { .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().contains(&format!(
            "the daemon's certificate is not signed by {other}"
        )),
        "{e}"
    );
}

#[test]
fn tls_verify_off_warns_and_works() {
    let lab = Lab::get();
    let ship = Ship {
        tls: Some(Tls {
            verify: false,
            ca_cert: Some(lab.var("MAESTRO_LAB_TLS_OTHER_CA").into()),
            ..tls(&lab)
        }),
        ..tls_ship(&lab)
    };
    let docker = Docker::new(&ship).unwrap();
    assert!(docker.warning().unwrap().contains("shiptls"));
    docker.ping().unwrap();
}

#[test]
fn plain_http_to_the_tls_port_says_so() {
    let lab = Lab::get();
    let ship = base(&lab, "shiptls", 2376);
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(e.to_string().contains("this daemon speaks TLS"), "{e}");
}

#[test]
fn ssh_with_a_wrong_key_shows_ssh_message() {
    let lab = Lab::get();
    let dir = TempDir::new("docker", "key");
    let key = dir.join("id_ed25519");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success());
    let ship = Ship {
        ssh_tunnel: Some(SshTunnel {
            key: key.clone(),
            ..tunnel(&lab)
        }),
        ..ssh_ship(&lab)
    };
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    let ErrorKind::Ssh { stderr, .. } = &e.kind else {
        panic!("not an ssh error: {e:?}")
    };
    assert!(stderr.contains("Permission denied"), "{stderr}");
    let s = e.to_string();
    assert!(
        s.starts_with("ship `shipssh` (ssh://root@10.213.0.22:22 -> "),
        "{s}"
    );
    assert!(s.contains("ssh said: "), "{s}");
    assert!(!s.contains("PRIVATE KEY"), "{s}");
}

#[test]
fn ssh_with_an_unknown_host_key_refuses() {
    let lab = Lab::get();
    let dir = TempDir::new("docker", "kh");
    let kh = dir.join("known_hosts");
    std::fs::write(&kh, "").unwrap();
    let ship = Ship {
        ssh_tunnel: Some(SshTunnel {
            known_hosts: Some(kh),
            ..tunnel(&lab)
        }),
        ..ssh_ship(&lab)
    };
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    let ErrorKind::Ssh { stderr, .. } = &e.kind else {
        panic!("not an ssh error: {e:?}")
    };
    assert!(stderr.contains("Host key verification failed"), "{stderr}");
    assert!(e.to_string().contains("known_hosts"), "{e}");
}

#[test]
fn ssh_to_a_missing_remote_socket_shows_ssh_message() {
    let lab = Lab::get();
    let ship = Ship {
        socket_path: Some("/nonexistent/docker.sock".into()),
        ..ssh_ship(&lab)
    };
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    assert!(matches!(e.kind, ErrorKind::Ssh { .. }), "{e:?}");
    assert!(e.to_string().contains("open failed"), "{e}");
}

#[test]
fn connection_errors_name_ship_and_what_to_check() {
    let lab = Lab::get();
    let ship = base(&lab, "ship1", 2399);
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.kind, ErrorKind::Refused, "{e}");
    assert!(
        e.to_string()
            .starts_with("ship `ship1` (tcp://10.213.0.11:2399): connection refused"),
        "{e}"
    );

    let ship = Ship {
        socket_path: Some("/nonexistent/docker.sock".into()),
        ..base(&lab, "ship1", 2375)
    };
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    assert!(matches!(e.kind, ErrorKind::SocketMissing { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("/nonexistent/docker.sock does not exist")
    );

    let ship = Ship {
        tls: Some(Tls {
            ca_cert: Some("/nonexistent/ca.pem".into()),
            ..tls(&lab)
        }),
        ..tls_ship(&lab)
    };
    let e = Docker::new(&ship).unwrap_err();
    assert!(
        e.to_string()
            .contains("TLS: cannot use /nonexistent/ca.pem"),
        "{e}"
    );
}

#[test]
fn unanswered_address_times_out_or_is_unreachable() {
    // 10.213.0.99 is in the lab's network but nobody holds it.
    let lab = Lab::get();
    let ship = Ship {
        ip: "10.213.0.99".into(),
        endpoint: "10.213.0.99".into(),
        timeout: Duration::from_secs(1),
        ..base(&lab, "ship1", 2375)
    };
    let started = Instant::now();
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(
            e.kind,
            ErrorKind::Timeout { .. } | ErrorKind::Unreachable { .. }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("10.213.0.99"), "{e}");
}

#[test]
fn pull_from_the_lab_registry_with_credentials() {
    let lab = Lab::get();
    let image = lab.push_unique_image();
    let docker = Docker::new(&base(&lab, "ship3", 2375)).unwrap();
    let mut events = Vec::new();
    let result = docker.pull_all(&image, Some(&lab.registry_auth()), |e| {
        events.push(e.clone());
        std::ops::ControlFlow::Continue(())
    });
    let _ = docker.image_remove(&image, true);
    result.unwrap();
    let layer_statuses: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            PullEvent::Layer { status, .. } => Some(status.as_str()),
            _ => None,
        })
        .collect();
    assert!(layer_statuses.contains(&"Pull complete"), "{events:?}");
    assert!(
        events.iter().any(|e| matches!(e, PullEvent::Status(s)
            if s.starts_with("Status: Downloaded newer image") && s.contains(&image))),
        "{events:?}"
    );
}

#[test]
fn pull_of_a_present_image_is_up_to_date() {
    let lab = Lab::get();
    let docker = Docker::new(&base(&lab, "ship3", 2375)).unwrap();
    let image = lab.registry_image();
    let mut events = Vec::new();
    docker
        .pull_all(&image, Some(&lab.registry_auth()), |e| {
            events.push(e.clone());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert!(
        events.iter().any(
            |e| matches!(e, PullEvent::Status(s) if s.starts_with("Status: ") && s.contains(&image))
        ),
        "{events:?}"
    );
    docker.image_inspect(&image).unwrap();
}

#[test]
fn pull_without_credentials_is_refused_clearly() {
    let lab = Lab::get();
    let docker = Docker::new(&base(&lab, "ship3", 2375)).unwrap();
    let image = lab.registry_image();
    let e = docker
        .pull_all(&image, None, |_| std::ops::ControlFlow::Continue(()))
        .unwrap_err();
    eprintln!("{e}");
    let s = e.to_string();
    assert!(matches!(e.kind, ErrorKind::Pull { .. }), "{e:?}");
    assert!(s.contains("registry credentials"), "{s}");
    assert!(
        s.contains("no basic auth credentials") || s.contains("unauthorized"),
        "{s}"
    );
    assert!(!s.contains(&lab.var("MAESTRO_LAB_REGISTRY_PASSWORD")));
}

#[test]
fn pull_of_a_missing_image_reports_the_error() {
    let lab = Lab::get();
    let docker = Docker::new(&base(&lab, "ship3", 2375)).unwrap();
    let image = format!("{}/maestro-lab/nope:9", lab.var("MAESTRO_LAB_REGISTRY"));
    let e = docker
        .pull_all(&image, Some(&lab.registry_auth()), |_| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap_err();
    assert!(e.to_string().contains("maestro-lab/nope"), "{e}");
}

/// 200 requests from 16 threads on one client; returns the elapsed time.
fn hammer(docker: &Docker) -> Duration {
    let started = Instant::now();
    let failures = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..16 {
            let failures = &failures;
            s.spawn(move || {
                for i in (t..200).step_by(16) {
                    let ok = if i % 2 == 0 {
                        docker.ping().is_ok()
                    } else {
                        docker.containers(true, &Default::default()).is_ok()
                    };
                    if !ok {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    started.elapsed()
}

#[test]
fn two_hundred_concurrent_requests_to_one_ship() {
    let lab = Lab::get();
    for ship in [unix_ship(&lab), tcp_ship(&lab), tls_ship(&lab)] {
        let docker = Docker::new(&ship).unwrap();
        let took = hammer(&docker);
        eprintln!(
            "200 requests / 16 threads via {}: {took:?}",
            docker.transport()
        );
    }
}

#[test]
fn concurrent_requests_through_ssh_while_four_logs_follow() {
    let lab = Lab::get();
    let docker = Docker::new(&ssh_ship(&lab)).unwrap();
    let mut guard = Cleanup::new(&docker);
    let name = guard.add(&unique("docker", "follow"));
    docker.create(&name, &ticker_body(&lab, TICKER)).unwrap();
    docker.start(&name).unwrap();
    let opts = LogOptions {
        follow: true,
        ..Default::default()
    };
    // Four streams held open (each has delivered a frame).
    let mut streams: Vec<_> = (0..4).map(|_| docker.logs(&name, &opts).unwrap()).collect();
    for s in &mut streams {
        s.next().unwrap().unwrap();
    }
    let took = hammer(&docker);
    eprintln!("200 requests / 16 threads via ssh with 4 log streams open: {took:?}");
    // The streams still flow afterwards.
    for s in &mut streams {
        let f = s.next().unwrap().unwrap();
        assert!(!f.data.is_empty());
    }
}

#[test]
fn tls_with_a_client_certificate_from_another_ca_is_rejected() {
    let lab = Lab::get();
    let dir = TempDir::new("docker", "cert");
    let pki = lab.dir().join("pki");
    let script = format!(
        "set -e; cd {d}; openssl req -newkey rsa:2048 -nodes -keyout key.pem -subj /CN=stranger -out req.csr 2>/dev/null; \
         printf 'extendedKeyUsage=clientAuth\\n' > ext; \
         openssl x509 -req -in req.csr -CA {pki}/other-ca.pem -CAkey {pki}/other-ca-key.pem -CAcreateserial -days 1 -extfile ext -out cert.pem 2>/dev/null; \
         openssl x509 -req -in req.csr -CA {pki}/other-ca.pem -CAkey {pki}/other-ca-key.pem -CAcreateserial -days 1 -out v1.pem 2>/dev/null",
        d = dir.display(),
        pki = pki.display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = dir.join("cert.pem");
    let ship = Ship {
        tls: Some(Tls {
            cert: Some(cert.clone()),
            key: Some(dir.join("key.pem")),
            ..tls(&lab)
        }),
        ..tls_ship(&lab)
    };
    let e = Docker::new(&ship).unwrap().ping().unwrap_err();
    eprintln!("{e}");
    // An X.509 v1 certificate is refused up front, without a panic.
    let v1 = Ship {
        tls: Some(Tls {
            cert: Some(dir.join("v1.pem")),
            key: Some(dir.join("key.pem")),
            ..tls(&lab)
        }),
        ..tls_ship(&lab)
    };
    let v1_err = Docker::new(&v1).unwrap_err();
    eprintln!("{v1_err}");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(v1_err.kind, ErrorKind::TlsFiles { .. }),
        "{v1_err:?}"
    );
    assert!(
        v1_err
            .to_string()
            .starts_with("ship `shiptls` (tcp+tls://10.213.0.21:2376): TLS: cannot use "),
        "{v1_err}"
    );
    assert!(v1_err.to_string().contains("v1.pem"), "{v1_err}");
    assert_eq!(
        e.kind,
        ErrorKind::TlsClientRejected {
            sent_cert: Some(cert.clone())
        },
        "{e}"
    );
    assert!(
        e.to_string().contains(&format!(
            "the daemon rejected our client certificate {}",
            cert.display()
        )),
        "{e}"
    );
}

/// Starts the probe (an SSH-tunnelled client in its own process) and
/// returns it with its forwarder's pid.
fn start_probe(lab: &Lab) -> (std::process::Child, u32) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_docker-forwarder-probe"))
        .args([
            lab.ship_ip("shipssh"),
            lab.var("MAESTRO_LAB_SSH_USER"),
            lab.var("MAESTRO_LAB_SSH_KEY"),
            lab.var("MAESTRO_LAB_SSH_KNOWN_HOSTS"),
            lab.var("MAESTRO_LAB_SSH_DOCKER_SOCKET"),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: u32 = line.trim().parse().expect("probe printed the ssh pid");
    assert!(pid > 0 && alive(pid), "forwarder {pid} not running");
    (child, pid)
}

/// Running, and not a zombie waiting to be reaped.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn assert_ends(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        assert!(Instant::now() < deadline, "ssh {pid} outlived maestro");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The private folder of the forwarders of the maestro process `pid`.
fn forwarder_dir(pid: u32) -> PathBuf {
    std::env::temp_dir().join(format!("maestro-ssh-{pid}-0"))
}

#[test]
fn forwarder_ends_when_maestro_is_interrupted() {
    let lab = Lab::get();
    let (mut probe, ssh) = start_probe(&lab);
    // What a terminal's Ctrl-C sends to maestro (ssh has its own process
    // group, so only maestro receives it).
    let st = std::process::Command::new("kill")
        .args(["-INT", &probe.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    probe.wait().unwrap();
    assert_ends(ssh);
}

#[test]
fn forwarder_ends_when_maestro_is_killed() {
    let lab = Lab::get();
    let (mut probe, ssh) = start_probe(&lab);
    // Checked while the probe lives: forwarders only sweep the folders of
    // dead processes, and other tests start forwarders concurrently.
    let dir = forwarder_dir(probe.id());
    assert!(dir.exists(), "{} missing", dir.display());
    probe.kill().unwrap();
    probe.wait().unwrap();
    assert_ends(ssh);
    // The next forwarder started (this one, or another test's) removes the
    // folder the killed maestro left behind.
    Docker::new(&ssh_ship(&lab)).unwrap().ping().unwrap();
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// A unix socket that relays to shiptls's TLS port, so TLS can be tested
/// over a unix socket and over the SSH forwarder (the lab's SSH ship has no
/// TLS daemon). The relay lives as long as the test process; its folder
/// as long as the returned guard.
fn tls_relay_socket(lab: &Lab) -> (TempDir, PathBuf) {
    use std::os::unix::net::UnixListener;
    let dir = TempDir::new("docker", "relay");
    let path = dir.join("tls.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let target = format!("{}:2376", lab.ship_ip("shiptls"));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(unix) = conn else { continue };
            let Ok(tcp) = std::net::TcpStream::connect(&target) else {
                continue;
            };
            let (mut u2, mut t2) = (unix.try_clone().unwrap(), tcp.try_clone().unwrap());
            let (mut u1, mut t1) = (unix, tcp);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u1, &mut t1);
                let _ = t1.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut t2, &mut u2);
                let _ = u2.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (dir, path)
}

#[test]
fn tls_over_a_unix_socket() {
    let lab = Lab::get();
    let (_relay_dir, relay) = tls_relay_socket(&lab);
    let ship = Ship {
        // The certificate is checked against the endpoint, 10.213.0.21.
        socket_path: Some(relay),
        ..tls_ship(&lab)
    };
    let docker = Docker::new(&ship).unwrap();
    assert_eq!(docker.transport(), TransportKind::Tls);
    docker.ping().unwrap();
    assert_eq!(docker.api_version().unwrap(), "1.41");
}

#[test]
fn tls_over_ssh() {
    let lab = Lab::get();
    let (_relay_dir, relay) = tls_relay_socket(&lab);
    let over_ssh = |verify: bool| Ship {
        socket_path: Some(relay.clone()),
        ssh_tunnel: Some(tunnel(&lab)),
        tls: Some(Tls {
            verify,
            ..tls(&lab)
        }),
        ..base(&lab, "shipssh", 2376)
    };
    // The daemon's certificate names 10.213.0.21, not the SSH host: with
    // verification the mismatch is caught through the tunnel...
    let docker = Docker::new(&over_ssh(true)).unwrap();
    assert_eq!(docker.transport(), TransportKind::SshTls);
    let e = docker.ping().unwrap_err();
    eprintln!("{e}");
    assert_eq!(
        e.kind,
        ErrorKind::TlsWrongName {
            host: "10.213.0.22".into()
        },
        "{e}"
    );
    // ...and without it, requests flow (our client certificate is still
    // presented and checked by the daemon).
    let docker = Docker::new(&over_ssh(false)).unwrap();
    docker.ping().unwrap();
    let v = docker.daemon_version().unwrap();
    assert_eq!(v.api_version, "1.41");
    docker.containers(true, &Default::default()).unwrap();
    std::fs::remove_dir_all(relay.parent().unwrap()).unwrap();
}

#[test]
fn events_stream_as_they_happen() {
    let lab = Lab::get();
    let docker = Docker::new(&unix_ship(&lab)).unwrap();
    let mut guard = Cleanup::new(&docker);
    let name = guard.add(&unique("docker", "events"));
    // No `until`: the stream stays open and delivers events live.
    let mut events = docker
        .events(&filters([("container", name.as_str())]), None, None)
        .unwrap();
    docker.create(&name, &ticker_body(&lab, "true")).unwrap();
    docker.start(&name).unwrap();
    let first = events.next().unwrap().unwrap();
    assert_eq!(
        (first.kind.as_str(), first.action.as_str()),
        ("container", "create")
    );
    assert_eq!(first.actor.attributes["name"], name);
    let second = events.next().unwrap().unwrap();
    assert_eq!(second.action, "start");
}

#[test]
fn ships_survey_contacts_every_ship_in_parallel() {
    let lab = Lab::get();
    let down = Ship {
        name: "down".into(),
        ..base(&lab, "ship3", 2399)
    };
    let ships = vec![
        unix_ship(&lab),
        tcp_ship(&lab),
        base(&lab, "ship3", 2375),
        tls_ship(&lab),
        ssh_ship(&lab),
        down,
    ];
    let mut out = Vec::new();
    let started = Instant::now();
    let code = maestro::commands::ships::run_with(&ships, &mut out);
    eprintln!("survey of {} ships: {:?}", ships.len(), started.elapsed());
    let out = String::from_utf8(out).unwrap();
    eprint!("{out}");
    assert_eq!(code, 1, "one ship is down");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .take(6)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let expect = [
        ("ship1", "unix"),
        ("ship2", "tcp"),
        ("ship3", "tcp"),
        ("shiptls", "tls"),
        ("shipssh", "ssh"),
    ];
    for (row, (name, transport)) in rows.iter().zip(expect) {
        assert_eq!(row[0], name);
        assert_eq!(row[1], transport);
        // The endpoint of an ssh ship has spaces: count from the end.
        assert_eq!(row[row.len() - 2], "1.41", "{row:?}");
        assert_eq!(row[row.len() - 1], "up", "{row:?}");
    }
    assert_eq!(rows[5][0], "down");
    assert_eq!(rows[5].last(), Some(&"unreachable"));
    assert!(out.contains("error: ship `down` (tcp://10.213.0.13:2399): connection refused"));
}

#[test]
fn forwarder_restarts_when_ssh_dies() {
    let lab = Lab::get();
    let docker = Docker::new(&ssh_ship(&lab)).unwrap();
    docker.ping().unwrap();
    let first = docker.forwarder_pid().unwrap();
    let st = std::process::Command::new("kill")
        .arg(first.to_string())
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    // The pooled connection went with ssh; the next requests start a new one.
    loop {
        match docker.ping() {
            Ok(()) => break,
            Err(e) => assert!(Instant::now() < deadline, "no recovery: {e}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    docker.containers(true, &Default::default()).unwrap();
    let second = docker.forwarder_pid().unwrap();
    assert_ne!(first, second);
}
