//! Building request URLs: query strings, filters and path segments.

use std::collections::BTreeMap;

/// Label/name/status filters: `{"label": ["a=b"], "name": ["x"]}`.
pub type Filters = BTreeMap<String, Vec<String>>;

/// Builds [`Filters`] from pairs.
pub fn filters<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Filters {
    let mut f = Filters::new();
    for (k, v) in pairs {
        f.entry(k.to_string()).or_default().push(v.to_string());
    }
    f
}

/// A query string under construction (`?a=1&b=x`).
pub(crate) struct Query(pub(crate) String);

impl Query {
    pub(crate) fn new() -> Query {
        Query(String::new())
    }

    pub(crate) fn push(&mut self, key: &str, value: &str) {
        self.0.push(if self.0.is_empty() { '?' } else { '&' });
        self.0.push_str(&encode(key));
        self.0.push('=');
        self.0.push_str(&encode(value));
    }

    pub(crate) fn flag(&mut self, key: &str, on: bool) {
        self.push(key, if on { "1" } else { "0" });
    }

    pub(crate) fn filters(&mut self, f: &Filters) {
        if !f.is_empty() {
            let json = serde_json::to_string(f).unwrap_or_default();
            self.push("filters", &json);
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A path segment that may contain `/` and `:` (image references), but
/// nothing that would change the URL's structure.
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/' | b':' | b'@')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_filters_are_encoded() {
        let mut q = Query::new();
        q.flag("all", true);
        q.filters(&filters([("label", "maestro.env=a b"), ("label", "x")]));
        assert_eq!(
            q.0,
            "?all=1&filters=%7B%22label%22%3A%5B%22maestro.env%3Da%20b%22%2C%22x%22%5D%7D"
        );
        assert_eq!(seg("reg:5000/a/b:1"), "reg:5000/a/b:1");
        assert_eq!(seg("a?b#c d"), "a%3Fb%23c%20d");
    }
}
