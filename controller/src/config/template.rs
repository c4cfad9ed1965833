//! Template rendering of the environment file with minijinja, before YAML
//! parsing: `env` holds the process environment, `{% include %}` and
//! `{% import %}` resolve next to the file (the current folder for stdin).
//!
//! Errors are built from the error's kind, detail and line only: minijinja's
//! alternate (`{:#}`) form lists the referenced variables with their values,
//! i.e. the whole process environment, and must never be printed.

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, path_loader};

use super::error::ConfigError;

/// Renders `text` (named `name` in messages). `strict` makes undefined
/// variables an error instead of an empty string.
pub fn render(
    name: &str,
    text: &str,
    base_dir: &Path,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, ConfigError> {
    // Plain YAML is by far the common case and needs no template engine.
    if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
        return Ok(text.to_string());
    }
    let mut env = Environment::new();
    env.set_loader(path_loader(base_dir));
    // No escaping, as in MaestroNG (minijinja would JSON-escape `.yaml`
    // templates when its `json` feature is on somewhere in the build).
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(if strict {
        UndefinedBehavior::Strict
    } else {
        UndefinedBehavior::Lenient
    });
    let ctx = minijinja::context! { env => Value::from(vars.clone()) };
    env.render_named_str(name, text, ctx)
        .map_err(|e| template_error(name, &e))
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
    fn includes_resolve_next_to_the_file() {
        let dir = std::env::temp_dir().join(format!("maestro-tpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("svc.yaml"), "svc: {{ env.BAR }}").unwrap();
        let out = render(
            "m.yaml",
            "{% include \"svc.yaml\" %}\n",
            &dir,
            &vars(),
            false,
        )
        .unwrap();
        assert_eq!(out, "svc: bar");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = render("m.yaml", "a: 1\n{% if %}\n", Path::new("."), &vars(), false).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("syntax"), "{}", e.message);
    }
}
