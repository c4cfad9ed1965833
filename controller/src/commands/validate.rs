//! `maestro validate`: load the environment file, print a one-line summary.

use crate::cli::GlobalArgs;

pub fn run(global: &GlobalArgs) -> i32 {
    match super::load(global) {
        Ok(l) => {
            let e = &l.env;
            println!(
                "{}: valid: {} ships, {} services, {} instances",
                global.file.display(),
                e.ships.len(),
                e.services.len(),
                e.instances.len()
            );
            0
        }
        Err(code) => code,
    }
}
