//! Template rendering of the environment file with minijinja, before YAML
//! parsing: `env` holds the process environment, `{% include %}` and
//! `{% import %}` resolve next to the file (the current folder for stdin).
//!
//! MaestroNG renders the file with Jinja2 over Python objects, and files use
//! Python idioms: `env.get('X', 'd')`, string methods, `'%02d' % i`, lists
//! grown with `.append()`. [`pycompat`] gives values those methods and
//! prints them as Python does; [`rewrite`] turns `%`, `~` and list and
//! dict literals into calls the engine can dispatch. What still differs from Jinja2 is listed
//! in docs/config.md (Templates) and checked against Jinja2 itself by the
//! probe corpus in controller/tests/jinja_compat.rs.
//!
//! Errors are built from the error's kind, detail and line only: minijinja's
//! alternate (`{:#}`) form lists the referenced variables with their values,
//! i.e. the whole process environment, and must never be printed.

mod pycompat;
mod rewrite;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{AutoEscape, Environment, TemplateSource, UndefinedBehavior, Value, path_loader};

use super::error::ConfigError;

/// Renders `text` (named `name` in messages). `strict` makes undefined
/// variables an error instead of an empty string.
pub fn render<'a>(
    name: &str,
    text: &'a str,
    base_dir: &Path,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<Cow<'a, str>, ConfigError> {
    // Plain YAML is by far the common case and needs no template engine
    // (nor a copy of the text).
    if !has_template_syntax(text) {
        return Ok(Cow::Borrowed(text));
    }
    let env = environment(base_dir, strict);
    let ctx = minijinja::context! {
        env => Value::from_object(pycompat::Environ(vars.clone())),
    };
    let source = rewrite::rewrite(text, name);
    env.render_named_str(name, &source, ctx)
        .map(Cow::Owned)
        .map_err(|e| template_error(name, &e))
}

/// Whether `text` holds `{{`, `{%` or `{#`: one pass over its braces.
fn has_template_syntax(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'{', bytes).any(|at| matches!(bytes.get(at + 1), Some(b'{' | b'%' | b'#')))
}

/// The engine as the environment file sees it: Jinja2's filters, tests and
/// Python methods, no autoescaping, includes next to the file.
fn environment(base_dir: &Path, strict: bool) -> Environment<'static> {
    let mut env = Environment::new();
    let files = path_loader(base_dir);
    env.set_loader(move |name| {
        Ok(files(name)?.map(|src| TemplateSource::new(rewrite::rewrite(src.source(), name))))
    });
    // No escaping, as in MaestroNG (minijinja would JSON-escape `.yaml`
    // templates if its `json` feature were on anywhere in the build).
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(if strict {
        UndefinedBehavior::Strict
    } else {
        UndefinedBehavior::Lenient
    });
    env.set_formatter(pycompat::formatter);
    env.set_unknown_method_callback(pycompat::unknown_method);
    env.add_function(rewrite::PY_MOD, pycompat::py_mod);
    env.add_function(rewrite::PY_LIST, pycompat::py_list);
    env.add_function(rewrite::PY_DICT, pycompat::py_dict);
    env.add_function(rewrite::PY_CONCAT, pycompat::py_concat);
    // minijinja's own filters, made to show values and return lists as
    // Python does.
    env.add_filter("string", pycompat::string);
    env.add_filter("list", pycompat::list);
    env.add_filter("sort", pycompat::sort);
    env.add_filter("join", pycompat::join);
    // Jinja2's filters and globals minijinja lacks (some from its contrib
    // crate, wrapped to take Jinja2's positional arguments).
    env.add_filter("center", pycompat::center);
    env.add_filter("truncate", pycompat::truncate);
    env.add_filter("wordcount", pycompat::wordcount);
    env.add_filter("tojson", pycompat::tojson);
    env.add_filter("wordwrap", pycompat::wordwrap);
    env.add_filter("urlencode", pycompat::urlencode);
    env.add_filter("xmlattr", pycompat::xmlattr);
    // No autoescaping, so `escape` is always explicit: MarkupSafe's set.
    env.add_filter("escape", pycompat::escape);
    env.add_filter("e", pycompat::escape);
    env.add_filter("forceescape", pycompat::escape);
    env.add_filter("filesizeformat", minijinja_contrib::filters::filesizeformat);
    env.add_filter("striptags", minijinja_contrib::filters::striptags);
    env.add_function("cycler", pycompat::cycler);
    env.add_function("dict", pycompat::dict);
    env.add_function("joiner", minijinja_contrib::globals::joiner);
    env
}

fn template_error(main: &str, e: &minijinja::Error) -> ConfigError {
    let mut msg = format!("template error: {}", e.kind());
    if let Some(detail) = e.detail() {
        msg.push_str(": ");
        msg.push_str(detail);
    }
    let line = e.line().map_or(0, |l| l as u64);
    match e.name() {
        // An error inside an included file names that file.
        Some(n) if n != main => {
            msg.push_str(&format!(" (in {n}, line {line})"));
            ConfigError::new("", msg)
        }
        _ => ConfigError::new("", msg).at(line, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [
            ("BAR".to_string(), "bar".to_string()),
            ("SECRET".to_string(), "hunter2".to_string()),
        ]
        .into()
    }

    #[test]
    fn env_is_in_scope_and_undefined_renders_empty() {
        let out = render(
            "m.yaml",
            "foo: {{ env.BAR }}\nx: '{{ env.NOPE }}'\n",
            Path::new("."),
            &vars(),
            false,
        )
        .unwrap();
        // Jinja drops the final newline, as Jinja2 does by default.
        assert_eq!(out, "foo: bar\nx: ''");
    }

    #[test]
    fn strict_templates_reject_undefined_without_leaking_values() {
        let e = render(
            "m.yaml",
            "a: {{ env.SECRET }}\nfoo: {{ env.NOPE }}\n",
            Path::new("."),
            &vars(),
            true,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("undefined"), "{}", e.message);
        assert!(!e.message.contains("hunter2"));
    }

    #[test]
    fn env_is_a_mapping_with_os_environ_methods() {
        let out = render(
            "m.yaml",
            "{{ env.get('BAR') }} {{ env.get('NOPE', 'd') }} {{ env.get('NOPE') }} \
             {{ 'BAR' in env }} {{ env.keys()|join(',') }} \
             {% for k, v in env.items() %}{{ k }}={{ v|length }};{% endfor %}",
            Path::new("."),
            &vars(),
            false,
        )
        .unwrap();
        assert_eq!(out, "bar d None True BAR,SECRET BAR=3;SECRET=7;");
    }

    #[test]
    fn strict_templates_keep_env_methods_and_reject_undefined_lookups() {
        let ok = |t: &str| {
            render("m.yaml", t, Path::new("."), &vars(), true).map(|text| text.into_owned())
        };
        assert_eq!(ok("{{ env.get('NOPE', 'x') }}").unwrap(), "x");
        assert_eq!(ok("{{ 'NOPE' in env }}").unwrap(), "False");
        for t in [
            "{{ env['NOPE'] }}",
            "{{ env.NOPE ~ 'a' }}",
            "{{ env.NOPE|string }}",
            "{{ '%s' % env.NOPE }}",
            "{{ '{}'.format(env.NOPE) }}",
            "{{ [env.NOPE]|join }}",
        ] {
            let e = ok(t).expect_err(t);
            assert!(e.message.contains("undefined"), "{t}: {}", e.message);
        }
    }

    #[test]
    fn errors_in_python_idioms_never_show_values() {
        for t in [
            "{{ '%d' % env.SECRET }}",
            "{{ env.SECRET + 1 }}",
            "{{ env.SECRET.nomethod() }}",
            "{{ env.SECRET.index('zzz') }}",
            "{{ [env.SECRET].index('zzz') }}",
            "{{ env.SECRET % 2 }}",
            "{{ '{:d}'.format(env.SECRET) }}",
            "{{ env.SECRET|truncate(1) }}",
            "{% set l = [] %}{{ l.remove(env.SECRET) }}",
            "{% set d = {} %}{{ d.pop(env.SECRET) }}",
        ] {
            let e = render("m.yaml", t, Path::new("."), &vars(), false).expect_err(t);
            assert!(!e.message.contains("hunter2"), "{t}: {}", e.message);
        }
    }

    #[test]
    fn the_list_idiom_of_maestro_ngs_examples_works() {
        let out = render(
            "m.yaml",
            "{% set ids = [] %}\
             {% for ship, nodes in {'s': [('n1', 1), ('n2', 2)]}.items() %}\
             {% for name, id in nodes %}\
             {% set DO = ids.append('{}:{}'.format(name, id)) %}\
             {% endfor %}{% endfor %}{{ ids|join(',') }} {{ '%02d' % ids|length }}",
            Path::new("."),
            &vars(),
            false,
        )
        .unwrap();
        assert_eq!(out, "n1:1,n2:2 02");
    }

    #[test]
    fn includes_resolve_next_to_the_file() {
        let dir = std::env::temp_dir().join(format!("maestro-tpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Included files get the same Python idioms.
        std::fs::write(dir.join("svc.yaml"), "svc: {{ '%s' % env.BAR.upper() }}").unwrap();
        let out = render(
            "m.yaml",
            "{% include \"svc.yaml\" %}\n",
            &dir,
            &vars(),
            false,
        )
        .unwrap();
        assert_eq!(out, "svc: BAR");
        // A list of names (a list literal, hence a list object) picks the
        // first that exists.
        let out = render(
            "m.yaml",
            "{% include ['missing.yaml', 'svc.yaml'] %}",
            &dir,
            &vars(),
            false,
        )
        .unwrap();
        assert_eq!(out, "svc: BAR");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = render("m.yaml", "a: 1\n{% if %}\n", Path::new("."), &vars(), false).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("syntax"), "{}", e.message);
    }
}
