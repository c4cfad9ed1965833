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
