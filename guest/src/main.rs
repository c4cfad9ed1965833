//! maestro-guest: reads the variables maestro injects into a container.
//!
//! The C `main` is ours (`no_main`): Rust's start-up code (stack overflow
//! handler, main thread registration, SIGPIPE ignored) costs about 20 KB of a
//! binary that is copied into every image, and a helper that runs for a
//! millisecond needs none of it. What that changes: a closed stdout ends the
//! process by SIGPIPE, as it does `cat`, and a command started by `exec`
//! inherits the default SIGPIPE disposition.
#![no_main]

use std::ffi::{CStr, OsString, c_char, c_int};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use maestro_guest::args::{self, Command};
use maestro_guest::{EXIT_ERROR, Failure, exec, process_vars, run};

/// The process entry point, called by the C runtime with `argc` valid
/// NUL-terminated strings in `argv`.
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let count = usize::try_from(argc).unwrap_or(0);
    let arguments = (1..count).map(|i| {
        // SAFETY: i < argc, and the C runtime hands argv entries that are
        // valid C strings for the life of the process.
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
        OsString::from(std::ffi::OsStr::from_bytes(arg.to_bytes()))
    });
    guest(arguments.collect())
}

fn guest(arguments: Vec<OsString>) -> c_int {
    let invocation = match args::parse(arguments) {
        Ok(invocation) => invocation,
        Err(e) => {
            return fail(&Failure {
                message: e.0,
                code: EXIT_ERROR,
            });
        }
    };
    let vars = Arc::new(process_vars());
    if let Command::Exec {
        renders,
        program,
        args,
    } = &invocation.command
    {
        return fail(&exec(renders, program, args, vars));
    }
    match run(&invocation, vars) {
        Ok(out) => {
            // Without Rust's start-up code nothing flushes stdout at exit:
            // flush here.
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => 0,
                Err(_) => 1,
            }
        }
        Err(failure) => fail(&failure),
    }
}

fn fail(failure: &Failure) -> c_int {
    let _ = writeln!(std::io::stderr(), "{}", failure.message);
    failure.code
}
