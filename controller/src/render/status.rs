//! `maestro status`: MaestroNG's table (`-F` adds IMAGE and PORTS, `-H`
//! shows ship addresses) and the `--format json` lines, one object per
//! instance.

use serde_json::json;

use super::columns::{self, Cell, Column};
use super::table::style_of;
use crate::config::model::{Instance, Protocol};
use crate::events::{Kind, human_duration};
use crate::plan::observe::{PortState, Seen};

/// One instance as `status` shows it.
pub struct StatusLine<'a> {
    pub instance: &'a Instance,
    /// Its ship's address.
    pub host: &'a str,
    pub seen: &'a Seen,
    /// Its named ports, when they were probed (`-F`, JSON).
    pub ports: Vec<PortState>,
}

impl StatusLine<'_> {
    pub fn running(&self) -> bool {
        matches!(self.seen, Seen::Container(c) if c.running)
    }

    /// A one-shot's run, when the instance is one and its container
    /// exited: `Ok(())` completed from the file's configuration, else why
    /// not.
    fn one_shot(&self) -> Option<OneShotRun> {
        let Seen::Container(c) = self.seen else {
            return None;
        };
        if self.instance.one_shot().is_none() || c.running || c.state != "exited" {
            return None;
        }
        Some(match c.exit_code? {
            0 if c.completed(&self.instance.config_hash) => OneShotRun::Completed,
            0 => OneShotRun::Outdated,
            code => OneShotRun::Failed(code),
        })
    }

    /// Running, or a one-shot that completed: as it should be.
    pub fn ok(&self) -> bool {
        self.running() || self.one_shot() == Some(OneShotRun::Completed)
    }

    fn container(&self) -> String {
        match self.seen {
            Seen::Container(c) => c.display(),
            Seen::Absent | Seen::HostDown(_) => "-".into(),
        }
    }

    fn status(&self) -> String {
        match self.one_shot() {
            Some(OneShotRun::Completed) => return "completed".into(),
            Some(OneShotRun::Outdated) => {
                return "completed (configuration changed)".into();
            }
            Some(OneShotRun::Failed(code)) => return format!("failed (exit {code})"),
            None => {}
        }
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
        if self.ok() { Kind::Ok } else { Kind::Failure }
    }

    fn ports_text(&self) -> String {
        self.ports
            .iter()
            .map(|p| match p.protocol {
                Protocol::Udp => format!("{}:{}/udp udp", p.name, p.port),
                Protocol::Tcp => {
                    let up = if p.up { "up" } else { "down" };
                    format!("{}:{} {up}", p.name, p.port)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How a one-shot's container that exited ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OneShotRun {
    /// Exited 0, from the file's configuration.
    Completed,
    /// Exited 0, from another configuration: `start` runs it again.
    Outdated,
    /// Exited with this code.
    Failed(i64),
}

/// What the table shows besides the fixed columns.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// `-H`: the ship's address instead of its name.
    pub show_hosts: bool,
    /// `-F`: the image and the ports' state.
    pub full: bool,
}

pub fn table(lines: &[StatusLine<'_>], opts: TableOptions) -> String {
    let mut header = vec![
        Column::right("#"),
        Column::left("INSTANCE"),
        Column::left("SERVICE"),
        Column::left(if opts.show_hosts { "HOST" } else { "SHIP" }),
        Column::left("CONTAINER"),
        Column::left("STATUS"),
    ];
    if opts.full {
        header.extend([Column::left("IMAGE"), Column::left("PORTS")]);
    }
    let rows: Vec<Vec<Cell>> = lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            let style = style_of(l.kind());
            let ship = if opts.show_hosts {
                l.host
            } else {
                &l.instance.ship.name
            };
            let mut r = vec![
                format!("{}.", n + 1).into(),
                l.instance.name.as_str().into(),
                l.instance.service.as_str().into(),
                ship.into(),
                Cell::styled(l.container(), style),
                Cell::styled(l.status(), style),
            ];
            if opts.full {
                let image = match l.seen {
                    Seen::Container(c) => c.image.clone(),
                    _ => l.instance.image.clone(),
                };
                r.extend([image.into(), l.ports_text().into()]);
            }
            r
        })
        .collect();
    columns::render(&header, &rows)
}

/// One JSON object per line, per instance.
pub fn json_lines(lines: &[StatusLine<'_>]) -> String {
    let mut out = String::new();
    for l in lines {
        let i = l.instance;
        let run = l.one_shot();
        let (status, id, image, for_secs) = match l.seen {
            Seen::Container(c) => (
                match run {
                    Some(OneShotRun::Completed) => "completed",
                    Some(OneShotRun::Outdated) => "outdated",
                    Some(OneShotRun::Failed(_)) => "failed",
                    None if c.running => "running",
                    None => "down",
                },
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
            .map(|p| {
                let up = if p.protocol == Protocol::Tcp {
                    json!(p.up)
                } else {
                    json!(null)
                };
                json!({"name": p.name, "port": p.port, "protocol": p.protocol.as_str(), "up": up})
            })
            .collect();
        let mut v = json!({
            "instance": i.name,
            "service": i.service,
            "ship": i.ship,
            "host": (!l.host.is_empty()).then_some(l.host),
            "status": status,
            "container": id,
            "image": image,
            "for_secs": for_secs,
            "ports": ports,
        });
        if let Seen::HostDown(reason) = l.seen {
            v["error"] = json!(reason);
        }
        if let (Some(_), Seen::Container(c)) = (run, l.seen) {
            v["exit_code"] = json!(c.exit_code);
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
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

    fn render(opts: TableOptions, json: bool) -> String {
        let env = crate::config::load_str(ENV, std::path::Path::new(".")).unwrap();
        let running = Seen::Container(Container {
            id: "0123456789abcdef".into(),
            image: "zk:3".into(),
            running: true,
            state: "running".into(),
            for_secs: Some(192),
            config_hash: None,
            exit_code: None,
        });
        let down = Seen::HostDown("ship `ship2`: refused".into());
        let absent = Seen::Absent;
        let port = |name: &str, port: &str, protocol, up| PortState {
            name: name.into(),
            port: port.into(),
            protocol,
            up,
        };
        let lines = vec![
            StatusLine {
                instance: &env.instances["zk-1"],
                host: "10.213.0.1",
                seen: &running,
                ports: vec![
                    port("client", "2181", Protocol::Tcp, true),
                    port("gossip", "9000", Protocol::Udp, false),
                ],
            },
            StatusLine {
                instance: &env.instances["zk-2"],
                host: "10.213.0.2",
                seen: &down,
                ports: Vec::new(),
            },
            StatusLine {
                instance: &env.instances["kafka-1"],
                host: "10.213.0.1",
                seen: &absent,
                ports: Vec::new(),
            },
        ];
        let out = if json {
            json_lines(&lines)
        } else {
            table(&lines, opts)
        };
        // Colours are dropped by anstream when not on a terminal.
        anstream::adapter::strip_str(&out).to_string()
    }

    #[test]
    fn table_columns_as_maestrong() {
        assert_eq!(
            render(TableOptions::default(), false),
            " #  INSTANCE  SERVICE  SHIP   CONTAINER  STATUS
1.  zk-1      zk       ship1  3:0123456  running for 3m12s
2.  zk-2      zk       ship2  -          host down
3.  kafka-1   kafka    ship1  -          absent
"
        );
        let full = TableOptions {
            show_hosts: true,
            full: true,
        };
        assert_eq!(
            render(full, false),
            " #  INSTANCE  SERVICE  HOST        CONTAINER  STATUS             IMAGE    PORTS
1.  zk-1      zk       10.213.0.1  3:0123456  running for 3m12s  zk:3     client:2181 up, gossip:9000/udp udp
2.  zk-2      zk       10.213.0.2  -          host down          zk:3
3.  kafka-1   kafka    10.213.0.1  -          absent             kafka:2
"
        );
    }

    #[test]
    fn one_shots_show_how_they_ended() {
        let env = crate::config::load_str(
            "name: t\nships: {ship1: {ip: 10.213.0.1}}\nservices:\n  seed:\n    image: box:1\n    run: once\n    instances: {s1: {ship: ship1}, s2: {ship: ship1}, s3: {ship: ship1}}\n  app:\n    image: box:1\n    instances: {a1: {ship: ship1}}\n",
            std::path::Path::new("."),
        )
        .unwrap();
        let exited = |i: &str, code: i64, same: bool| {
            Seen::Container(Container {
                id: "0123456789abcdef".into(),
                image: "box:1".into(),
                running: false,
                state: "exited".into(),
                for_secs: Some(60),
                config_hash: Some(if same {
                    env.instances[i].config_hash.clone()
                } else {
                    "old".into()
                }),
                exit_code: Some(code),
            })
        };
        let seen = [
            ("s1", exited("s1", 0, true)),
            ("s2", exited("s2", 3, true)),
            ("s3", exited("s3", 0, false)),
            ("a1", exited("a1", 0, true)),
        ];
        let lines: Vec<StatusLine<'_>> = seen
            .iter()
            .map(|(i, s)| StatusLine {
                instance: &env.instances[*i],
                host: "10.213.0.1",
                seen: s,
                ports: Vec::new(),
            })
            .collect();
        let out = anstream::adapter::strip_str(&table(&lines, TableOptions::default())).to_string();
        assert_eq!(
            out,
            " #  INSTANCE  SERVICE  SHIP   CONTAINER  STATUS
1.  s1        seed     ship1  1:0123456  completed
2.  s2        seed     ship1  1:0123456  failed (exit 3)
3.  s3        seed     ship1  1:0123456  completed (configuration changed)
4.  a1        app      ship1  1:0123456  down for 1m0s
"
        );
        let ok: Vec<bool> = lines.iter().map(StatusLine::ok).collect();
        assert_eq!(ok, [true, false, false, false]);
        let json: Vec<serde_json::Value> = json_lines(&lines)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(json[0]["status"], "completed");
        assert_eq!(json[0]["exit_code"], 0);
        assert_eq!(json[1]["status"], "failed");
        assert_eq!(json[1]["exit_code"], 3);
        assert_eq!(json[2]["status"], "outdated");
        assert_eq!(json[3]["status"], "down");
        assert!(json[3].get("exit_code").is_none());
    }

    #[test]
    fn json_lines_have_every_field() {
        let text = render(TableOptions::default(), true);
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
