use clap::Parser;

fn main() {
    let cli = maestro::cli::Cli::parse();
    std::process::exit(maestro::commands::run(cli).code());
}
