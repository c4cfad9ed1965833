//! `maestro status`: one container list request per ship (ships in
//! parallel, at most `-c` at once), one row per instance in dependency
//! order, MaestroNG's columns; `-F` adds the image and whether each port
//! answers as two more columns, `-H` shows
//! ship addresses, `--format json` prints one object per instance per line.
//! Exit 0 when every selected instance runs, 1 when any is down, absent or
//! on a ship that did not answer, 2 on errors.

use super::orchestrate::{clients, request};
use crate::cli::{GlobalArgs, StatusArgs, StatusFormat};
use crate::plan::observe::{Seen, observe_limited, probe_ports};
use crate::plan::selection::{self, Command};
use crate::render::status::{self as view, StatusLine, TableOptions};

pub fn run(global: &GlobalArgs, args: &StatusArgs) -> i32 {
    let loaded = match super::load(global) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let env = &loaded.env;
    let selected =
        match selection::select(env, Command::Status, &request(&args.selection, true, true)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("maestro: {}", e.message());
                return e.exit_code();
            }
        };
    let order = match super::dump::ordered_instances(env, &[]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("maestro: {e}");
            return 2;
        }
    };
    let dockers = clients(env, &selected);
    // `-c`: list requests in flight at once (0: every ship at once).
    let observed = observe_limited(env, &selected, &dockers, args.selection.concurrency);
    let mut lines: Vec<StatusLine<'_>> = order
        .iter()
        .filter(|n| selected.contains(*n))
        .filter_map(|n| {
            let instance = env.instances.get(n)?;
            Some(StatusLine {
                instance,
                host: env.ships.get(&instance.ship).map_or("", |s| s.ip.as_str()),
                seen: observed.get(n),
                ports: Vec::new(),
            })
        })
        .collect();
    if args.full || args.format == StatusFormat::Json {
        let targets: Vec<_> = lines
            .iter()
            .map(|l| (l.host, l.instance, l.running()))
            .collect();
        for (line, ports) in lines.iter_mut().zip(probe_ports(&targets)) {
            line.ports = ports;
        }
    }
    let text = match args.format {
        StatusFormat::Json => view::json_lines(&lines),
        StatusFormat::Table => view::table(
            &lines,
            TableOptions {
                show_hosts: args.show_hosts,
                full: args.full,
            },
        ),
    };
    if let Err(code) = super::print_stdout_styled(&text) {
        return code;
    }
    for l in &lines {
        if let Seen::HostDown(reason) = l.seen {
            eprintln!("maestro: {}: {reason}", l.instance.name);
        }
    }
    if lines.iter().all(StatusLine::running) {
        0
    } else {
        1
    }
}
