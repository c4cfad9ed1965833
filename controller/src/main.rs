use clap::Parser;
use clap::error::ErrorKind;
use maestro::cli::{Cli, expand_maestro_ng_abbreviations};

fn main() {
    grow_the_heap_in_large_steps();
    let cli = match Cli::try_parse_from(expand_maestro_ng_abbreviations(std::env::args_os())) {
        Ok(cli) => cli,
        // clap would print "maestro 0.1.0"; MaestroNG's shape is
        // "maestro-ng-0.8.3", which scripts may parse.
        Err(e) if e.kind() == ErrorKind::DisplayVersion => {
            let text = format!("{}\n", maestro::cli::VERSION_TEXT);
            let status = match maestro::commands::print_stdout(&text) {
                Ok(()) => maestro::exit::ExitStatus::Success,
                Err(failed) => {
                    maestro::render::message::error(&failed.message);
                    failed.status
                }
            };
            std::process::exit(status.code());
        }
        // `plan` keeps exit 2 for "changes pending": its usage errors are 1.
        Err(e)
            if e.use_stderr()
                && maestro::cli::command_name(std::env::args_os()).as_deref() == Some("plan") =>
        {
            let _ = e.print();
            std::process::exit(maestro::exit::ExitStatus::Failure.code());
        }
        Err(e) => e.exit(),
    };
    std::process::exit(maestro::commands::run(cli).code());
}

/// The heap grows by 64 MiB of address space at a time instead of what
/// each allocation needs: loading a large environment file then takes a
/// few system calls instead of hundreds (pages are still committed only
/// when touched, so memory in use does not change).
fn grow_the_heap_in_large_steps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of glibc's allocator;
    // it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}
