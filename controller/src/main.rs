use clap::Parser;
use clap::error::ErrorKind;

fn main() {
    let cli = match maestro::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // clap would print "maestro 0.1.0"; MaestroNG's shape is
        // "maestro-ng-0.8.3", which scripts may parse.
        Err(e) if e.kind() == ErrorKind::DisplayVersion => {
            let text = format!("{}\n", maestro::cli::VERSION_TEXT);
            let code = maestro::commands::print_stdout(&text).map_or_else(|c| c, |()| 0);
            std::process::exit(code);
        }
        Err(e) => e.exit(),
    };
    std::process::exit(maestro::commands::run(cli));
}
