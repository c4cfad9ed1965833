//! `maestro man DIR`: man pages from the command-line definitions
//! (clap_mangen): `maestro.1` and one `maestro-<command>.1` per command.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::{ExitStatus, Failed};

pub fn run(dir: &Path) -> super::CommandResult {
    let written = write_pages(dir)?;
    let names: Vec<String> = written.iter().map(|p| p.to_string()).collect();
    super::print_stdout(&format!(
        "{}: {} man pages ({})\n",
        dir.display(),
        names.len(),
        names.join(" ")
    ))?;
    Ok(ExitStatus::Success)
}

/// Writes the pages; returns their file names.
pub fn write_pages(dir: &Path) -> Result<Vec<String>, Failed> {
    let io = |what: &str, e: std::io::Error| Failed::error(format_args!("{what}: {e}"));
    std::fs::create_dir_all(dir).map_err(|e| io(&dir.display().to_string(), e))?;
    let mut top = Cli::command();
    top.build();
    let mut pages = vec![("maestro".to_string(), top.clone())];
    for sub in top.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let name = format!("maestro-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    let mut written = Vec::new();
    for (name, cmd) in pages {
        let file = format!("{name}.1");
        let path = dir.join(&file);
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut out)
            .map_err(|e| io(&file, e))?;
        std::fs::write(&path, out).map_err(|e| io(&path.display().to_string(), e))?;
        written.push(file);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_per_command_with_its_flags() {
        let dir = std::env::temp_dir().join(format!("maestro-man-{}", std::process::id()));
        let files = super::write_pages(&dir).expect("pages");
        assert!(files.contains(&"maestro.1".to_string()));
        assert!(files.contains(&"maestro-restart.1".to_string()));
        assert!(!files.iter().any(|f| f == "maestro-help.1"));
        let restart = std::fs::read_to_string(dir.join("maestro-restart.1")).expect("read");
        assert!(
            restart.starts_with(".ie") || restart.contains(".TH maestro-restart"),
            "{restart}"
        );
        assert!(restart.contains("step\\-delay"), "{restart}");
        let top = std::fs::read_to_string(dir.join("maestro.1")).expect("read");
        assert!(top.contains("deptree"), "{top}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
