//! The schema against the loader: the files of the repository that are
//! valid environments pass both; a file using every key of the tables
//! passes both; that file with an unknown key added to any of its mappings
//! fails both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::schema;
use crate::config::keys::{self, Key, Ty};
use crate::config::{LoadOptions, Source, load_source, model::LifecycleState, template, yaml};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace folder")
        .to_path_buf()
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("maestro's schema compiles")
}

fn schema_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The file's text after the loader's template stage, parsed, as JSON.
fn rendered(src: &Source) -> Value {
    let text = template::render(&src.name, &src.text, &src.base_dir, &BTreeMap::new(), false)
        .unwrap_or_else(|e| panic!("{}: {e:?}", src.name));
    yaml::to_json(&yaml::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", src.name)))
}

fn source(path: &Path) -> Source {
    Source::read(path).unwrap_or_else(|e| panic!("{e}"))
}

/// A scratch folder for this test process, removed on drop.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(tag: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("maestro-schema-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch folder");
    Scratch(d)
}

/// YAML files under the searched folders that are not valid environments:
/// fragments to include (`scripts/lab up` writes `examples/lab.yaml`, which
/// git ignores).
const NOT_ENVIRONMENTS: &[&str] = &["examples/lab.yaml"];
/// Folders of files meant to be refused (the bad-input corpus, checked by
/// `tests/e2e/bad_input.rs`).
const REFUSED_FOLDERS: &[&str] = &["tests/bad-input/"];

/// Every `.yaml`/`.yml` file under `dir`, recursively, relative to `root`.
fn yaml_files(root: &Path, dir: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    for e in entries.flatten() {
        let rel = format!("{dir}/{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            yaml_files(root, &rel, out);
        } else if rel.ends_with(".yaml") || rel.ends_with(".yml") {
            out.push(rel);
        }
    }
}

/// The environment files of the repository (examples/, tests/,
/// controller/tests/) that are valid environments. The example includes
/// the lab's `lab.yaml`, which is not in the repository: it is read from a
/// copy of examples/ with a stand-in holding the lab's ship addresses.
fn repository_files() -> (Scratch, Vec<Source>) {
    let root = repo();
    let mut names = Vec::new();
    for dir in ["examples", "tests", "controller/tests"] {
        yaml_files(&root, dir, &mut names);
    }
    names.retain(|n| {
        !NOT_ENVIRONMENTS.contains(&n.as_str()) && !REFUSED_FOLDERS.iter().any(|d| n.starts_with(d))
    });
    names.sort();
    for known in [
        "examples/maestro.yaml",
        "controller/tests/fixtures/schema/every-key.yaml",
    ] {
        assert!(names.iter().any(|n| n == known), "{known} in {names:?}");
    }
    let dir = scratch("examples");
    std::fs::write(
        dir.join("lab.yaml"),
        "ships:\n  ship1: {ip: 10.213.0.11}\n  ship2: {ip: 10.213.0.12}\n  ship3: {ip: 10.213.0.13}\n\
         registries:\n  lab: {registry: 'https://10.213.0.30:5000', username: u, password: p}\n",
    )
    .expect("lab.yaml");
    let files = names
        .iter()
        .map(|n| match n.strip_prefix("examples/") {
            Some(rest) => {
                let copy = dir.join(rest.replace('/', "_"));
                std::fs::copy(root.join(n), &copy).expect("copy");
                source(&copy)
            }
            None => source(&root.join(n)),
        })
        .collect();
    (dir, files)
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let s = schema();
    assert_eq!(s["$schema"], super::DIALECT);
    jsonschema::meta::validate(&s).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_repository_environment_passes_the_loader_and_the_schema() {
    let v = validator();
    let (_dir, files) = repository_files();
    for src in files {
        load_source(&src, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let errors = schema_errors(&v, &rendered(&src));
        assert!(errors.is_empty(), "{}: {errors:#?}", src.name);
    }
}

/// Every level (a table of keys) reachable from the top, by address, with
/// a name for messages.
fn levels() -> BTreeMap<usize, (String, &'static [Key])> {
    fn walk(t: &'static Ty, at: &str, out: &mut BTreeMap<usize, (String, &'static [Key])>) {
        match t {
            Ty::Obj(level) => add(level, at, out),
            Ty::MapOf(v) => walk(v, &format!("{at}.*"), out),
            Ty::ListOf(v) => walk(v, &format!("{at}[]"), out),
            Ty::AnyOf(ts) => ts.iter().for_each(|t| walk(t, at, out)),
            Ty::Tagged(common, types) => {
                add(common, at, out);
                for (name, own) in *types {
                    add(own, &format!("{at}(type: {name})"), out);
                }
            }
            _ => {}
        }
    }
    fn add(level: &'static [Key], at: &str, out: &mut BTreeMap<usize, (String, &'static [Key])>) {
        if out
            .insert(level.as_ptr() as usize, (at.to_string(), level))
            .is_some()
        {
            return;
        }
        for k in level {
            walk(&k.ty, &format!("{at}.{}", k.name), out);
        }
    }
    let mut out = BTreeMap::new();
    add(keys::TOP, "", &mut out);
    out
}

/// `pointer` with `key` appended (RFC 6901: `~` and `/` escaped).
fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// What `visit_levels` calls: a mapping's pointer, the mapping, its levels.
type Visit<'a> = dyn FnMut(&str, &Value, &[&'static [Key]]) + 'a;

/// Walks a document along the tables: calls `visit` with the JSON pointer
/// of every mapping that is a level, and the levels it is checked against.
fn visit_levels(doc: &Value, t: &'static Ty, pointer: &str, visit: &mut Visit<'_>) {
    match (t, doc) {
        (Ty::Obj(level), Value::Object(m)) => {
            visit(pointer, doc, &[level]);
            for k in level.iter() {
                if let Some(v) = m.get(k.name) {
                    visit_levels(v, &k.ty, &child(pointer, k.name), visit);
                }
            }
        }
        (Ty::MapOf(vt), Value::Object(m)) => {
            for (name, v) in m {
                visit_levels(v, vt, &child(pointer, name), visit);
            }
        }
        (Ty::ListOf(it), Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                visit_levels(v, it, &child(pointer, &i.to_string()), visit);
            }
        }
        (Ty::AnyOf(ts), _) => {
            // The option of the value's shape: a mapping goes to the
            // option that is a mapping, a list to the list.
            let fits = |t: &Ty| {
                matches!(
                    (t, doc),
                    (Ty::Obj(_) | Ty::MapOf(_) | Ty::Tagged(..), Value::Object(_))
                        | (Ty::ListOf(_), Value::Array(_))
                )
            };
            if let Some(t) = ts.iter().find(|t| fits(t)) {
                visit_levels(doc, t, pointer, visit);
            }
        }
        (Ty::Tagged(common, types), Value::Object(m)) => {
            let kind = m.get("type").and_then(Value::as_str).unwrap_or_default();
            let own = types
                .iter()
                .find(|(n, _)| *n == kind)
                .map_or(&[][..], |(_, k)| *k);
            visit(pointer, doc, &[common, own]);
            for k in common.iter().chain(own.iter()) {
                if let Some(v) = m.get(k.name) {
                    visit_levels(v, &k.ty, &child(pointer, k.name), visit);
                }
            }
        }
        _ => {}
    }
}

const TOP: Ty = Ty::Obj(keys::TOP);

fn every_key_file() -> Source {
    source(&repo().join("controller/tests/fixtures/schema/every-key.yaml"))
}

#[test]
fn the_every_key_file_uses_every_key_of_every_level() {
    let doc = rendered(&every_key_file());
    let mut used: BTreeSet<(usize, &str)> = BTreeSet::new();
    visit_levels(&doc, &TOP, "", &mut |_, v, levels| {
        for level in levels {
            for k in level.iter() {
                if v.get(k.name).is_some() {
                    used.insert((level.as_ptr() as usize, k.name));
                }
            }
        }
    });
    let mut missing = Vec::new();
    for (ptr, (at, level)) in levels() {
        for k in level {
            if !used.contains(&(ptr, k.name)) {
                missing.push(format!("{at}.{}", k.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys of config/keys.rs that every-key.yaml does not use: {missing:#?}"
    );
}

#[test]
fn an_unknown_key_in_any_mapping_fails_the_loader_and_the_schema() {
    let v = validator();
    let doc = rendered(&every_key_file());
    let mut pointers = Vec::new();
    visit_levels(&doc, &TOP, "", &mut |p, _, _| pointers.push(p.to_string()));
    // The top, ships, ship_defaults, registries and their retry, services,
    // instances, ports, volumes, limits, ulimits, restart, extra_hosts,
    // lifecycle states, each check type, requests_options, auditors.
    assert!(pointers.len() > 30, "{pointers:?}");
    let dir = scratch("unknown");
    std::fs::copy(
        repo().join("controller/tests/fixtures/schema/every-key.env"),
        dir.join("every-key.env"),
    )
    .expect("copy");
    for p in pointers {
        let mut bad = doc.clone();
        let Some(Value::Object(m)) = bad.pointer_mut(&p) else {
            panic!("{p} is not a mapping");
        };
        m.insert("bogus_key".into(), json!(1));
        let errors = schema_errors(&v, &bad);
        assert!(!errors.is_empty(), "the schema accepts bogus_key at {p:?}");
        // JSON is YAML: the loader reads the changed document as a file.
        let src = Source {
            name: "maestro.yaml".into(),
            text: bad.to_string(),
            base_dir: dir.to_path_buf(),
        };
        match load_source(&src, &LoadOptions::default()) {
            Ok(_) => panic!("the loader accepts bogus_key at {p:?}"),
            Err(e) => assert!(e.to_string().contains("bogus_key"), "{p}: {e}"),
        }
    }
}

#[test]
fn a_value_of_the_wrong_type_fails_the_schema() {
    let v = validator();
    let doc = rendered(&every_key_file());
    for (pointer, value) in [
        ("/ships/north/docker_port", json!(70000)),
        ("/ships/north/tls", json!("maybe")),
        (
            "/services/store/instances/store-1/restart",
            json!(["always"]),
        ),
        (
            "/services/store/instances/store-1/log_driver",
            json!("tape"),
        ),
        ("/services/store/limits/memory", json!("12x")),
        ("/__maestro/schema", json!(3)),
        ("/services/store/lifecycle/running/0/type", json!("ping")),
        ("/audit/1/method", json!(["GET"])),
    ] {
        let mut bad = doc.clone();
        *bad.pointer_mut(pointer).expect(pointer) = value.clone();
        assert!(!v.is_valid(&bad), "the schema accepts {value} at {pointer}");
    }
    // Missing required keys.
    for (pointer, key) in [
        ("", "ships"),
        ("/ships/north", "ip"),
        ("/services/api", "image"),
    ] {
        let mut bad = doc.clone();
        if let Some(Value::Object(m)) = bad.pointer_mut(pointer) {
            m.remove(key);
        }
        assert!(
            !v.is_valid(&bad),
            "the schema accepts {pointer} without {key}"
        );
    }
}

#[test]
fn every_key_has_a_description_and_defaults_fit_their_type() {
    for (_, (at, level)) in levels() {
        for k in level {
            assert!(
                !k.description.is_empty() && !k.description.contains('\n'),
                "{at}.{}: one line of description",
                k.name
            );
            if let Some(d) = k.default {
                let value: Value = serde_json::from_str(d)
                    .unwrap_or_else(|e| panic!("{at}.{}: default {d} is not JSON: {e}", k.name));
                let of_type = jsonschema::validator_for(&super::inline(&k.ty)).expect("compiles");
                assert!(of_type.is_valid(&value), "{at}.{}: default {d}", k.name);
                assert!(!k.required, "{at}.{}: required with a default", k.name);
            }
        }
    }
}

#[test]
fn the_lifecycle_level_lists_the_loader_states() {
    let states: Vec<&str> = LifecycleState::ALL.iter().map(|(n, _)| *n).collect();
    assert_eq!(keys::names(keys::LIFECYCLE), states);
}

#[test]
fn ship_defaults_take_every_ship_key_but_ip_and_endpoint() {
    let ship = keys::names(keys::SHIP);
    let settings = keys::names(keys::SHIP_SETTINGS);
    assert_eq!(ship.len(), settings.len() + 2);
    assert!(settings.iter().all(|k| ship.contains(k)));
    assert!(ship.contains(&"ip") && ship.contains(&"endpoint"));
    assert!(!settings.contains(&"ip") && !settings.contains(&"endpoint"));
}

#[test]
fn schema_keywords_carry_descriptions_enums_and_defaults() {
    let s = schema();
    let instance = &s["properties"]["services"]["additionalProperties"]["properties"]["instances"]
        ["additionalProperties"]["properties"];
    assert_eq!(instance["stop_timeout"]["default"], json!(10));
    assert!(
        instance["log_driver"]["enum"]
            .as_array()
            .is_some_and(|e| e.contains(&json!("json-file")))
    );
    assert!(instance["ship"]["description"].is_string());
    assert_eq!(
        s["properties"]["ship_provider"]["enum"],
        json!(["static", null])
    );
}

#[test]
fn shared_levels_are_written_once_and_referred_to() {
    let s = schema();
    let text = s.to_string();
    for (name, _) in super::DEFS {
        assert!(s["$defs"][name].is_object(), "{name}");
        assert!(
            text.contains(&format!("\"#/$defs/{name}\"")),
            "{name} is not referred to"
        );
    }
}

// ---- docs/keys.md: the key reference, generated from the tables ----

/// A type in words, for the reference; `paths` names the levels.
fn type_words(t: &Ty, paths: &BTreeMap<usize, String>) -> String {
    let level = |l: &[Key]| {
        paths
            .get(&(l.as_ptr() as usize))
            .map_or("mapping".to_string(), |p| {
                format!("mapping ([`{p}`](#{}))", anchor(p))
            })
    };
    match t {
        Ty::Str => "text".into(),
        Ty::Bool => "boolean".into(),
        Ty::Uint => "integer ≥ 0".into(),
        Ty::Int => "integer".into(),
        Ty::Port => "port (1-65535)".into(),
        Ty::Seconds => "seconds".into(),
        Ty::Size => "size (bytes, or with k/m/g)".into(),
        Ty::Number => "number".into(),
        Ty::Duration => "duration (10s, 1m30s, 500ms; or seconds)".into(),
        Ty::Enum(words) => format!(
            "one of {}",
            words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Ty::Ints(v) => format!(
            "one of {}",
            v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        ),
        Ty::StrList => "text, or a list of text".into(),
        Ty::UintList => "integer, or a list of integers".into(),
        Ty::EnvValue => "scalar, or a list".into(),
        Ty::Scalar => "scalar".into(),
        Ty::Null => "empty".into(),
        Ty::Any => "anything".into(),
        Ty::Obj(l) => level(l),
        Ty::MapOf(v) => format!("mapping of name → {}", type_words(v, paths)),
        Ty::ListOf(v) => format!("list of {}", type_words(v, paths)),
        Ty::AnyOf(ts) => ts
            .iter()
            .map(|t| type_words(t, paths))
            .collect::<Vec<_>>()
            .join(", or "),
        Ty::Tagged(common, _) => format!("{} by its `type`", level(common)),
    }
}

/// GitHub's anchor of a heading that is `path` in backticks.
fn anchor(path: &str) -> String {
    path.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

/// Every level in the order a reader meets them, with its path.
fn ordered_levels() -> Vec<(String, &'static [Key])> {
    fn walk(t: &'static Ty, at: &str, out: &mut Vec<(String, &'static [Key])>) {
        match t {
            Ty::Obj(level) => add(level, at, out),
            Ty::MapOf(v) => walk(v, &format!("{at}.*"), out),
            Ty::ListOf(v) => walk(v, &format!("{at}[]"), out),
            Ty::AnyOf(ts) => ts.iter().for_each(|t| walk(t, at, out)),
            Ty::Tagged(common, types) => {
                add(common, at, out);
                for (name, own) in *types {
                    add(own, &format!("{at} (type: {name})"), out);
                }
            }
            _ => {}
        }
    }
    fn add(level: &'static [Key], at: &str, out: &mut Vec<(String, &'static [Key])>) {
        if level.is_empty()
            || out
                .iter()
                .any(|(_, l)| std::ptr::eq(l.as_ptr(), level.as_ptr()))
        {
            return;
        }
        out.push((at.trim_start_matches('.').to_string(), level));
        for k in level {
            walk(&k.ty, &format!("{at}.{}", k.name), out);
        }
    }
    let mut out = Vec::new();
    add(keys::TOP, "", &mut out);
    out
}

/// The first value of every key in every-key.yaml, one line of JSON.
fn examples() -> BTreeMap<(usize, &'static str), String> {
    let doc = rendered(&every_key_file());
    let mut found = BTreeMap::new();
    visit_levels(&doc, &TOP, "", &mut |_, v, levels| {
        for level in levels {
            for k in level.iter() {
                if let Some(x) = v.get(k.name) {
                    found
                        .entry((level.as_ptr() as usize, k.name))
                        .or_insert_with(|| {
                            let s = x.to_string();
                            if s.chars().count() > 60 {
                                format!("{}…", s.chars().take(60).collect::<String>())
                            } else {
                                s
                            }
                        });
                }
            }
        }
    });
    found
}

fn key_reference() -> String {
    let levels = ordered_levels();
    let paths: BTreeMap<usize, String> = levels
        .iter()
        .map(|(p, l)| (l.as_ptr() as usize, p.clone()))
        .collect();
    let examples = examples();
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "# Every key of the environment file\n\n\
         Generated from the key tables the loader checks files against\n\
         (`controller/src/config/keys.rs`) by the test\n\
         `config::schema::tests::docs_keys_md_is_the_key_tables`; rerun it with\n\
         `MAESTRO_BLESS=1` after changing a table. The examples are the values of\n\
         `controller/tests/fixtures/schema/every-key.yaml`, which uses every key.\n\
         How each key behaves, and where it differs from MaestroNG:\n\
         [config.md](config.md). `maestro schema` gives the same as a JSON Schema.\n",
    );
    for (path, level) in &levels {
        let heading = if path.is_empty() {
            "The top level".to_string()
        } else {
            format!("`{path}`")
        };
        out.push_str(&format!(
            "\n## {heading}\n\n| key | type | default | description | example |\n|---|---|---|---|---|\n"
        ));
        for k in level.iter() {
            let default = match (k.required, k.default) {
                (true, _) => "required".to_string(),
                (false, Some(d)) => format!("`{d}`"),
                (false, None) => String::new(),
            };
            let example = examples
                .get(&(level.as_ptr() as usize, k.name))
                .map(|e| format!("`{e}`"))
                .unwrap_or_default();
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                k.name,
                cell(&type_words(&k.ty, &paths)),
                cell(&default),
                cell(k.description),
                cell(&example)
            ));
        }
    }
    out
}

#[test]
fn docs_keys_md_is_the_key_tables() {
    let path = repo().join("docs/keys.md");
    let want = key_reference();
    if std::env::var_os("MAESTRO_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write docs/keys.md");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/keys.md is not the key tables; rerun this test with MAESTRO_BLESS=1"
    );
}
