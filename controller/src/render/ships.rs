//! `maestro ships`: one line per ship (how it is reached, what it runs,
//! whether it answered), then one line per warning or error.

use super::columns::{self, Cell, Column};
use crate::docker::ShipReport;

pub fn table(reports: &[ShipReport]) -> String {
    let header = [
        Column::left("SHIP"),
        Column::left("TRANSPORT"),
        Column::left("ENDPOINT"),
        Column::left("DOCKER"),
        Column::left("API"),
        Column::left("STATUS"),
    ];
    let rows: Vec<Vec<Cell>> = reports
        .iter()
        .map(|r| {
            let (docker, api, status) = match &r.result {
                Ok(s) => (s.daemon_version.as_str(), s.api_version.as_str(), "up"),
                Err(e) if e.is_unreachable() => ("-", "-", "unreachable"),
                Err(_) => ("-", "-", "error"),
            };
            vec![
                r.name.as_str().into(),
                r.transport.as_str().into(),
                r.endpoint.as_str().into(),
                docker.into(),
                api.into(),
                status.into(),
            ]
        })
        .collect();
    let mut out = columns::render(&header, &rows);
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
    use crate::docker::ShipStatus;
    use crate::docker::{Error, ErrorKind, ShipReport};

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
        let out = table(&reports);
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
