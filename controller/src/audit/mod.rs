//! Auditors: tell the team what maestro did (`audit:` entries of type `log`,
//! `http`, `exec`, `slack`). Every play that changes something (start, stop,
//! kill, restart, pull, clean) reports its start, then its success or error.
//!
//! An auditor that fails on `action` aborts the play before any change is
//! made, unless the entry has `ignore_errors: true`; failures of `success`
//! and `error` are reported as warnings and never change the outcome.

use crate::config::model::Environment;

/// What a play is about, for the auditors' messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayInfo {
    /// The command, e.g. `start`.
    pub action: String,
    /// The instances the play works on, in play order.
    pub what: Vec<String>,
    /// Who runs maestro (the login name).
    pub who: String,
}

/// An auditor refused a play's start; the play must not go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditError {
    pub message: String,
}

/// The environment's auditors.
#[derive(Debug, Default)]
pub struct Auditors {}

impl Auditors {
    pub fn from_environment(_env: &Environment) -> Auditors {
        Auditors {}
    }

    /// The play is about to start.
    pub fn action(&self, _play: &PlayInfo) -> Result<(), AuditError> {
        Ok(())
    }

    /// The play finished without failure.
    pub fn success(&self, _play: &PlayInfo) {}

    /// The play failed with `message`.
    pub fn error(&self, _play: &PlayInfo, _message: &str) {}
}
