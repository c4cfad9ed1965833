//! How a command ends, as the process reports it: one type for every
//! command, mapped to exit codes in this one place.

/// The outcome of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done, and everything is as asked (exit 0).
    Success,
    /// The command ran, but not everything went well: a task failed or was
    /// not attempted, an instance is down, the file is invalid, a safety
    /// rule refused the request (exit 1).
    Failure,
    /// The command could not run as given: a usage error, a file that
    /// cannot be read, output that cannot be written (exit 2).
    Error,
    /// Ctrl-C ended it (exit 130, as a shell reports SIGINT).
    Interrupted,
    /// `plan`: the plan was made and changes are pending (exit 2, as
    /// `terraform plan -detailed-exitcode` and `nomad job plan`). Only
    /// `plan` returns it; its errors are `Failure`.
    ChangesPending,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
            ExitStatus::Interrupted => 130,
            ExitStatus::ChangesPending => 2,
        }
    }
}

/// Compares with a process exit code.
impl PartialEq<i32> for ExitStatus {
    fn eq(&self, code: &i32) -> bool {
        self.code() == *code
    }
}

/// A command that cannot go on: the message for standard error (printed
/// as is, one or more lines) and how the process ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub status: ExitStatus,
    pub message: String,
}

impl Failed {
    /// `maestro: <message>`, exit 2.
    pub fn error(message: impl std::fmt::Display) -> Self {
        Failed {
            status: ExitStatus::Error,
            message: format!("maestro: {message}"),
        }
    }

    /// `maestro: <message>`, exit 1.
    pub fn failure(message: impl std::fmt::Display) -> Self {
        Failed {
            status: ExitStatus::Failure,
            message: format!("maestro: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Failure.code(), 1);
        assert_eq!(ExitStatus::Error.code(), 2);
        assert_eq!(ExitStatus::Interrupted.code(), 130);
        assert_eq!(ExitStatus::ChangesPending.code(), 2);
        assert_eq!(Failed::error("x").message, "maestro: x");
    }
}
