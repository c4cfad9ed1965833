//! `maestro status`: one container list request per ship (ships in
//! parallel, at most `-c` at once), one row per instance in dependency
//! order, MaestroNG's columns; `-F` adds the image and whether each port
//! answers as two more columns, `-H` shows
//! ship addresses, `--format json` prints one object per instance per line.
//! Exit 0 when every selected instance runs, 1 when any is down, absent or
//! on a ship that did not answer, 2 on errors.

use super::context::request;
use super::{CommandResult, Context};
use crate::cli::{StatusArgs, StatusFormat};
use crate::exit::ExitStatus;
use crate::plan::observe::{Seen, probe_ports};
use crate::plan::selection::Verb;
use crate::render::status::{self as view, StatusLine, TableOptions};

pub fn run(ctx: &Context, args: &StatusArgs) -> CommandResult {
    let env = ctx.env();
    let selection = ctx.select(Verb::Status, &request(&args.selection, true, true))?;
    let clients = ctx.clients(&selection);
    // `-c`: list requests in flight at once (0: every ship at once).
    let observed = ctx.observe(&selection, &clients, args.selection.concurrency);
    let mut lines: Vec<StatusLine<'_>> = selection
        .ordered
        .iter()
        .filter_map(|n| {
            let instance = env.instances.get(n)?;
            Some(StatusLine {
                instance,
                host: &instance.ship.ip,
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
    super::print_stdout_styled(&text)?;
    for l in &lines {
        if let Seen::HostDown(reason) = l.seen {
            crate::render::message::error(&format!("maestro: {}: {reason}", l.instance.name));
        }
    }
    if lines.iter().all(StatusLine::ok) {
        Ok(ExitStatus::Success)
    } else {
        Ok(ExitStatus::Failure)
    }
}
