//! `maestro schema`: a JSON Schema (draft 2020-12) of the environment file,
//! built from the key tables of `keys`, the same tables the loader checks
//! keys against. It describes the file after template rendering.
//!
//! The schema is as lenient as the loader where the loader is lenient
//! (numbers where text is expected, digit strings where numbers are, YAML
//! 1.1 booleans, null for "empty"); checks that need the whole file
//! (unknown ships, dependency cycles, port clashes) are the loader's alone.

use serde_json::{Map, Value, json};

use super::keys::{self, Key, Ty};

pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema of an environment file.
pub fn schema() -> Value {
    let mut root = object(keys::TOP);
    let o = as_map(&mut root);
    // The keys `keys::free_top_key` lets through.
    o.insert("patternProperties".into(), json!({ "^_": {}, "^x-": {} }));
    let mut out = Map::new();
    out.insert("$schema".into(), DIALECT.into());
    out.insert("title".into(), "maestro environment file".into());
    out.insert(
        "description".into(),
        "Ships, services and instances of one maestro (MaestroNG-compatible) environment".into(),
    );
    out.extend(std::mem::take(o));
    let defs: Map<String, Value> = DEFS
        .iter()
        .map(|(name, t)| (name.to_string(), inline(t)))
        .collect();
    out.insert("$defs".into(), Value::Object(defs));
    Value::Object(out)
}

/// Levels used in several places, written once under `$defs` and referred
/// to (a service's and an instance's `lifecycle`, `limits`, ...).
const DEFS: &[(&str, Ty)] = &[
    ("lifecycle", Ty::Obj(keys::LIFECYCLE)),
    ("checks", keys::CHECKS),
    ("limits", Ty::Obj(keys::LIMITS)),
    ("port", keys::PORT_SPEC),
    ("ulimit", keys::ULIMIT),
];

/// Whether two types are the same table entry (levels compared by address).
fn same(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Obj(x), Ty::Obj(y)) => std::ptr::eq(x.as_ptr(), y.as_ptr()),
        (Ty::ListOf(x), Ty::ListOf(y)) | (Ty::MapOf(x), Ty::MapOf(y)) => same(x, y),
        (Ty::Tagged(c1, t1), Ty::Tagged(c2, t2)) => {
            std::ptr::eq(c1.as_ptr(), c2.as_ptr()) && std::ptr::eq(t1.as_ptr(), t2.as_ptr())
        }
        (Ty::AnyOf(x), Ty::AnyOf(y)) => std::ptr::eq(x.as_ptr(), y.as_ptr()),
        _ => false,
    }
}

fn as_map(v: &mut Value) -> &mut Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("schemas built here are objects"),
    }
}

/// `true`, `yes`, `Off`, ...: what `Reader::bool` accepts as text.
const BOOL_WORDS: &str =
    "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|[Oo][Nn]|[Oo][Ff][Ff])$";
const DIGITS: &str = "^\\s*[0-9]+\\s*$";
const DECIMAL: &str = "^\\s*([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$";
const SIZE: &str = "^\\s*([0-9]+\\.?[0-9]*|\\.[0-9]+)[kKmMgG]?\\s*$";
const DURATION: &str = "^\\s*([0-9]+\\.?[0-9]*(h|m|s|ms|us|µs|ns))+\\s*$";

/// The schema of a type: a reference to `$defs` when it is one of `DEFS`.
fn ty(t: &Ty) -> Value {
    match DEFS.iter().find(|(_, d)| same(d, t)) {
        Some((name, _)) => json!({ "$ref": format!("#/$defs/{name}") }),
        None => inline(t),
    }
}

/// The schema of a type, written out.
fn inline(t: &Ty) -> Value {
    match t {
        Ty::Str => json!({ "type": ["string", "number"] }),
        Ty::Bool => json!({ "anyOf": [
            { "type": "boolean" },
            { "type": "string", "pattern": BOOL_WORDS },
        ]}),
        Ty::Uint => json!({ "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": DIGITS },
        ]}),
        Ty::Int => json!({ "type": "integer" }),
        Ty::Port => json!({ "anyOf": [
            { "type": "integer", "minimum": 1, "maximum": 65535 },
            { "type": "string", "pattern": DIGITS },
        ]}),
        Ty::Seconds => json!({ "anyOf": [
            { "type": "number", "minimum": 0 },
            { "type": "string", "pattern": DECIMAL },
        ]}),
        Ty::Size => json!({ "anyOf": [
            { "type": "integer", "minimum": -1 },
            { "type": "string", "pattern": SIZE },
        ]}),
        Ty::Number => json!({ "type": "number" }),
        Ty::Duration => json!({ "anyOf": [
            { "type": "number", "minimum": 0 },
            { "type": "string", "pattern": DURATION },
        ]}),
        Ty::Enum(words) => json!({ "type": "string", "enum": words }),
        Ty::Ints(values) => json!({ "enum": values }),
        Ty::StrList => {
            json!({ "anyOf": [ty(&Ty::Str), { "type": "array", "items": ty(&Ty::Str) }] })
        }
        Ty::UintList => {
            json!({ "anyOf": [ty(&Ty::Uint), { "type": "array", "items": ty(&Ty::Uint) }] })
        }
        Ty::EnvValue => json!({ "type": ["string", "number", "boolean", "null", "array"] }),
        Ty::Scalar => json!({ "type": ["string", "number", "boolean", "null"] }),
        Ty::Null => json!({ "type": "null" }),
        Ty::Any => json!({}),
        Ty::Obj(level) => object(level),
        Ty::MapOf(value) => json!({ "type": "object", "additionalProperties": ty(value) }),
        Ty::ListOf(item) => json!({ "type": "array", "items": ty(item) }),
        Ty::AnyOf(options) => json!({ "anyOf": options.iter().map(ty).collect::<Vec<_>>() }),
        Ty::Tagged(common, types) => {
            let names: Vec<&str> = types.iter().map(|(n, _)| *n).collect();
            let branches: Vec<Value> = types
                .iter()
                .map(|(name, own)| {
                    let mut level: Vec<Key> = common.to_vec();
                    level.extend_from_slice(own);
                    let mut b = object(&level);
                    let m = as_map(&mut b);
                    if let Some(Value::Object(p)) = m.get_mut("properties") {
                        p.insert("type".into(), json!({ "const": name }));
                    }
                    if let Some(Value::Array(r)) = m.get_mut("required") {
                        r.insert(0, "type".into());
                    }
                    b
                })
                .collect();
            json!({
                "type": "object",
                "required": ["type"],
                "properties": { "type": { "enum": names, "description": "The type, which says which other keys apply" } },
                "anyOf": branches,
            })
        }
    }
}

/// A mapping with exactly the keys of `level`.
fn object(level: &[Key]) -> Value {
    let properties: Map<String, Value> = level
        .iter()
        .map(|k| (k.name.to_string(), property(k)))
        .collect();
    let required: Vec<&str> = level
        .iter()
        .filter(|k| k.required)
        .map(|k| k.name)
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn property(k: &Key) -> Value {
    let mut v = ty(&k.ty);
    // An optional key given with no value means "empty", as if absent.
    if !k.required {
        v = nullable(v);
    }
    let m = as_map(&mut v);
    m.insert("description".into(), k.description.into());
    if let Some(d) = k.default {
        // The tables' defaults are checked to be JSON by the tests.
        m.insert(
            "default".into(),
            serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.into())),
        );
    }
    v
}

/// `v`, or null.
fn nullable(mut v: Value) -> Value {
    let m = as_map(&mut v);
    if m.is_empty() {
        return v;
    }
    if m.contains_key("$ref") {
        return json!({ "anyOf": [v, { "type": "null" }] });
    }
    if let Some(Value::Array(e)) = m.get_mut("enum") {
        e.push(Value::Null);
    }
    let has_any_of = m.contains_key("anyOf");
    match m.get_mut("type") {
        // Keywords for objects, arrays, numbers and strings ignore null.
        Some(t) if !has_any_of => {
            let mut types = match t.take() {
                Value::Array(a) => a,
                one => vec![one],
            };
            types.push("null".into());
            *t = Value::Array(types);
            v
        }
        Some(_) => json!({ "anyOf": [v, { "type": "null" }] }),
        None => {
            if let Some(Value::Array(a)) = m.get_mut("anyOf") {
                a.push(json!({ "type": "null" }));
            }
            v
        }
    }
}

#[cfg(test)]
mod tests;
