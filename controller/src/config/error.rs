//! Configuration errors: each names the key path and, where known, the line
//! and column in the rendered environment file. Values are never echoed for
//! keys that may hold secrets (environment values, passwords, tokens).

use std::fmt;

/// One problem found in the environment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted key path, e.g. `services.kafka.instances.kafka-1.ports.broker`;
    /// empty for problems of the file as a whole.
    pub path: String,
    /// 1-based line and column in the rendered file; 0 when unknown.
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl ConfigError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    pub fn at(mut self, line: u64, column: u64) -> Self {
        self.line = line;
        self.column = column;
        self
    }
}

/// Why an environment could not be loaded, with the file it concerns.
#[derive(Debug)]
pub enum LoadError {
    /// The file (or an envfile) could not be read: a usage or I/O problem.
    Io { file: String, message: String },
    /// The file was read but is not a valid environment: every problem found.
    Invalid {
        file: String,
        errors: Vec<ConfigError>,
    },
}

impl LoadError {
    /// An error for I/O problems, a failure for invalid files.
    pub fn exit_status(&self) -> crate::exit::ExitStatus {
        match self {
            LoadError::Io { .. } => crate::exit::ExitStatus::Error,
            LoadError::Invalid { .. } => crate::exit::ExitStatus::Failure,
        }
    }

    /// Process exit code: 2 for usage and I/O problems, 1 for invalid files.
    pub fn exit_code(&self) -> i32 {
        self.exit_status().code()
    }

    /// The individual problems (empty for I/O errors).
    pub fn errors(&self) -> &[ConfigError] {
        match self {
            LoadError::Io { .. } => &[],
            LoadError::Invalid { errors, .. } => errors,
        }
    }
}

impl fmt::Display for LoadError {
    /// One line per problem: `file:line:column: path: message` (line and
    /// column left out when unknown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { file, message } => write!(f, "{file}: {message}"),
            LoadError::Invalid { file, errors } => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{file}")?;
                    if e.line > 0 {
                        write!(f, ":{}", e.line)?;
                        if e.column > 0 {
                            write!(f, ":{}", e.column)?;
                        }
                    }
                    let message = visible(&e.message);
                    if e.path.is_empty() {
                        write!(f, ": {message}")?;
                    } else {
                        write!(f, ": {}: {message}", visible(&e.path))?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// `s` with the characters a terminal would not show as themselves written
/// as `\u{...}`: control characters (other than newline and tab) and the
/// invisible formatting ones (zero-width spaces, bidirectional overrides
/// that reorder the rest of the line). Key names come from the file; a
/// message must show what is really there.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    fn hidden(c: char) -> bool {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c,
                '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}')
    }
    if !s.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped() {
        assert_eq!(visible("web-1"), "web-1");
        assert_eq!(visible("we\u{200b}b\u{202e}-1"), "we\\u{200b}b\\u{202e}-1");
        assert_eq!(visible("a\u{1b}[2Jb\u{0}"), "a\\u{1b}[2Jb\\u{0}");
        assert_eq!(visible("línea\ttab\nnext"), "línea\ttab\nnext");
    }
}
