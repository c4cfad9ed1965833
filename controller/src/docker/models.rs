//! API models. Request bodies and rich responses come from bollard-stubs
//! (Engine API 1.53, every field optional, so older daemons parse). The few
//! responses whose fields steer maestro's logic (state, ids, versions, event
//! type and action) are read into our own lenient structs: plain strings and
//! defaults, so an enum value unknown to the stubs from a newer daemon cannot
//! fail the call. Each lenient struct keeps the raw JSON for everything else.

use std::collections::HashMap;

use serde::Deserialize;

pub use bollard_stubs::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointSettings, EventMessage, ExecConfig,
    HealthConfig, HostConfig, ImageInspect, Mount, NetworkingConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum, SystemInfo, SystemVersion,
};

/// `GET /version`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default, rename = "MinAPIVersion")]
    pub min_api_version: Option<String>,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub kernel_version: String,
}

/// One row of `GET /containers/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    #[serde(default)]
    pub id: String,
    /// With the leading `/`, as dockerd reports them.
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub image: String,
    #[serde(default, rename = "ImageID")]
    pub image_id: String,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub created: i64,
    /// `created`, `running`, `exited`, ... kept as text.
    #[serde(default)]
    pub state: String,
    /// Human text, e.g. `Up 3 minutes`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub labels: Option<HashMap<String, String>>,
}

impl ContainerSummary {
    /// The first name without its leading `/`.
    pub fn name(&self) -> &str {
        self.names
            .first()
            .map(|n| n.trim_start_matches('/'))
            .unwrap_or("")
    }
}

/// `GET /containers/{id}/json`: the fields maestro decides on, plus the raw
/// document (`full()` turns it into the stubs' complete model).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerDetails {
    #[serde(default)]
    pub id: String,
    /// With the leading `/`.
    #[serde(default)]
    pub name: String,
    /// The image id the container was created from.
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub restart_count: i64,
    #[serde(default)]
    pub state: ContainerState,
    #[serde(default)]
    pub config: ContainerConfigSummary,
    #[serde(skip)]
    pub raw: serde_json::Value,
}

impl ContainerDetails {
    /// The complete inspect document as bollard-stubs models it. May fail on
    /// values newer than the stubs; the lenient fields above never do.
    pub fn full(&self) -> Result<ContainerInspectResponse, serde_json::Error> {
        serde_json::from_value(self.raw.clone())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub running: bool,
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub restarting: bool,
    #[serde(default, rename = "OOMKilled")]
    pub oom_killed: bool,
    #[serde(default)]
    pub dead: bool,
    #[serde(default)]
    pub pid: i64,
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub finished_at: String,
    #[serde(default)]
    pub health: Option<Health>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// `starting`, `healthy`, `unhealthy`, `none`.
    #[serde(default)]
    pub status: String,
    /// The last probes (Docker keeps five), oldest first.
    #[serde(default)]
    pub log: Option<Vec<HealthProbe>>,
}

/// One run of a container's healthcheck.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthProbe {
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default)]
    pub output: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfigSummary {
    /// The image reference the container was created with.
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub labels: Option<HashMap<String, String>>,
    #[serde(default)]
    pub tty: bool,
}

/// `POST /containers/create`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Created {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// `POST /containers/{id}/wait`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitResult {
    #[serde(default)]
    pub status_code: i64,
    #[serde(default)]
    pub error: Option<WaitError>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitError {
    #[serde(default)]
    pub message: String,
}

/// `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecDetails {
    #[serde(default, rename = "ID")]
    pub id: String,
    #[serde(default, rename = "ContainerID")]
    pub container_id: String,
    #[serde(default)]
    pub running: bool,
    /// None while running.
    #[serde(default)]
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub pid: i64,
}

/// What `Docker::exec` collected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// One row of `GET /images/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub repo_digests: Option<Vec<String>>,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub labels: Option<HashMap<String, String>>,
}

/// One message of `GET /events`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DaemonEvent {
    /// `container`, `image`, `network`, ... (`Type`).
    #[serde(default, rename = "Type")]
    pub kind: String,
    /// `create`, `start`, `die`, `exec_start: sh`, ...
    #[serde(default, rename = "Action")]
    pub action: String,
    #[serde(default, rename = "Actor")]
    pub actor: EventActor,
    #[serde(default)]
    pub time: i64,
    #[serde(default, rename = "timeNano")]
    pub time_nano: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventActor {
    #[serde(default, rename = "ID")]
    pub id: String,
    #[serde(default, rename = "Attributes")]
    pub attributes: HashMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_state_values_do_not_fail_inspect() {
        let d: ContainerDetails = serde_json::from_str(
            r#"{"Id":"abc","Name":"/x","State":{"Status":"hibernating","Running":false,"Health":{"Status":"sleepy"}},"Config":{"Image":"box:1","Env":null}}"#,
        )
        .unwrap();
        assert_eq!(d.state.status, "hibernating");
        assert_eq!(d.state.health.unwrap().status, "sleepy");
        assert_eq!(d.config.image, "box:1");
    }

    #[test]
    fn summary_name_strips_the_slash() {
        let s: ContainerSummary =
            serde_json::from_str(r#"{"Id":"a","Names":["/t-1"],"State":"running"}"#).unwrap();
        assert_eq!(s.name(), "t-1");
    }

    #[test]
    fn events_from_a_1_41_daemon() {
        let e: DaemonEvent = serde_json::from_str(
            r#"{"status":"start","id":"abc","from":"box:1","Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"t"}},"scope":"local","time":1,"timeNano":2}"#,
        )
        .unwrap();
        assert_eq!((e.kind.as_str(), e.action.as_str()), ("container", "start"));
        assert_eq!(e.actor.attributes["name"], "t");
    }
}
