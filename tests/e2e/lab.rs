//! The lab itself (`scripts/lab up`): every ship answers on its own address,
//! the TLS and SSH ships are reachable only the way they should be, the
//! registry wants credentials, and containers reach other ships.

use maestro_tests::{Lab, text, unique};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends a bare HTTP/1.0 `GET` over a connected stream; returns the whole answer.
fn http_get(mut stream: impl Read + Write, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.0\r\nHost: lab\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

fn assert_ping_ok(answer: &str, what: &str) {
    assert!(
        answer.starts_with("HTTP/1.") && answer.contains(" 200 ") && answer.ends_with("\r\n\r\nOK"),
        "{what}: /_ping did not answer 200 OK:\n{answer}"
    );
}

fn tcp(ip: &str, port: u16) -> std::io::Result<TcpStream> {
    let addr: SocketAddr = format!("{ip}:{port}").parse().unwrap();
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    Ok(stream)
}

fn unix(path: &Path) -> UnixStream {
    let stream =
        UnixStream::connect(path).unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// `curl` with a status code on stdout; `Err(stderr)` when no HTTP answer came.
fn curl_status(args: &[&str], url: &str) -> Result<String, String> {
    let out = run(Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .args(args)
        .arg(url));
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    }
}

fn plain_ships(lab: &Lab) -> Vec<String> {
    lab.ships()
        .into_iter()
        .filter(|s| s != "shiptls" && s != "shipssh")
        .collect()
}

#[test]
fn lab_lists_plain_tls_and_ssh_ships() {
    let lab = Lab::get();
    let ships = lab.ships();
    assert!(!plain_ships(&lab).is_empty(), "no plain ship in {ships:?}");
    for s in ["ship1", "shiptls", "shipssh"] {
        assert!(ships.iter().any(|x| x == s), "{s} missing from {ships:?}");
    }
    let yaml = std::fs::read_to_string(lab.var("MAESTRO_LAB_YAML")).unwrap();
    for s in &ships {
        assert!(
            yaml.contains(&format!("\n  {s}:\n")),
            "{s} missing from lab.yaml"
        );
    }
    assert!(
        yaml.contains("\nregistries:\n"),
        "no registries in lab.yaml"
    );
    assert!(yaml.contains(&lab.var("MAESTRO_LAB_REGISTRY")));
}

#[test]
fn plain_ships_answer_ping_over_tcp_on_their_own_address() {
    let lab = Lab::get();
    for ship in plain_ships(&lab) {
        let ip = lab.ship_ip(&ship);
        let stream = tcp(&ip, 2375).unwrap_or_else(|e| panic!("{ship} {ip}:2375: {e}"));
        assert_ping_ok(&http_get(stream, "/_ping"), &format!("{ship} tcp"));
    }
}

#[test]
fn every_ship_answers_ping_on_its_unix_socket() {
    let lab = Lab::get();
    for ship in lab.ships() {
        let answer = http_get(unix(&lab.ship_socket(&ship)), "/_ping");
        assert_ping_ok(&answer, &format!("{ship} socket"));
    }
}

#[test]
fn tls_ship_answers_ping_with_a_client_certificate() {
    let lab = Lab::get();
    let url = format!("https://{}:2376/_ping", lab.ship_ip("shiptls"));
    let (ca, cert, key) = (
        lab.var("MAESTRO_LAB_TLS_CA"),
        lab.var("MAESTRO_LAB_TLS_CERT"),
        lab.var("MAESTRO_LAB_TLS_KEY"),
    );
    let out = run(Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
        ])
        .arg(&url));
    assert!(out.status.success(), "curl {url}: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "OK");
}

#[test]
fn tls_ship_refuses_a_client_without_certificate() {
    let lab = Lab::get();
    let url = format!("https://{}:2376/_ping", lab.ship_ip("shiptls"));
    let ca = lab.var("MAESTRO_LAB_TLS_CA");
    let refused = curl_status(&["--cacert", &ca], &url);
    let err = refused.expect_err("TLS ship answered without a client certificate");
    // Refused in the TLS handshake, not for lack of a listener.
    assert!(err.contains("alert"), "unexpected curl error: {err}");
}

#[test]
fn tls_ship_certificate_does_not_verify_against_another_ca() {
    let lab = Lab::get();
    let url = format!("https://{}:2376/_ping", lab.ship_ip("shiptls"));
    let (other, cert, key) = (
        lab.var("MAESTRO_LAB_TLS_OTHER_CA"),
        lab.var("MAESTRO_LAB_TLS_CERT"),
        lab.var("MAESTRO_LAB_TLS_KEY"),
    );
    let result = curl_status(&["--cacert", &other, "--cert", &cert, "--key", &key], &url);
    let err = result.expect_err("the TLS ship's certificate verified against an unrelated CA");
    assert!(err.contains("certificate"), "unexpected curl error: {err}");
}

#[test]
fn tls_and_ssh_ships_have_no_plain_tcp_listener_on_their_address() {
    let lab = Lab::get();
    for ship in ["shiptls", "shipssh"] {
        let ip = lab.ship_ip(ship);
        assert!(
            tcp(&ip, 2375).is_err(),
            "{ship} {ip}:2375 accepts plain TCP"
        );
    }
}

/// An `ssh -N -L` forwarder, killed on drop (also when the test fails).
struct Forward {
    child: Child,
    dir: PathBuf,
}

impl Drop for Forward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_for_socket(fwd: &mut Forward, sock: &Path) {
    let deadline = Instant::now() + TIMEOUT;
    while !sock.exists() {
        if let Some(status) = fwd.child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = fwd.child.stderr.take() {
                e.read_to_string(&mut err).unwrap();
            }
            panic!("ssh exited with {status}: {err}");
        }
        assert!(
            Instant::now() < deadline,
            "ssh forward {} never appeared",
            sock.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ssh_ship_is_reachable_through_an_ssh_socket_forward() {
    let lab = Lab::get();
    let dir = std::env::temp_dir().join(unique("lab", "mlab-ssh"));
    std::fs::create_dir_all(&dir).unwrap();
    // One forward to the remote docker socket, one to its loopback TCP
    // listener (MaestroNG's kind of tunnel).
    let to_socket = dir.join("docker.sock");
    let to_tcp = dir.join("tcp.sock");
    let child = Command::new("ssh")
        .args(["-N", "-T", "-F", "/dev/null"])
        .args(["-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"])
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10"])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            lab.var("MAESTRO_LAB_SSH_KNOWN_HOSTS")
        ))
        .arg("-i")
        .arg(lab.var("MAESTRO_LAB_SSH_KEY"))
        .arg("-L")
        .arg(format!(
            "{}:{}",
            to_socket.display(),
            lab.var("MAESTRO_LAB_SSH_DOCKER_SOCKET")
        ))
        .arg("-L")
        .arg(format!("{}:127.0.0.1:2375", to_tcp.display()))
        .arg(format!(
            "{}@{}",
            lab.var("MAESTRO_LAB_SSH_USER"),
            lab.ship_ip("shipssh")
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh");
    let mut fwd = Forward { child, dir };
    wait_for_socket(&mut fwd, &to_socket);
    wait_for_socket(&mut fwd, &to_tcp);
    assert_ping_ok(
        &http_get(unix(&to_socket), "/_ping"),
        "shipssh via ssh socket forward",
    );
    assert_ping_ok(
        &http_get(unix(&to_tcp), "/_ping"),
        "shipssh via ssh tcp forward",
    );
}

#[test]
fn ssh_ship_refuses_an_unknown_key() {
    let lab = Lab::get();
    let dir = std::env::temp_dir().join(unique("lab", "mlab-sshkey"));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("id");
    let keygen = run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key));
    assert!(
        keygen.status.success(),
        "ssh-keygen: {}",
        text(&keygen.stderr)
    );
    let out = run(Command::new("ssh")
        .args([
            "-T",
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
        ])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            lab.var("MAESTRO_LAB_SSH_KNOWN_HOSTS")
        ))
        .arg("-i")
        .arg(&key)
        .arg(format!("root@{}", lab.ship_ip("shipssh")))
        .arg("true"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        !out.status.success(),
        "sshd accepted a key it does not know"
    );
    assert!(
        text(&out.stderr).contains("Permission denied"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn registry_wants_credentials_for_v2() {
    let lab = Lab::get();
    let url = format!("https://{}/v2/", lab.var("MAESTRO_LAB_REGISTRY"));
    let ca = lab.var("MAESTRO_LAB_TLS_CA");
    assert_eq!(curl_status(&["--cacert", &ca], &url).unwrap(), "401");
    let wrong = format!("{}:wrong", lab.var("MAESTRO_LAB_REGISTRY_USER"));
    assert_eq!(
        curl_status(&["--cacert", &ca, "-u", &wrong], &url).unwrap(),
        "401"
    );
    let creds = format!(
        "{}:{}",
        lab.var("MAESTRO_LAB_REGISTRY_USER"),
        lab.var("MAESTRO_LAB_REGISTRY_PASSWORD")
    );
    assert_eq!(
        curl_status(&["--cacert", &ca, "-u", &creds], &url).unwrap(),
        "200"
    );
}

/// A private docker CLI config folder, removed on drop.
struct DockerConfig(PathBuf);

impl Drop for DockerConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn registry_refuses_a_pull_without_login_and_serves_one_with_it() {
    let lab = Lab::get();
    let ship = "ship3";
    let image = format!(
        "{}/{}",
        lab.var("MAESTRO_LAB_REGISTRY"),
        lab.var("MAESTRO_LAB_IMAGE2")
    );
    let cfg = DockerConfig(std::env::temp_dir().join(unique("lab", "mlab-dockercfg")));
    std::fs::create_dir_all(&cfg.0).unwrap();
    let docker = |args: &[&str]| {
        let mut cmd = lab.docker(ship);
        cmd.arg("--config").arg(&cfg.0).args(args);
        cmd
    };

    let anonymous = run(&mut docker(&["pull", "-q", &image]));
    assert!(!anonymous.status.success(), "pull without login worked");
    assert!(
        text(&anonymous.stderr).contains("no basic auth credentials"),
        "unexpected error: {}",
        text(&anonymous.stderr)
    );

    let mut login = docker(&[
        "login",
        "-u",
        &lab.var("MAESTRO_LAB_REGISTRY_USER"),
        "--password-stdin",
        &lab.var("MAESTRO_LAB_REGISTRY"),
    ]);
    let mut child = login
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lab.var("MAESTRO_LAB_REGISTRY_PASSWORD").as_bytes())
        .unwrap();
    let login = child.wait_with_output().unwrap();
    assert!(
        login.status.success(),
        "docker login: {}",
        text(&login.stderr)
    );

    let had_it = run(lab.docker(ship).args(["image", "inspect", &image]))
        .status
        .success();
    let pull = run(&mut docker(&["pull", "-q", &image]));
    let pulled_id = run(lab
        .docker(ship)
        .args(["image", "inspect", "-f", "{{.Id}}", &image]));
    if !had_it {
        // Leave the ship as it was: others test "not present yet" pulls.
        let _ = run(lab.docker(ship).args(["rmi", &image]));
    }
    assert!(
        pull.status.success(),
        "pull with login: {}",
        text(&pull.stderr)
    );
    let local_id = run(lab.docker(ship).args([
        "image",
        "inspect",
        "-f",
        "{{.Id}}",
        &lab.var("MAESTRO_LAB_IMAGE2"),
    ]));
    assert_eq!(
        text(&pulled_id.stdout),
        text(&local_id.stdout),
        "registry copy differs from the loaded image"
    );
}

#[test]
fn every_ship_has_both_lab_images_with_the_same_ids() {
    let lab = Lab::get();
    let id = |ship: &str, image: &str| {
        let out = run(lab
            .docker(ship)
            .args(["image", "inspect", "-f", "{{.Id}}", image]));
        assert!(
            out.status.success(),
            "{ship} lacks {image}: {}",
            text(&out.stderr)
        );
        text(&out.stdout).trim().to_string()
    };
    let (one, two) = (lab.var("MAESTRO_LAB_IMAGE"), lab.var("MAESTRO_LAB_IMAGE2"));
    let want1 = id("ship1", &one);
    let want2 = id("ship1", &two);
    assert_ne!(want1, want2, "the two lab image tags have the same content");
    for ship in lab.ships() {
        assert_eq!(id(&ship, &one), want1, "{ship} {one}");
        assert_eq!(id(&ship, &two), want2, "{ship} {two}");
    }
}

/// A container removed on drop (also when the test fails).
struct Container<'a> {
    lab: &'a Lab,
    ship: &'a str,
    name: String,
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = run(self
            .lab
            .docker(self.ship)
            .args(["rm", "-f", "-v", &self.name]));
    }
}

#[test]
fn container_on_ship1_reaches_a_port_published_on_ship2() {
    let lab = Lab::get();
    let token = unique("lab", "token");
    let server = Container {
        lab: &lab,
        ship: "ship2",
        name: unique("lab", "mlab-e2e-server"),
    };
    let script = format!(
        "mkdir -p /tmp/www && echo {token} > /tmp/www/t && trap 'exit 0' TERM; \
         httpd -f -p 8080 -h /tmp/www & wait"
    );
    let started = run(lab.docker("ship2").args([
        "run",
        "-d",
        "--name",
        &server.name,
        "-p",
        "8080",
        &lab.var("MAESTRO_LAB_IMAGE"),
        "sh",
        "-c",
        &script,
    ]));
    assert!(
        started.status.success(),
        "docker run on ship2: {}",
        text(&started.stderr)
    );
    let port = run(lab.docker("ship2").args(["port", &server.name, "8080/tcp"]));
    let port = text(&port.stdout);
    let port = port
        .lines()
        .find_map(|l| l.rsplit_once(':').map(|(_, p)| p.trim().to_string()))
        .unwrap_or_else(|| panic!("no published port for 8080: {port:?}"));

    let client = Container {
        lab: &lab,
        ship: "ship1",
        name: unique("lab", "mlab-e2e-client"),
    };
    let target = format!("{} {port}", lab.ship_ip("ship2"));
    // httpd may need a moment after `docker run` returns: retry a few times.
    let fetch = format!(
        "for i in 1 2 3 4 5 6 7 8 9 10; do \
           printf 'GET /t HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {target} && exit 0; sleep 0.3; \
         done; exit 1"
    );
    let out = run(lab.docker("ship1").args([
        "run",
        "--name",
        &client.name,
        &lab.var("MAESTRO_LAB_IMAGE"),
        "sh",
        "-c",
        &fetch,
    ]));
    let answer = text(&out.stdout);
    assert!(
        answer.contains(" 200 ") && answer.contains(&token),
        "ship1 container did not get ship2's page from {target}: {answer}\n{}",
        text(&out.stderr)
    );
}
