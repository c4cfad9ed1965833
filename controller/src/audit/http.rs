//! Sending a JSON body over HTTP: the `http` (webhook) auditor and the
//! `slack` preset built on it.
//!
//! Errors name the endpoint by scheme and host only: the path and query of
//! a webhook URL often are the secret (Slack's incoming webhooks).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

/// One request to send.
#[derive(Debug, Clone)]
pub struct HttpCall {
    pub endpoint: String,
    /// `POST` or `GET` (a GET carries the body too, as MaestroNG sent it).
    pub method: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    pub timeout: Duration,
}

/// `Content-Type` unless the configuration's headers say otherwise.
pub const JSON: &str = "application/json; charset=utf-8";

/// `scheme://host[:port]` of a URL, for messages.
pub fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Credentials in the authority (`user:pass@host`) are not shown either.
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

/// Sends the request; `Err` says why, naming the endpoint's origin only.
pub fn send(req: &HttpCall) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(req.timeout))
        .build()
        .into();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    headers.insert("Content-Type".into(), JSON.into());
    for (k, v) in &req.headers {
        // Header names are case-insensitive: a configured `content-type`
        // replaces ours rather than adding a second one.
        headers.retain(|old, _| !old.eq_ignore_ascii_case(k));
        headers.insert(k.clone(), v.clone());
    }
    let body = serde_json::to_vec(&req.body).unwrap_or_default();
    let builder = if req.method.eq_ignore_ascii_case("GET") {
        agent.get(&req.endpoint).force_send_body()
    } else {
        agent.post(&req.endpoint)
    };
    let builder = headers
        .iter()
        .fold(builder, |b, (k, v)| b.header(k.as_str(), v.as_str()));
    let at = origin(&req.endpoint);
    match builder.send(&body[..]) {
        Ok(resp) if resp.status().is_success() => Ok(()),
        Ok(resp) => Err(format!("{at} answered {}", resp.status())),
        Err(e) => Err(format!("{at}: {}", describe(&e))),
    }
}

/// A ureq error in words that never repeat the URL.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => "invalid endpoint URL".into(),
        ureq::Error::Timeout(_) => "no answer in time".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Io(io) => io.kind().to_string(),
        other => other.to_string(),
    }
}

/// MaestroNG's Slack colours.
pub fn slack_colour(event: &str) -> &'static str {
    match event {
        "action" => "#1dc7d3",
        "success" => "good",
        _ => "danger",
    }
}

/// The Slack message: an attachment in MaestroNG's colours, a "Targets"
/// field when the text does not list every name, an "Error" field on
/// errors.
pub struct SlackMessage<'a> {
    pub channel: &'a str,
    pub name: Option<&'a str>,
    pub icon: Option<&'a str>,
    pub text: &'a str,
    pub event: &'a str,
    /// Every target, when the text shows the compact form.
    pub targets: Option<String>,
    pub error: Option<&'a str>,
}

impl SlackMessage<'_> {
    pub fn body(&self) -> Value {
        let mut fields = Vec::new();
        if let Some(t) = &self.targets {
            fields.push(json!({"title": "Targets", "value": t, "short": false}));
        }
        if let Some(e) = self.error {
            fields.push(json!({"title": "Error", "value": e, "short": false}));
        }
        let mut body = json!({
            "channel": self.channel,
            "username": self.name.unwrap_or("maestro"),
            "attachments": [{
                "fallback": self.text,
                "text": self.text,
                "color": slack_colour(self.event),
                "fields": fields,
            }],
        });
        if let Some(icon) = self.icon {
            body["icon_url"] = Value::String(icon.to_string());
        }
        body
    }
}

/// Where a Slack message goes: a `token` that is a URL is an incoming
/// webhook; anything else is a bot token for `chat.postMessage`.
pub fn slack_request(token: &str, body: Value, timeout: Duration) -> HttpCall {
    let mut headers = BTreeMap::new();
    let endpoint = if token.starts_with("https://") || token.starts_with("http://") {
        token.to_string()
    } else {
        headers.insert("Authorization".into(), format!("Bearer {token}"));
        "https://slack.com/api/chat.postMessage".to_string()
    };
    HttpCall {
        endpoint,
        method: "POST".into(),
        headers,
        body,
        timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_hides_path_query_and_userinfo() {
        assert_eq!(
            origin("https://hooks.slack.com/services/T0/B0/s3cret"),
            "https://hooks.slack.com"
        );
        assert_eq!(
            origin("http://u:pw@127.0.0.1:8080/x?k=v"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(origin("example.org/a"), "example.org");
    }

    #[test]
    fn slack_body_colours_and_fields() {
        let m = SlackMessage {
            channel: "#ops",
            name: None,
            icon: Some("http://icon"),
            text: "Failed to start 5 containers! (message: boom)",
            event: "error",
            targets: Some("a, b, c, d, e".into()),
            error: Some("boom"),
        };
        let b = m.body();
        assert_eq!(b["channel"], "#ops");
        assert_eq!(b["username"], "maestro");
        assert_eq!(b["icon_url"], "http://icon");
        assert_eq!(b["attachments"][0]["color"], "danger");
        assert_eq!(b["attachments"][0]["fields"][0]["value"], "a, b, c, d, e");
        assert_eq!(b["attachments"][0]["fields"][1]["title"], "Error");
        assert_eq!(slack_colour("action"), "#1dc7d3");
        assert_eq!(slack_colour("success"), "good");
        let r = slack_request("xoxb-1", Value::Null, Duration::from_secs(3));
        assert_eq!(r.endpoint, "https://slack.com/api/chat.postMessage");
        assert_eq!(r.headers["Authorization"], "Bearer xoxb-1");
        let r = slack_request(
            "http://127.0.0.1:1/hook",
            Value::Null,
            Duration::from_secs(3),
        );
        assert_eq!(r.endpoint, "http://127.0.0.1:1/hook");
        assert!(r.headers.is_empty());
    }
}
