//! `maestro status`: one container list request per ship (ships in
//! parallel, at most `-c` at once), one row per instance in dependency
//! order, MaestroNG's columns; `-F` adds the image and whether each port
//! answers as two more columns, `-H` shows
//! ship addresses, `--format json` prints one object per instance per line.
//! Exit 0 when every selected instance runs, 1 when any is down, absent or
//! on a ship that did not answer, 2 on errors.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::json;

use super::orchestrate::{clients, request};
use crate::cli::{GlobalArgs, StatusArgs, StatusFormat};
use crate::config::Environment;
use crate::config::model::{Instance, Protocol};
use crate::events::{Kind, human_duration};
use crate::plan::observe::{Seen, observe_limited};
use crate::plan::selection::{self, Command};
use crate::render::table::{paint, style_of};

/// How long a port may take to accept a connection under `-F`.
const PORT_TIMEOUT: Duration = Duration::from_millis(500);

/// One instance's line.
struct Line<'a> {
    instance: &'a Instance,
    seen: &'a Seen,
    /// Per named port: (name, host port text, protocol, up).
    ports: Vec<(String, String, Protocol, bool)>,
}

impl Line<'_> {
    fn running(&self) -> bool {
        matches!(self.seen, Seen::Container(c) if c.running)
    }

    fn container(&self) -> String {
        match self.seen {
            Seen::Container(c) => c.display(),
            Seen::Absent | Seen::HostDown(_) => "-".into(),
        }
    }

    fn status(&self) -> String {
        match self.seen {
            Seen::Container(c) => {
                let word = if c.running { "running" } else { "down" };
                match c.for_secs {
                    Some(s) => format!("{word} for {}", human_duration(s)),
                    None => word.to_string(),
                }
            }
            Seen::Absent => "absent".into(),
            Seen::HostDown(_) => "host down".into(),
        }
    }

    fn kind(&self) -> Kind {
        if self.running() {
            Kind::Ok
        } else {
            Kind::Failure
        }
    }
}

pub fn run(global: &GlobalArgs, args: &StatusArgs) -> i32 {
    let loaded = match super::load(global) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let env = &loaded.env;
    let selected =
        match selection::select(env, Command::Status, &request(&args.selection, true, true)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("maestro: {}", e.message());
                return e.exit_code();
            }
        };
    let order = match super::dump::ordered_instances(env, &[]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("maestro: {e}");
            return 2;
        }
    };
    let dockers = clients(env, &selected);
    // `-c`: list requests in flight at once (0: every ship at once).
    let observed = observe_limited(env, &selected, &dockers, args.selection.concurrency);
    let mut lines: Vec<Line<'_>> = order
        .iter()
        .filter(|n| selected.contains(*n))
        .filter_map(|n| {
            Some(Line {
                instance: env.instances.get(n)?,
                seen: observed.get(n),
                ports: Vec::new(),
            })
        })
        .collect();
    if args.full || args.format == StatusFormat::Json {
        probe_ports(env, &mut lines);
    }
    let mut out = anstream::stdout().lock();
    let written = match args.format {
        StatusFormat::Json => write_json(env, &lines, &mut out),
        StatusFormat::Table => write_table(env, &lines, args, &mut out),
    };
    if let Err(e) = written {
        // A reader that went away early (`| head`) is no failure.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("maestro: cannot write to standard output: {e}");
            return 2;
        }
    }
    for l in &lines {
        if let Seen::HostDown(reason) = l.seen {
            eprintln!("maestro: {}: {reason}", l.instance.name);
        }
    }
    if lines.iter().all(Line::running) {
        0
    } else {
        1
    }
}

/// Connects to every TCP port of every running instance at its ship's
/// address, all at once, each with a short timeout. UDP cannot be probed.
fn probe_ports(env: &Environment, lines: &mut [Line<'_>]) {
    std::thread::scope(|s| {
        for line in lines.iter_mut() {
            let running = line.running();
            let ip = env
                .ships
                .get(&line.instance.ship)
                .map_or("", |s| s.ip.as_str());
            let probes: Vec<_> = line
                .instance
                .ports
                .iter()
                .map(|(name, p)| {
                    let name = name.clone();
                    let port = p.external;
                    let proto = p.protocol;
                    let handle = (running && proto == Protocol::Tcp && !port.is_range())
                        .then(|| s.spawn(move || reachable(ip, port.start)));
                    (name, port.to_string(), proto, handle)
                })
                .collect();
            line.ports = probes
                .into_iter()
                .map(|(name, port, proto, h)| {
                    let up = h.is_some_and(|h| h.join().unwrap_or(false));
                    (name, port, proto, up)
                })
                .collect();
        }
    });
}

fn reachable(ip: &str, port: u16) -> bool {
    let addrs: Vec<SocketAddr> = (ip, port)
        .to_socket_addrs()
        .map(|a| a.collect())
        .unwrap_or_default();
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, PORT_TIMEOUT).is_ok())
}

fn ports_text(l: &Line<'_>) -> String {
    l.ports
        .iter()
        .map(|(name, port, proto, up)| match proto {
            Protocol::Udp => format!("{name}:{port}/udp udp"),
            Protocol::Tcp => format!("{name}:{port} {}", if *up { "up" } else { "down" }),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_table(
    env: &Environment,
    lines: &[Line<'_>],
    args: &StatusArgs,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let ship_of = |l: &Line<'_>| {
        if args.show_hosts {
            env.ships
                .get(&l.instance.ship)
                .map_or(l.instance.ship.clone(), |s| s.ip.clone())
        } else {
            l.instance.ship.clone()
        }
    };
    let mut header = vec![
        "#",
        "INSTANCE",
        "SERVICE",
        if args.show_hosts { "HOST" } else { "SHIP" },
        "CONTAINER",
        "STATUS",
    ];
    if args.full {
        header.extend(["IMAGE", "PORTS"]);
    }
    let rows: Vec<Vec<String>> = lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            let mut r = vec![
                format!("{}.", n + 1),
                l.instance.name.clone(),
                l.instance.service.clone(),
                ship_of(l),
                l.container(),
                l.status(),
            ];
            if args.full {
                let image = match l.seen {
                    Seen::Container(c) => c.image.clone(),
                    _ => l.instance.image.clone(),
                };
                r.extend([image, ports_text(l)]);
            }
            r
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let pad = |text: &str, w: usize| {
        format!(
            "{text}{}",
            " ".repeat(w.saturating_sub(text.chars().count()))
        )
    };
    let last = header.len() - 1;
    let head: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(c, h)| {
            if c == 0 {
                format!("{h:>w$}", w = widths[0])
            } else if c == last {
                h.to_string()
            } else {
                pad(h, widths[c])
            }
        })
        .collect();
    writeln!(out, "{}", head.join("  "))?;
    for (l, r) in lines.iter().zip(&rows) {
        let style = style_of(l.kind());
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, text)| {
                let padded = if c == 0 {
                    format!("{text:>w$}", w = widths[0])
                } else if c == last {
                    text.clone()
                } else {
                    pad(text, widths[c])
                };
                if c == 4 || c == 5 {
                    paint(style, &padded)
                } else {
                    padded
                }
            })
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

fn write_json(env: &Environment, lines: &[Line<'_>], out: &mut impl Write) -> std::io::Result<()> {
    for l in lines {
        let i = l.instance;
        let (status, id, image, for_secs) = match l.seen {
            Seen::Container(c) => (
                if c.running { "running" } else { "down" },
                Some(c.id.clone()),
                Some(c.image.clone()),
                c.for_secs,
            ),
            Seen::Absent => ("absent", None, None, None),
            Seen::HostDown(_) => ("host down", None, None, None),
        };
        let ports: Vec<_> = l
            .ports
            .iter()
            .map(|(name, port, proto, up)| {
                json!({"name": name, "port": port, "protocol": proto.as_str(),
                       "up": if *proto == Protocol::Tcp { json!(up) } else { json!(null) }})
            })
            .collect();
        let mut v = json!({
            "instance": i.name,
            "service": i.service,
            "ship": i.ship,
            "host": env.ships.get(&i.ship).map(|s| s.ip.clone()),
            "status": status,
            "container": id,
            "image": image,
            "for_secs": for_secs,
            "ports": ports,
        });
        if let Seen::HostDown(reason) = l.seen {
            v["error"] = json!(reason);
        }
        writeln!(out, "{v}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::observe::Container;

    const ENV: &str = "name: t
ships:
  ship1: {ip: 10.213.0.1}
  ship2: {ip: 10.213.0.2}
services:
  zk:
    image: zk:3
    ports: {client: 2181, gossip: '9000/udp:9000/udp'}
    instances: {zk-1: {ship: ship1}, zk-2: {ship: ship2}}
  kafka:
    image: kafka:2
    requires: [zk]
    instances: {kafka-1: {ship: ship1}}
";

    fn render(args: &[&str], json: bool) -> String {
        let env = crate::config::load_str(ENV, std::path::Path::new(".")).unwrap();
        let running = Seen::Container(Container {
            id: "0123456789abcdef".into(),
            image: "zk:3".into(),
            running: true,
            state: "running".into(),
            for_secs: Some(192),
            config_hash: None,
        });
        let down = Seen::HostDown("ship `ship2`: refused".into());
        let absent = Seen::Absent;
        let mut lines = vec![
            Line {
                instance: &env.instances["zk-1"],
                seen: &running,
                ports: vec![
                    ("client".into(), "2181".into(), Protocol::Tcp, true),
                    ("gossip".into(), "9000".into(), Protocol::Udp, false),
                ],
            },
            Line {
                instance: &env.instances["zk-2"],
                seen: &down,
                ports: Vec::new(),
            },
            Line {
                instance: &env.instances["kafka-1"],
                seen: &absent,
                ports: Vec::new(),
            },
        ];
        lines[1].ports.clear();
        let mut argv = vec!["status"];
        argv.extend(args);
        let parsed =
            <crate::cli::Cli as clap::Parser>::parse_from(std::iter::once("maestro").chain(argv));
        let crate::cli::Command::Status(a) = parsed.command else {
            panic!()
        };
        let mut out = Vec::new();
        if json {
            write_json(&env, &lines, &mut out).unwrap();
        } else {
            write_table(&env, &lines, &a, &mut out).unwrap();
        }
        // Colours are dropped by anstream when not on a terminal.
        anstream::adapter::strip_str(&String::from_utf8(out).unwrap()).to_string()
    }

    #[test]
    fn table_columns_as_maestrong() {
        assert_eq!(
            render(&[], false),
            " #  INSTANCE  SERVICE  SHIP   CONTAINER  STATUS
1.  zk-1      zk       ship1  3:0123456  running for 3m12s
2.  zk-2      zk       ship2  -          host down
3.  kafka-1   kafka    ship1  -          absent
"
        );
        assert_eq!(
            render(&["-F", "-H"], false),
            " #  INSTANCE  SERVICE  HOST        CONTAINER  STATUS             IMAGE    PORTS
1.  zk-1      zk       10.213.0.1  3:0123456  running for 3m12s  zk:3     client:2181 up, gossip:9000/udp udp
2.  zk-2      zk       10.213.0.2  -          host down          zk:3
3.  kafka-1   kafka    10.213.0.1  -          absent             kafka:2
"
        );
    }

    #[test]
    fn json_lines() {
        let text = render(&[], true);
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["status"], "running");
        assert_eq!(rows[0]["for_secs"], 192);
        assert_eq!(rows[0]["ports"][0]["up"], true);
        assert_eq!(rows[0]["ports"][1]["up"], serde_json::Value::Null);
        assert_eq!(rows[1]["status"], "host down");
        assert_eq!(rows[1]["error"], "ship `ship2`: refused");
        assert_eq!(rows[2]["status"], "absent");
        assert_eq!(rows[2]["host"], "10.213.0.1");
    }
}
