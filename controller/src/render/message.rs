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

/// A ship's warning (e.g. certificate checks off), shown once per ship
/// and process however many clients a command builds for it (`up` looks
/// at the ships twice).
pub fn ship_warning(ship: &str, message: &str) {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static SHOWN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let first = SHOWN
        .lock()
        .map(|mut shown| shown.insert(ship.to_string()))
        .unwrap_or(true);
    if first {
        warning(message);
    }
}

/// `maestro: <message>`: what maestro is doing, when it makes a person wait.
pub fn note(message: impl std::fmt::Display) {
    anstream::eprintln!("maestro: {message}");
}
