//! Test helper for `tests/e2e/docker.rs`: opens an SSH-tunnelled Docker
//! client, prints the ssh forwarder's pid, then waits to be killed. The test
//! checks that the forwarder dies with this process (Ctrl-C, SIGKILL).
//!
//! Usage: docker-forwarder-probe <host> <user> <key> <known_hosts> <remote socket>

use std::time::Duration;

use maestro::config::ship::{ApiVersion, Ship, SshTunnel};
use maestro::docker::Docker;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, user, key, known_hosts, socket] = args.as_slice() else {
        eprintln!(
            "usage: docker-forwarder-probe <host> <user> <key> <known_hosts> <remote socket>"
        );
        std::process::exit(2);
    };
    let ship = Ship {
        name: "probe".into(),
        ip: host.clone(),
        endpoint: host.clone(),
        docker_port: 2375,
        socket_path: Some(socket.into()),
        api_version: ApiVersion::Auto,
        timeout: Duration::from_secs(5),
        tls: None,
        ssh_tunnel: Some(SshTunnel {
            user: user.clone(),
            key: key.into(),
            port: 22,
            known_hosts: Some(known_hosts.into()),
            // The forwarder's own connection: the test watches its process.
            control_persist: None,
        }),
        max_concurrency: 1,
    };
    let docker = match Docker::new(&ship) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = docker.ping() {
        eprintln!("{e}");
        std::process::exit(1);
    }
    println!("{}", docker.forwarder_pid().unwrap_or(0));
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}
