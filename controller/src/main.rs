use clap::Parser;
use clap::error::ErrorKind;
use maestro::cli::{Cli, expand_maestro_ng_abbreviations};

fn main() {
    maestro::heap::prepare();
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
