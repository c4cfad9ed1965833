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

mod events;
mod subset;

/// A YAML node with its position (1-based; 0 when unknown).
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    /// 32 bits each, with `span` and `plain`, keep a node in 56 bytes.
    pub line: u32,
    pub column: u32,
    /// Byte range (start, length) of the defining scalar in the source, for
    /// the text of numbers and the style of strings; `NO_SPAN` when unknown.
    /// 32 bits each: a tree of millions of nodes stays small (inputs are
    /// limited to 4 GiB).
    span: (u32, u32),
    /// A string written as a plain (unquoted, untagged) scalar: one that
    /// PyYAML may have resolved to another type (a timestamp, for example).
    pub plain: bool,
}

const NO_SPAN: (u32, u32) = (u32::MAX, u32::MAX);

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, with the text it was written with (boxed: rarer than
    /// strings and mappings, and three times their size).
    Number(Box<Number>),
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
                .find(|(k, _)| k.text() == Some(key))
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
                    .filter_map(|(k, _)| k.text().map(str::to_string))
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
        self.text().map(str::to_string)
    }

    /// As `scalar_text`, borrowed (lookups by key need no copy).
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            Value::Number(n) => Some(&n.text),
            Value::Bool(true) => Some("true"),
            Value::Bool(false) => Some("false"),
            _ => None,
        }
    }

    /// Error located at this node.
    pub fn error(&self, path: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(path, message).at(self.line.into(), self.column.into())
    }

    fn fill_number_text(&mut self, src: &Styles<'_>) {
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.fill_number_text(src)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.fill_number_text(src);
                v.fill_number_text(src);
            }),
            _ => self.fill_scalar(src),
        }
    }

    /// A number's text as written, and whether a string is plain (from
    /// the source text at its span).
    fn fill_scalar(&mut self, styles: &Styles<'_>) {
        let src = styles.src;
        match &mut self.value {
            Value::Number(n) => {
                let (start, len) = (self.span.0 as usize, self.span.1 as usize);
                if self.span != NO_SPAN
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
                let (start, len) = (self.span.0 as usize, self.span.1 as usize);
                if self.span != NO_SPAN
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
                    let styled = styles.possible && styled_before(src, start);
                    self.plain = !styled
                        && !text.is_empty()
                        && !text.starts_with(['"', '\'', '|', '>', '!', '&', '*']);
                }
            }
            _ => {}
        }
    }
}

/// The source text, and whether any token in it may be a tag or a block
/// indicator: a file without `!`, `|` and `>` has none, and its strings
/// need no look back (`styled_before`).
struct Styles<'a> {
    src: &'a str,
    possible: bool,
}

impl<'a> Styles<'a> {
    fn of(src: &'a str) -> Self {
        Styles {
            src,
            possible: memchr::memchr3(b'!', b'|', b'>', src.as_bytes()).is_some(),
        }
    }
}

/// Whether one of the two tokens before byte `start` (tokens separated by
/// white space, `[`, `{` or `,`) is a tag or a block indicator (starts
/// with `!`, `|` or `>`). Scans back only over those two tokens, one
/// character at a time: called for every string of the file.
fn styled_before(src: &str, start: usize) -> bool {
    let Some(before) = src.get(..start) else {
        return false;
    };
    // ASCII text byte by byte; other text (where white space may be
    // multi-byte) character by character.
    let bytes = before.as_bytes();
    let mut i = bytes.len();
    for _ in 0..2 {
        let separator = |b: u8| {
            matches!(
                b,
                b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b'[' | b'{' | b','
            )
        };
        while i > 0 && separator(bytes[i - 1]) {
            i -= 1;
        }
        let end = i;
        while i > 0 && !separator(bytes[i - 1]) {
            if !bytes[i - 1].is_ascii() {
                return styled_before_chars(before);
            }
            i -= 1;
        }
        if i == end {
            return false;
        }
        if matches!(bytes[i], b'!' | b'|' | b'>') {
            return true;
        }
    }
    false
}

/// `styled_before` over characters.
fn styled_before_chars(before: &str) -> bool {
    let separator = |c: char| c.is_whitespace() || matches!(c, '[' | '{' | ',');
    let mut chars = before.chars().rev().peekable();
    for _ in 0..2 {
        // Skip separators, then read one token back to its first character.
        while chars.next_if(|&c| separator(c)).is_some() {}
        let mut first = None;
        while let Some(c) = chars.next_if(|&c| !separator(c)) {
            first = Some(c);
        }
        match first {
            Some('!' | '|' | '>') => return true,
            Some(_) => {}
            None => return false,
        }
    }
    false
}

/// How far aliases and merges may expand a document: the items (values,
/// and ends of lists and mappings) they repeat may number at most
/// `EXPANSION_FLOOR` plus `EXPANSION_PER_BYTE` per byte of input, and never
/// more than `EXPANSION_CAP`. What is written out is not limited: it is
/// bounded by the input, already in memory. Every repeated item costs parse
/// time and memory in the tree (about 100 bytes); the floor keeps the
/// refusal of a tiny "billion laughs" file well under a second, the share
/// per byte leaves room for one anchor shared by every instance of a large
/// file (a use such as `app-7: {<<: *defaults, ship: s1}` takes about 35
/// bytes, so `*defaults` may hold some 250 items), and the cap keeps the
/// expansion of a large hostile file near a gigabyte.
const EXPANSION_FLOOR: usize = 250_000;
const EXPANSION_PER_BYTE: usize = 8;
const EXPANSION_CAP: usize = 10_000_000;
/// Scalar text, written and repeated: 64 MiB, or twice the input when larger.
const SCALAR_BYTES_FLOOR: usize = 64 * 1024 * 1024;
/// Nesting of mappings and sequences (protects the stack; no environment
/// file needs a tenth of it).
const MAX_DEPTH: usize = 64;

/// The expansion limit for an input of `len` bytes (see `EXPANSION_FLOOR`).
fn max_expansion(len: usize) -> usize {
    EXPANSION_FLOOR
        .saturating_add(len.saturating_mul(EXPANSION_PER_BYTE))
        .min(EXPANSION_CAP)
}

fn max_scalar_bytes(len: usize) -> usize {
    SCALAR_BYTES_FLOOR.max(len.saturating_mul(2))
}

/// Parses rendered YAML text into a node tree. Syntax errors and duplicate
/// keys are returned as one error with the parser's line and column.
///
/// The size of the input is not limited (it is already in memory); what
/// could make a small input expensive is alias expansion (a "billion
/// laughs" file) and deep nesting, which are bounded (see `EXPANSION_FLOOR`).
pub fn parse(src: &str) -> Result<Node, ConfigError> {
    // The common subset, line by line, here: it recurses little (nesting
    // is given up past `events::GIVE_UP_DEPTH` levels).
    if let Some(root) = subset::build(src) {
        return Ok(root);
    }
    // The parser recurses once per level of nesting, with large frames in
    // unoptimised builds (about 60 KiB a level): its own thread with a
    // roomy stack takes the deepest allowed file on any thread (test
    // threads have 2 MiB). Only the pages touched are ever committed.
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("yaml".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || {
                crate::heap::prepare_thread();
                parse_here(src)
            }) {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(ConfigError::new("", "the YAML parser failed"))),
            Err(_) => parse_here(src),
        }
    })
}

const PARSER_STACK: usize = 32 * 1024 * 1024;

fn parse_here(src: &str) -> Result<Node, ConfigError> {
    // Straight from the general parser's events; serde-saphyr for what is
    // left, and for every error (see `events`).
    if let Some(root) = events::build(src) {
        return Ok(root);
    }
    let mut root = parse_serde(src)?;
    root.fill_number_text(&Styles::of(src));
    Ok(root)
}

/// The tree through serde-saphyr, numbers' text not yet filled in.
fn parse_serde(src: &str) -> Result<Node, ConfigError> {
    let expansion = max_expansion(src.len());
    let options = serde_saphyr::options! {
        strict_booleans: true,
        // `.inf`, `-.inf` and `.nan` are numbers, as in PyYAML: environment
        // values print them as Python does; keys that need a finite number
        // reject them.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
        // Counts that grow with the input (nodes, events, aliases, anchors,
        // merge keys) are not limited: the repeated items and the scalar
        // bytes bound what they can cost. Environment files often use one
        // anchor (`*jvm`, `*defaults`) for thousands of instances, which the
        // alias/anchor ratio heuristic would reject.
        budget: serde_saphyr::budget! {
            enforce_alias_anchor_ratio: false,
            max_aliases: usize::MAX,
            max_anchors: usize::MAX,
            max_merge_keys: usize::MAX,
            max_events: usize::MAX,
            max_nodes: usize::MAX,
            max_total_scalar_bytes: max_scalar_bytes(src.len()),
            max_depth: MAX_DEPTH,
            // What anchors record: their own written items (bounded by the
            // input) and what aliases repeat inside them.
            max_recorded_anchor_events: src.len().saturating_mul(2).saturating_add(expansion),
            max_recorded_anchor_bytes: max_scalar_bytes(src.len()),
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: expansion,
        },
    };
    match serde_saphyr::from_str_with_options::<Option<Node>>(src, options) {
        Ok(Some(node)) => Ok(node),
        Ok(None) => Err(ConfigError::new("", "the file is empty")),
        Err(e) => Err(yaml_error(&e, src.len())),
    }
}

/// serde-saphyr's message without its rendered snippet (which would echo
/// file content, possibly secrets), located where the parser says. A limit
/// is named in a sentence, not in the parser's debug form.
fn yaml_error(e: &serde_saphyr::Error, input_len: usize) -> ConfigError {
    if let Some(msg) = limit_message(e, input_len) {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        return ConfigError::new("", msg).at(line, column);
    }
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 20 column 7: duplicate mapping key: zk-1, set DuplicateKeyPolicy ..."
    let (line, column, msg) = split_location(first);
    let msg = msg.split(", set DuplicateKeyPolicy").next().unwrap_or(msg);
    // The parser's own recursion limit (flow collections nested deeper
    // than it parses) is the nesting limit, reached earlier.
    if msg == "recursion limit exceeded" {
        return ConfigError::new("", depth_message()).at(line, column);
    }
    if msg == "simple key expected ':'" {
        let msg = "invalid YAML: expected `:` after a key (a key must be followed by `:` \
                   on the same line, and an unquoted key may be at most 1024 characters long)";
        return ConfigError::new("", msg).at(line, column);
    }
    if msg == "mapping values are not allowed in this context" {
        let msg = "invalid YAML: mapping values are not allowed in this context (a value \
                   holding `: ` needs quotes; a key may be at most 1024 characters long)";
        return ConfigError::new("", msg).at(line, column);
    }
    // The parser's advice names its own API; say what the file should do.
    let msg = match msg.split_once("; use from_str_multiple") {
        Some((head, _)) => format!(
            "{head}: an environment file is one document; remove the `---` line \
             (or split the file in two)"
        ),
        None => msg.to_string(),
    };
    ConfigError::new("", format!("invalid YAML: {msg}")).at(line, column)
}

/// A sentence for a breached parsing limit, or None for other errors.
fn limit_message(e: &serde_saphyr::Error, input_len: usize) -> Option<String> {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let mut e = e;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = e {
        e = error;
    }
    let expansion = || {
        format!(
            "aliases and merges repeat more than {} YAML items (the limit is \
             {} plus {} per byte of the file, at most {}; the file has {} bytes); \
             a file that repeats its anchors that often is refused as an alias bomb: \
             write the repeated parts out, or share smaller anchors",
            thousands(max_expansion(input_len)),
            thousands(EXPANSION_FLOOR),
            EXPANSION_PER_BYTE,
            thousands(EXPANSION_CAP),
            thousands(input_len),
        )
    };
    Some(match e {
        E::AliasReplayLimitExceeded { .. } => expansion(),
        E::AliasReplayStackDepthExceeded { max_depth, .. } => format!(
            "aliases nest more than {max_depth} deep (an alias inside an anchor inside \
             an anchor...); this is a fixed limit against alias bombs"
        ),
        E::Budget { breach, .. } => match breach {
            // Not limited (see `parse`), worded all the same.
            B::Nodes { .. } | B::Events { .. } => {
                "the YAML has more items than the parser can count".to_string()
            }
            B::Depth { .. } => depth_message(),
            B::ScalarBytes { .. } => format!(
                "the YAML's text expands to more than {} bytes through aliases \
                 (the limit is 64 MiB, or twice the file's size when larger); \
                 a file that repeats a long anchored text that often is refused \
                 as an alias bomb",
                thousands(max_scalar_bytes(input_len))
            ),
            B::Documents { .. } => "the file holds too many YAML documents (`---` separators); \
                 an environment file is one document"
                .to_string(),
            B::SequenceUnbalanced => "the YAML ends in the middle of a list or mapping".into(),
            // Anchors record what aliases repeat inside them: the same
            // expansion, reached while an anchor is being defined.
            B::RecordedAnchorEvents { .. } => expansion(),
            B::RecordedAnchorBytes { .. } => format!(
                "the YAML's anchors hold more than {} bytes of text \
                 (64 MiB, or twice the file's size when larger) through aliases \
                 inside them; a file that repeats its anchors that often is \
                 refused as an alias bomb",
                thousands(max_scalar_bytes(input_len))
            ),
            // Not reachable with the limits above (set to no limit, or
            // features not used); worded in general terms all the same.
            _ => "the YAML breaches one of the parser's resource limits".to_string(),
        },
        _ => return None,
    })
}

fn depth_message() -> String {
    format!(
        "the YAML nests mappings and lists more than {MAX_DEPTH} levels deep; \
         this is a fixed limit (no environment file needs that many)"
    )
}

/// 1234567 -> "1,234,567".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
            (Some(o), Some(l)) => u32::try_from(o)
                .ok()
                .zip(u32::try_from(l).ok())
                .unwrap_or(NO_SPAN),
            _ => NO_SPAN,
        };
        Ok(Node {
            value: s.value,
            line: u32::try_from(s.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(s.referenced.column()).unwrap_or(u32::MAX),
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
        Ok(Value::Number(Box::new(Number {
            text: v.to_string(),
            int: Some(v),
            float: v as f64,
        })))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(Box::new(Number {
            text: v.to_string(),
            int: i64::try_from(v).ok(),
            float: v as f64,
        })))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(Box::new(Number {
            text: v.to_string(),
            int: None,
            float: v,
        })))
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

    /// 3,000 instances sharing one anchor of 40 variables: about 250,000
    /// nodes once expanded, more than serde-saphyr's default node budget.
    #[test]
    fn thousands_of_instances_may_share_one_anchor() {
        let mut src = String::from("name: x\nships:\n  s1: {ip: 10.0.0.1}\n_env: &env\n");
        for k in 0..40 {
            src.push_str(&format!("  VARIABLE_{k}: value-{k}\n"));
        }
        src.push_str("services:\n  app:\n    image: app:1\n    instances:\n");
        for i in 0..3000 {
            src.push_str(&format!("      app-{i}: {{ship: s1, env: *env}}\n"));
        }
        assert!(src.len() < 200_000, "{}", src.len());
        let env = crate::config::load_str(&src, std::path::Path::new(".")).unwrap();
        assert_eq!(env.instances.len(), 3000);
        let i = &env.instances["app-2999"];
        assert_eq!(env.container_env(i)["VARIABLE_39"], "value-39");
    }

    /// The nine-level "billion laughs": 10^9 strings from a 300-byte file.
    #[test]
    fn an_alias_bomb_is_refused_quickly_with_a_sentence() {
        let mut src = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for l in 1..10 {
            let p = format!("*a{}", l - 1);
            let items = [p.as_str(); 10].join(", ");
            src.push_str(&format!("a{l}: &a{l} [{items}]\n"));
        }
        let start = std::time::Instant::now();
        let e = parse(&src).unwrap_err();
        // Generous for a debug build on a busy machine (a release build
        // refuses it in a fraction of a second).
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
        assert!(
            e.message
                .starts_with("aliases and merges repeat more than 25")
                && e.message
                    .contains("the limit is 250,000 plus 8 per byte of the file")
                && e.message.contains("alias bomb"),
            "{}",
            e.message
        );
        assert!(
            !e.message.contains('{') && !e.message.contains("budget"),
            "{}",
            e.message
        );
        assert!(e.line > 0, "located at the alias: {e:?}");
    }

    /// Large inputs are parsed on a thread of their own while the tree is
    /// built: the same tree as on one thread and as serde-saphyr's, and
    /// the same answers when the builder gives up or the parser fails at
    /// the end of the file.
    #[test]
    fn a_large_file_is_built_alike_on_two_threads() {
        let big = wide(300);
        assert!(big.len() > events::PIPELINE_BYTES, "{}", big.len());
        let piped = events::build(&big).unwrap();
        let serial = events::build_serially(&big).unwrap();
        let mut out = Vec::new();
        diff(&piped, &serial, "", &mut out);
        assert!(out.is_empty(), "{}", out.join("\n"));
        assert!(same_as_serde(&big));
        // A merge at the end: the builder gives up, serde-saphyr builds it.
        let merged = format!("{big}_m: &m {{x: 1}}\nlast:\n  <<: *m\n");
        assert!(events::build(&merged).is_none());
        let tree = parse(&merged).unwrap();
        assert_eq!(get(get(&tree, "last"), "x").text(), Some("1"));
        // A syntax error on the last line, with its line.
        let broken = format!("{big}tail: [unclosed\n");
        assert!(events::build(&broken).is_none());
        let e = parse(&broken).unwrap_err();
        assert!(e.line > big.lines().count() as u64, "{e:?}");
    }

    #[test]
    fn deep_nesting_is_refused_with_a_sentence() {
        let src = format!("a: {}1{}\n", "[".repeat(80), "]".repeat(80));
        let e = parse(&src).unwrap_err();
        assert!(
            e.message.contains("more than 64 levels deep") && !e.message.contains('{'),
            "{}",
            e.message
        );
        let mut block = String::new();
        for d in 0..70 {
            block.push_str(&format!("{}k{d}:\n", "  ".repeat(d)));
        }
        block.push_str(&format!("{}v: 1\n", "  ".repeat(70)));
        let e = parse(&block).unwrap_err();
        assert!(
            e.message.contains("more than 64 levels deep"),
            "{}",
            e.message
        );
        assert!(e.line > 60, "{e:?}");
    }

    /// The tree of a 50 MB file has millions of nodes: keep them small.
    #[test]
    fn nodes_are_small() {
        assert!(
            std::mem::size_of::<Node>() <= 56,
            "{}",
            std::mem::size_of::<Node>()
        );
    }

    #[test]
    fn limits_grow_with_the_input() {
        assert_eq!(max_expansion(0), 250_000);
        assert_eq!(max_expansion(186_000), 1_738_000);
        assert_eq!(max_expansion(50_000_000), 10_000_000);
        assert_eq!(max_scalar_bytes(1000), 64 * 1024 * 1024);
        assert_eq!(max_scalar_bytes(50_000_000), 100_000_000);
        assert_eq!(thousands(52_000_000), "52,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    /// The scan back from a string agrees with splitting the whole text
    /// before it (the former way), on tags, anchors, block indicators and
    /// flow separators.
    #[test]
    fn styled_before_looks_at_two_tokens_back() {
        let reference = |src: &str, start: usize| {
            src[..start]
                .rsplit(|c: char| c.is_whitespace() || "[{,".contains(c))
                .filter(|t| !t.is_empty())
                .take(2)
                .any(|t| t.starts_with(['!', '|', '>']))
        };
        let cases = [
            ("a: x", 3, false),
            ("a: !!str x", 9, true),
            ("a: &y !!str x", 12, true),
            ("a: !!str &y x", 12, true),
            ("a: &y x", 6, false),
            ("a: |\n  x", 7, true),
            ("a: >-\n  x", 8, true),
            ("[!!str x]", 7, true),
            ("{k: !t,x}", 7, true),
            ("!a b c x", 7, false),
            ("  x", 2, false),
            ("x", 0, false),
            ("\u{a0}!t\u{a0}x", 6, true),
            ("é: x", 4, false),
        ];
        for (src, start, want) in cases {
            assert_eq!(reference(src, start), want, "{src:?}");
            assert_eq!(styled_before(src, start), want, "{src:?}");
        }
        // Every position of a file with all of them.
        let src = "a: !!str x\nb: [&y !t z, |, >]\nc: |\n  t\n{d: !x e}\n\u{2003}f: !!g h";
        for (start, _) in src.char_indices() {
            assert_eq!(styled_before(src, start), reference(src, start), "{start}");
        }
        let ascii = "a: !!str x\nb: [&y !t z, |, >]\nc: |\n  t\n{d: !x e}\n\tf: !!g h\x0bi";
        for start in 0..=ascii.len() {
            assert_eq!(
                styled_before(ascii, start),
                reference(ascii, start),
                "{start}"
            );
        }
    }

    /// Differences between two trees: value, line, column, span, style.
    pub(super) fn diff(a: &Node, b: &Node, at: &str, out: &mut Vec<String>) {
        let head = |n: &Node| (n.line, n.column, n.span, n.plain, n.kind());
        if head(a) != head(b) {
            out.push(format!("{at}: {:?} vs {:?}", head(a), head(b)));
        }
        match (&a.value, &b.value) {
            (Value::Seq(x), Value::Seq(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    diff(p, q, &format!("{at}[{i}]"), out);
                }
            }
            (Value::Map(x), Value::Map(y)) if x.len() == y.len() => {
                for ((kp, vp), (kq, vq)) in x.iter().zip(y) {
                    let k = kp.text().unwrap_or("?");
                    diff(kp, kq, &format!("{at}.<key {k}>"), out);
                    diff(vp, vq, &format!("{at}.{k}"), out);
                }
            }
            (Value::Seq(_) | Value::Map(_), _) => out.push(format!("{at}: lengths differ")),
            (Value::Number(x), Value::Number(y)) => {
                if (&x.text, x.int, x.float.to_bits()) != (&y.text, y.int, y.float.to_bits()) {
                    out.push(format!("{at}: {x:?} vs {y:?}"));
                }
            }
            (x, y) => {
                if a.text() != b.text() || a.is_null() != b.is_null() {
                    out.push(format!("{at}: {x:?} vs {y:?}"));
                }
            }
        }
    }

    /// The tree built from events, when it is built, equals serde-saphyr's
    /// in every node, and so does the subset reader's when it reads the
    /// file; returns whether the tree was built from events.
    fn same_as_serde(src: &str) -> bool {
        let Some(fast) = events::build(src) else {
            assert!(
                subset::build(src).is_none(),
                "read by the subset reader only:\n{src}"
            );
            return false;
        };
        let mut slow = parse_serde(src).unwrap_or_else(|e| panic!("{e:?} for\n{src}"));
        slow.fill_number_text(&Styles::of(src));
        let mut out = Vec::new();
        diff(&fast, &slow, "", &mut out);
        if let Some(lines) = subset::build(src) {
            diff(&lines, &slow, "", &mut out);
        }
        assert!(out.is_empty(), "{}\nfor\n{src}", out.join("\n"));
        true
    }

    /// The shape of `scripts/bench/config --generate wide`, small.
    fn wide(n: usize) -> String {
        let mut s = String::from(
            "name: bench\n_jvm: &jvm [-Xmx512m, [-XX:+UseG1GC, -Dfoo=bar]]\n\
             ship_defaults: {timeout: 10, max_concurrency: 4}\nships:\n",
        );
        for i in 1..=5 {
            s.push_str(&format!(
                "  ship{i}: {{ip: 10.213.1.{i}, docker_port: 2375}}\n"
            ));
        }
        s.push_str("services:\n");
        for v in 1..=n.div_ceil(10) {
            s.push_str(&format!(
                "  svc-{v}:\n    image: registry.example:5000/team/svc-{v}:1.{v}\n\
                 \x20   env: {{JAVA_OPTS: *jvm, LEVEL: info, WORKERS: 4}}\n\
                 \x20   ports: {{admin: 9{}00}}\n\
                 \x20   lifecycle: {{running: [{{type: tcp, port: client}}]}}\n    instances:\n",
                v % 10
            ));
            for i in 1..=10 {
                let k = (v - 1) * 10 + i;
                s.push_str(&format!(
                    "      svc-{v}-{i}:\n        ship: ship{}\n\
                     \x20       ports: {{client: \"8080:{}\", admin: \"9000:{}\"}}\n\
                     \x20       env:\n          ID: {k}\n",
                    k % 5 + 1,
                    1024 + k,
                    30000 + k
                ));
                for j in 1..40 {
                    s.push_str(&format!("          VARIABLE_{j}: value-{j}-{k}\n"));
                }
            }
        }
        s
    }

    /// `a0: &a0 [x]`, `a1: &a1 [*a0]`, ...: aliases nested `n` deep.
    fn nested_aliases(n: usize) -> String {
        let mut s = String::from("a0: &a0 [x]\n");
        for i in 1..n {
            s.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
        }
        s
    }

    #[test]
    fn the_tree_from_events_is_serde_saphyrs() {
        assert!(same_as_serde(&nested_aliases(20)));
        assert!(same_as_serde(&wide(30)));
        let built = [
            "a:\n  b: 1.20\n  c: [x, 10]\n  d: yes\n  e: true\n",
            "_d: &d {x: 1, y: [2, 3.5]}\nm: *d\nl:\n  - *d\n  - &s text\n  - *s\n",
            "a: &x 2001-12-14 21:59:43.10\nb: *x\nc: \"q\"\nd: 'q'\ne: |\n  l1\n  l2\nf: >-\n  x\n",
            "- -1\n- 0\n- 18446744073709551615\n- 9223372036854775808\n- ~\n- null\n- \n- FALSE\n",
            "k: [a, {b: c}, [d]]\n? complex\n: value\nempty:\nlast: 10.0.0.1\n",
            "x:   spaced   \ny: \"multi\n  line\"\nz: plain\n  continued\nu: é ü\n",
            "a: &m\n  k: v\nb:\n  - &n [1, 2]\n  - *n\n  - *m\n",
            "ports: {client: \"8080:1025\", admin: 9100}\nenv: {J: [-Xmx512m, -Dx=y]}\n",
            "[1, 2, three]\n",
            "a: 1\r\nb:\r\n  - x\r\n  - 'y'\r\n",
            "\u{feff}a: b\n",
            "a:\tb\nc: {d, e: f}\n# comment\ng: h # trailing\n",
            "a: |\nb: value\nc: \"x !y\"\nd: value\n",
            "just text\n",
        ];
        for src in built {
            assert!(same_as_serde(src), "not built from events:\n{src}");
        }
        // Left to serde-saphyr (it refuses or resolves them).
        let deep = nested_aliases(40);
        // More keys than the pairwise comparison takes: a set of them.
        let many: String = (0..20).map(|i| format!("k{i}: v\n")).collect();
        assert!(same_as_serde(&many));
        let repeated = format!("{many}k7: again\n");
        let left = [
            repeated.as_str(),
            "",
            "a:\n  b: 1.20\n  c: [x, 010]\n",
            "# only a comment\n",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\na: 2\n",
            "a: !!str 1\n",
            "_d: &d {x: 1}\nm:\n  <<: *d\n  y: 2\n",
            "a: 0x1F\nb: 1e3\nc: .inf\n",
            "a: [unclosed\n",
            "&a x: 1\n*a : 2\n",
            "a: &a [*a]\n",
            deep.as_str(),
            "1: one\n",
            "true: yes\n",
        ];
        for src in left {
            assert!(!same_as_serde(src), "built from events:\n{src}");
        }
        // Every file of the repository's corpora: equal whenever built.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = 0;
        for dir in [
            "tests/bad-input",
            "examples",
            "controller/tests/fixtures/schema",
        ] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "yaml") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    files += usize::from(same_as_serde(&text));
                }
            }
        }
        assert!(files > 50, "{files}");
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
