//! The environment file: template rendering, YAML parsing and validation into
//! a typed `Environment`. Pure: no I/O beyond reading files.
//!
//! `Source::read` (file or stdin) -> `template::render` -> `yaml::parse` (a
//! node tree with lines) -> `validate::validate` (every error at once;
//! `services` reads each service and instance) -> `model::Environment`,
//! each instance with its configuration hash (`hash`; left out when
//! `LoadOptions::hashes` is off); container environments are built on
//! demand (`container_env`).

pub mod audit;
pub mod container_env;
pub mod container_options;
pub mod error;
pub mod hash;
pub mod image;
pub mod keys;
pub mod lifecycle;
pub mod model;
pub mod oneshot;
pub mod options;
pub mod ports;
pub mod pyvalue;
pub mod reader;
pub mod registry;
pub mod schema;
pub mod secrets;
pub mod services;
pub mod ship;
pub mod suggest;
pub mod template;
pub mod validate;
pub mod volumes;
pub mod yaml;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, LoadError};
pub use model::Environment;

/// The text of an environment file and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// Name in messages: the path as given, or `<stdin>`.
    pub name: String,
    pub text: String,
    /// Includes, envfiles and relative paths resolve against this folder.
    pub base_dir: PathBuf,
}

impl Source {
    /// Reads `path`, or standard input for `-`.
    pub fn read(path: &Path) -> Result<Source, LoadError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        if path == Path::new("-") {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| LoadError::Io {
                    file: "<stdin>".into(),
                    message: format!("cannot read standard input: {e}"),
                })?;
            let text = utf8("<stdin>", bytes)?;
            return Ok(Source {
                name: "<stdin>".into(),
                text,
                base_dir: cwd,
            });
        }
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| LoadError::Io {
            file: name.clone(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "environment file not found".to_string()
            } else {
                format!("cannot read the environment file: {e}")
            },
        })?;
        let text = utf8(&name, bytes)?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(cwd.clone(), |p| cwd.join(p));
        Ok(Source {
            name,
            text,
            base_dir: dir,
        })
    }
}

/// The text of a file that must be UTF-8. An invalid file is reported at
/// its first bad byte: the line and column (in characters) where it is, and
/// its byte offset, since an editor may show the bad byte in many ways.
pub fn utf8(name: &str, bytes: Vec<u8>) -> Result<String, LoadError> {
    String::from_utf8(bytes).map_err(|e| {
        let (line, column, message) = utf8_problem(&e);
        LoadError::Invalid {
            file: name.to_string(),
            errors: vec![ConfigError::new("", message).at(line, column)],
        }
    })
}

/// Line, column and description of the first bad byte of a file.
pub fn utf8_problem(e: &std::string::FromUtf8Error) -> (u64, u64, String) {
    let bytes = e.as_bytes();
    let at = e.utf8_error().valid_up_to();
    // Everything before `at` is valid UTF-8.
    let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let what = match (e.utf8_error().error_len(), bytes.get(at)) {
        (Some(_), Some(b)) => {
            format!("byte 0x{b:02X} at byte offset {at} does not start or continue a character")
        }
        _ => format!("the file ends inside a character (byte offset {at})"),
    };
    // A byte-order mark of UTF-16 (as some Windows editors save).
    let hint = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        "; it looks like UTF-16: save it as UTF-8"
    } else {
        ""
    };
    (
        line as u64,
        column as u64,
        format!("the file is not valid UTF-8: {what}{hint}"),
    )
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Undefined template variables are errors instead of empty strings.
    pub strict_templates: bool,
    /// The template's `env`: the process environment, or a test's own.
    pub vars: BTreeMap<String, String>,
    /// Each instance's configuration hash is computed (a tenth of the load
    /// time of a large file); without, `config_hash` is empty. Only what
    /// never compares containers with the file goes without (`validate`).
    pub hashes: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            strict_templates: false,
            vars: BTreeMap::new(),
            hashes: true,
        }
    }
}

impl LoadOptions {
    /// Options with the process environment as `env`.
    pub fn from_process(strict_templates: bool) -> Self {
        // `vars()` would panic on a variable that is not UTF-8; skip those.
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        LoadOptions {
            strict_templates,
            vars,
            hashes: true,
        }
    }
}

/// A loaded environment, with the parsed tree (for `dump -c`).
#[derive(Debug)]
pub struct Loaded {
    pub env: Environment,
    pub tree: yaml::Node,
}

/// Renders, parses and validates a source.
pub fn load_source(src: &Source, opts: &LoadOptions) -> Result<Loaded, LoadError> {
    let invalid = |errors: Vec<ConfigError>| LoadError::Invalid {
        file: src.name.clone(),
        errors,
    };
    let name = Path::new(&src.name)
        .file_name()
        .map_or(src.name.clone(), |n| n.to_string_lossy().into_owned());
    let text = template::render(
        &name,
        &src.text,
        &src.base_dir,
        &opts.vars,
        opts.strict_templates,
    )
    .map_err(|e| invalid(vec![e]))?;
    let tree = yaml::parse(&text).map_err(|e| invalid(vec![e]))?;
    let env = validate::validate(&tree, &src.base_dir, opts.hashes).map_err(invalid)?;
    Ok(Loaded { env, tree })
}

/// Reads and loads the environment file at `path` (`-` for stdin).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded, LoadError> {
    let source = Source::read(path)?;
    if source.text.len() >= crate::heap::LARGE_FILE {
        crate::heap::for_large_file();
    }
    load_source(&source, opts)
}

/// Loads YAML text directly (tests, tools): base folder `base_dir`.
pub fn load_str(text: &str, base_dir: &Path) -> Result<Environment, LoadError> {
    let src = Source {
        name: "maestro.yaml".into(),
        text: text.into(),
        base_dir: base_dir.into(),
    };
    load_source(&src, &LoadOptions::default()).map(|l| l.env)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
