//! maestro-guest: reads the variables maestro injects into a container.

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("--help") | Some("-h") | None => {
            println!("maestro-guest: discovery helper for containers started by maestro");
        }
        Some(other) => {
            eprintln!("maestro-guest: unknown command {other}");
            std::process::exit(2);
        }
    }
}
