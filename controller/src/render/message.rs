//! What maestro itself says on standard error, besides a play's progress:
//! why a command stopped, and warnings. Colour codes are dropped when
//! standard error is not a terminal or `NO_COLOR` is set.

/// A message that already carries its prefix (`maestro: ...`, or a
/// configuration error's `file:line:col: ...` lines).
pub fn error(message: &str) {
    anstream::eprintln!("{message}");
}

/// `maestro: warning: <message>`.
pub fn warning(message: impl std::fmt::Display) {
    anstream::eprintln!("maestro: warning: {message}");
}

/// `maestro: <message>`: what maestro is doing, when it makes a person wait.
pub fn note(message: impl std::fmt::Display) {
    anstream::eprintln!("maestro: {message}");
}
