//! maestro-guest: reads the variables maestro injects into a container.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use maestro_guest::args::{self, Command};
use maestro_guest::{EXIT_ERROR, Failure, exec, process_vars, run};

fn main() -> ExitCode {
    let invocation = match args::parse(std::env::args_os().skip(1)) {
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
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not worth a message.
            match stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(1),
            }
        }
        Err(failure) => fail(&failure),
    }
}

fn fail(failure: &Failure) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{}", failure.message);
    ExitCode::from(u8::try_from(failure.code).unwrap_or(1))
}
