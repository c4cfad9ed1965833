//! The webhook payload template: every string in a mapping or list is
//! formatted with `{what}`, `{action}`, `{who}`, `{message}` (and our
//! `{event}`), and entries whose string comes out empty are dropped, as
//! MaestroNG's webhook auditor does.

use serde_json::Value;

/// The values substituted into templates.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub what: &'a str,
    pub action: &'a str,
    pub who: &'a str,
    pub message: &'a str,
    pub event: &'a str,
}

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "what" => Some(self.what),
            "action" => Some(self.action),
            "who" => Some(self.who),
            "message" => Some(self.message),
            "event" => Some(self.event),
            _ => None,
        }
    }
}

/// Python's `str.format` for our fields: `{name}` is replaced, `{{` and
/// `}}` are literal braces; an unknown `{name}` is kept as written (Python
/// would raise; a typo in a template should not silence the auditor).
pub fn format(template: &str, fields: &Fields<'_>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if let Some(end) = tail.strip_prefix('{').and_then(|t| t.find('}'))
            && let Some(v) = fields.get(&tail[1..=end])
        {
            out.push_str(v);
            rest = &tail[end + 2..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The payload with every string formatted; `None` when it comes out
/// empty (an empty string, which its parent then drops).
pub fn render(value: &Value, fields: &Fields<'_>) -> Option<Value> {
    match value {
        Value::String(s) => {
            let f = format(s, fields);
            (!f.is_empty()).then_some(Value::String(f))
        }
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(|v| render(v, fields)).collect(),
        )),
        Value::Object(map) => Some(Value::Object(
            map.iter()
                .filter_map(|(k, v)| render(v, fields).map(|v| (format(k, fields), v)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const F: Fields<'static> = Fields {
        what: "web-1, web-2",
        action: "start",
        who: "alice",
        message: "alice is starting web-1, web-2.",
        event: "action",
    };

    #[test]
    fn formats_fields_and_escapes() {
        assert_eq!(
            format("{who} did {action} on {what}", &F),
            "alice did start on web-1, web-2"
        );
        assert_eq!(
            format("{{literal}} {message}", &F),
            "{literal} alice is starting web-1, web-2."
        );
        assert_eq!(format("{unknown} {", &F), "{unknown} {");
        assert_eq!(format("{event}:{}", &F), "action:{}");
        assert_eq!(format("ünï {who}", &F), "ünï alice");
    }

    #[test]
    fn renders_nested_payloads_and_drops_empty_strings() {
        let tpl = json!({
            "text": "{message}",
            "empty": "",
            "nested": {"who": "{who}", "n": 3, "ok": true, "none": null},
            "list": ["{action}", "", {"what": "{what}"}],
        });
        assert_eq!(
            render(&tpl, &F).unwrap(),
            json!({
                "text": "alice is starting web-1, web-2.",
                "nested": {"who": "alice", "n": 3, "ok": true, "none": null},
                "list": ["start", {"what": "web-1, web-2"}],
            })
        );
        let empty = Fields { message: "", ..F };
        assert_eq!(render(&json!(["{message}"]), &empty).unwrap(), json!([]));
    }
}
