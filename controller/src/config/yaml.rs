//! YAML text -> a tree of nodes that keep their line and column.
//!
//! serde-saphyr does the YAML work (anchors, aliases, `<<` merges, duplicate
//! keys as errors); each node is read through `Spanned` so that validation
//! can point at the line of any value, not only of syntax errors. Booleans
//! follow YAML 1.2 (`true`/`false` only); keys that expect a boolean also
//! accept the YAML 1.1 words (`yes`, `no`, `on`, `off`) for compatibility.
//! Numbers keep the text they were written with (`1.20` stays `1.20`).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::error::ConfigError;

/// A YAML node with its position (1-based; 0 when unknown).
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub line: u64,
    pub column: u64,
    /// Byte range of the defining scalar in the source (for number text).
    span: Option<(usize, usize)>,
    /// A string written as a plain (unquoted, untagged) scalar: one that
    /// PyYAML may have resolved to another type (a timestamp, for example).
    pub plain: bool,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, with the text it was written with.
    Number(Number),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    /// Some when the number is an integer.
    pub int: Option<i64>,
    pub float: f64,
}

impl Node {
    /// The YAML kind, for "expected X, got Y" messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The value under `key` when this is a mapping.
    pub fn child(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.scalar_text().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The keys of a mapping, as text.
    pub fn keys(&self) -> Option<std::collections::BTreeSet<String>> {
        match &self.value {
            Value::Map(entries) => Some(
                entries
                    .iter()
                    .filter_map(|(k, _)| k.scalar_text())
                    .collect(),
            ),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A string, or the text of a number or boolean: what a scalar reads as
    /// where a string is expected (keys, names, paths).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Number(n) => Some(n.text.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Error located at this node.
    pub fn error(&self, path: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(path, message).at(self.line, self.column)
    }

    fn fill_number_text(&mut self, src: &str) {
        match &mut self.value {
            Value::Number(n) => {
                if let Some((start, len)) = self.span
                    && let Some(text) = src.get(start..start + len)
                {
                    let text = text.trim();
                    // Only plain scalars: a quoted number is a string anyway.
                    if !text.is_empty() && !text.starts_with(['"', '\'']) {
                        n.text = text.to_string();
                    }
                }
            }
            Value::Str(_) => {
                if let Some((start, len)) = self.span
                    && let Some(text) = src.get(start..start + len)
                {
                    // An anchor (`&a`) may precede the scalar; quotes, block
                    // scalars and tags make it a string for PyYAML too.
                    let mut text = text.trim_start();
                    if let Some(rest) = text.strip_prefix('&') {
                        text = rest
                            .split_once(char::is_whitespace)
                            .map_or("", |(_, r)| r.trim_start());
                    }
                    // The span starts after a tag (`!!str x`) or a block
                    // indicator (`|`, `>-`): look at the tokens before it (a
                    // tag or indicator and an anchor, in any order).
                    let styled = src[..start]
                        .rsplit(|c: char| c.is_whitespace() || "[{,".contains(c))
                        .filter(|t| !t.is_empty())
                        .take(2)
                        .any(|t| t.starts_with(['!', '|', '>']));
                    self.plain = !styled
                        && !text.is_empty()
                        && !text.starts_with(['"', '\'', '|', '>', '!', '&', '*']);
                }
            }
            Value::Seq(items) => items.iter_mut().for_each(|n| n.fill_number_text(src)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.fill_number_text(src);
                v.fill_number_text(src);
            }),
            _ => {}
        }
    }
}

/// Parses rendered YAML text into a node tree. Syntax errors and duplicate
/// keys are returned as one error with the parser's line and column.
pub fn parse(src: &str) -> Result<Node, ConfigError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        // `.inf`, `-.inf` and `.nan` are numbers, as in PyYAML: environment
        // values print them as Python does; keys that need a finite number
        // reject them.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
        // Environment files often use one anchor (`*jvm`, `*defaults`) for
        // hundreds of instances: the alias/anchor ratio heuristic would
        // reject them. The other limits (alias replay, depth, size) stay.
        budget: serde_saphyr::budget! {
            enforce_alias_anchor_ratio: false,
        },
    };
    let mut root: Node = match serde_saphyr::from_str_with_options::<Option<Node>>(src, options) {
        Ok(Some(node)) => node,
        Ok(None) => return Err(ConfigError::new("", "the file is empty")),
        Err(e) => return Err(yaml_error(&e)),
    };
    root.fill_number_text(src);
    Ok(root)
}

/// serde-saphyr's message without its rendered snippet (which would echo
/// file content, possibly secrets), located where the parser says.
fn yaml_error(e: &serde_saphyr::Error) -> ConfigError {
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 20 column 7: duplicate mapping key: zk-1, set DuplicateKeyPolicy ..."
    let (line, column, msg) = split_location(first);
    let msg = msg
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(msg)
        .to_string();
    ConfigError::new("", format!("invalid YAML: {msg}")).at(line, column)
}

fn split_location(s: &str) -> (u64, u64, &str) {
    let parse = || -> Option<(u64, u64, &str)> {
        let rest = s.strip_prefix("line ")?;
        let (line, rest) = rest.split_once(' ')?;
        let rest = rest.strip_prefix("column ")?;
        let (col, rest) = rest.split_once(':')?;
        Some((line.parse().ok()?, col.parse().ok()?, rest.trim()))
    };
    parse().unwrap_or((0, 0, s))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: Spanned<Value> = Spanned::deserialize(d)?;
        let span = s.defined.span();
        let span = match (span.byte_offset(), span.byte_len()) {
            (Some(o), Some(l)) => usize::try_from(o).ok().zip(usize::try_from(l).ok()),
            _ => None,
        };
        Ok(Node {
            value: s.value,
            line: s.referenced.line(),
            column: s.referenced.column(),
            span,
            plain: false,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(Number {
            text: v.to_string(),
            int: Some(v),
            float: v as f64,
        }))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(Number {
            text: v.to_string(),
            int: i64::try_from(v).ok(),
            float: v as f64,
        }))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(Number {
            text: v.to_string(),
            int: None,
            float: v,
        }))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Node>()? {
            let v = map.next_value::<Node>()?;
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}

/// The tree as JSON (for `dump -c`): mapping keys become strings.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => match n.int {
            Some(i) => J::from(i),
            None => serde_json::Number::from_f64(n.float)
                .map(J::Number)
                .unwrap_or_else(|| J::String(n.text.clone())),
        },
        Value::Str(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default(), to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(n: &'a Node, key: &str) -> &'a Node {
        match &n.value {
            Value::Map(e) => {
                &e.iter()
                    .find(|(k, _)| k.scalar_text().as_deref() == Some(key))
                    .unwrap()
                    .1
            }
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn nodes_keep_lines_columns_and_number_text() {
        let src = "a:\n  b: 1.20\n  c: [x, 010]\n  d: yes\n  e: true\n";
        let root = parse(src).unwrap();
        let a = get(&root, "a");
        let b = get(a, "b");
        assert_eq!((b.line, b.column), (2, 6));
        match &b.value {
            Value::Number(n) => assert_eq!(n.text, "1.20"),
            v => panic!("{v:?}"),
        }
        let c = get(a, "c");
        match &c.value {
            Value::Seq(items) => {
                assert_eq!(items[1].line, 3);
                assert_eq!(items[1].scalar_text().unwrap(), "010");
            }
            v => panic!("{v:?}"),
        }
        // YAML 1.2: `yes` is a string, `true` a boolean.
        assert!(matches!(get(a, "d").value, Value::Str(_)));
        assert!(matches!(get(a, "e").value, Value::Bool(true)));
    }

    #[test]
    fn keys_have_locations_and_merges_apply() {
        let src = "_d: &d {x: 1, y: 2}\nm:\n  <<: *d\n  y: 3\n";
        let root = parse(src).unwrap();
        let m = get(&root, "m");
        assert_eq!(get(m, "x").scalar_text().unwrap(), "1");
        assert_eq!(get(m, "y").scalar_text().unwrap(), "3");
        match &m.value {
            Value::Map(e) => assert!(e.iter().all(|(k, _)| k.line >= 3)),
            _ => panic!(),
        }
    }

    #[test]
    fn plain_strings_are_marked() {
        let src = "a: 2001-12-14\nb: \"2001-12-14\"\nc: &x 2001-12-14 21:59:43.10\nd: *x\ne: !!str 2001-12-14\nf: ['2001-12-14', 2001-12-14t21:59:43.10-05:00]\ng: |\n  2001-12-14\nh: >-\n  x\ni: [!!str 2001-12-14, &y !!str 2001-12-14, !!str &z 2001-12-14, z]\n";
        let root = parse(src).unwrap();
        let plain = |n: &Node| (n.plain, n.scalar_text().unwrap());
        assert_eq!(plain(get(&root, "a")), (true, "2001-12-14".into()));
        assert_eq!(plain(get(&root, "b")), (false, "2001-12-14".into()));
        assert_eq!(
            plain(get(&root, "c")),
            (true, "2001-12-14 21:59:43.10".into())
        );
        assert_eq!(
            plain(get(&root, "d")),
            (true, "2001-12-14 21:59:43.10".into())
        );
        assert_eq!(plain(get(&root, "e")), (false, "2001-12-14".into()));
        let Value::Seq(f) = &get(&root, "f").value else {
            panic!()
        };
        assert!(!f[0].plain && f[1].plain);
        assert!(!get(&root, "g").plain && !get(&root, "h").plain);
        let Value::Seq(i) = &get(&root, "i").value else {
            panic!()
        };
        assert_eq!(
            i.iter().map(|n| n.plain).collect::<Vec<_>>(),
            [false, false, false, true]
        );
    }

    #[test]
    fn one_anchor_may_be_used_many_times() {
        let mut src = String::from("_a: &a {x: 1}\nl:\n");
        for _ in 0..500 {
            src.push_str("  - *a\n");
        }
        assert!(parse(&src).is_ok());
    }

    #[test]
    fn duplicate_keys_are_errors_with_line() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("duplicate mapping key: a"),
            "{}",
            e.message
        );
    }
}
