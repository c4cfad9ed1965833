//! `maestro ships`: contact every ship at once and report how it is
//! reached and what it runs.

use std::thread;

use super::client::Docker;
use super::error::Error;
use crate::config::ship::Ship;

/// What one ship answered.
#[derive(Debug)]
pub struct ShipReport {
    pub name: String,
    /// How it is reached, e.g. `tcp://10.213.0.12:2375`.
    pub endpoint: String,
    /// `unix`, `tcp`, `tls`, `ssh`, `ssh+tls`.
    pub transport: String,
    /// The daemon's version and the API version in use, or why not.
    pub result: Result<ShipStatus, Error>,
    /// Shown once: e.g. certificate checks are off.
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipStatus {
    pub daemon_version: String,
    pub api_version: String,
}

/// Contacts every ship in parallel (one thread each) and returns the
/// reports in the ships' order.
pub fn survey(ships: &[Ship]) -> Vec<ShipReport> {
    thread::scope(|s| {
        let handles: Vec<_> = ships.iter().map(|ship| s.spawn(|| report(ship))).collect();
        handles
            .into_iter()
            .zip(ships)
            .map(|(h, ship)| {
                h.join().unwrap_or_else(|_| ShipReport {
                    name: ship.name.clone(),
                    endpoint: ship.endpoint.clone(),
                    transport: "?".into(),
                    result: Err(Error::new(
                        &ship.name,
                        &ship.endpoint,
                        super::ErrorKind::Io {
                            detail: "internal error while contacting the ship".into(),
                        },
                    )),
                    warning: None,
                })
            })
            .collect()
    })
}

fn report(ship: &Ship) -> ShipReport {
    let docker = match Docker::new(ship) {
        Ok(d) => d,
        Err(e) => {
            return ShipReport {
                name: ship.name.clone(),
                endpoint: e.endpoint.clone(),
                transport: String::new(),
                result: Err(e),
                warning: None,
            };
        }
    };
    let result = docker.daemon_version().and_then(|v| {
        Ok(ShipStatus {
            daemon_version: v.version,
            api_version: docker.api_version()?,
        })
    });
    ShipReport {
        name: ship.name.clone(),
        endpoint: docker.endpoint().to_string(),
        transport: docker.transport().to_string(),
        result,
        warning: docker.warning().map(str::to_string),
    }
}

/// A plain table: one line per ship, then one line per error or warning.
pub fn render_ships(reports: &[ShipReport]) -> String {
    let header = ["SHIP", "TRANSPORT", "ENDPOINT", "DOCKER", "API", "STATUS"];
    let rows: Vec<[String; 6]> = reports
        .iter()
        .map(|r| {
            let (docker, api, status) = match &r.result {
                Ok(s) => (s.daemon_version.clone(), s.api_version.clone(), "up".into()),
                Err(e) if e.is_unreachable() => ("-".into(), "-".into(), "unreachable".into()),
                Err(_) => ("-".into(), "-".into(), "error".into()),
            };
            [
                r.name.clone(),
                r.transport.clone(),
                r.endpoint.clone(),
                docker,
                api,
                status,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(&header.map(String::from));
    for row in &rows {
        line(row);
    }
    for r in reports {
        if let Some(w) = &r.warning {
            out.push_str(&format!("warning: {w}\n"));
        }
        if let Err(e) = &r.result {
            out.push_str(&format!("error: {e}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::ErrorKind;

    #[test]
    fn renders_a_table_and_the_errors() {
        let reports = vec![
            ShipReport {
                name: "ship1".into(),
                endpoint: "unix:///s.sock".into(),
                transport: "unix".into(),
                result: Ok(ShipStatus {
                    daemon_version: "20.10.24".into(),
                    api_version: "1.41".into(),
                }),
                warning: None,
            },
            ShipReport {
                name: "ship2".into(),
                endpoint: "tcp://10.213.0.12:2375".into(),
                transport: "tcp".into(),
                result: Err(Error::new(
                    "ship2",
                    "tcp://10.213.0.12:2375",
                    ErrorKind::Refused,
                )),
                warning: None,
            },
        ];
        let out = render_ships(&reports);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "SHIP   TRANSPORT  ENDPOINT                DOCKER    API   STATUS"
        );
        assert_eq!(
            lines[1],
            "ship1  unix       unix:///s.sock          20.10.24  1.41  up"
        );
        assert_eq!(
            lines[2],
            "ship2  tcp        tcp://10.213.0.12:2375  -         -     unreachable"
        );
        assert!(
            lines[3]
                .starts_with("error: ship `ship2` (tcp://10.213.0.12:2375): connection refused")
        );
    }
}
