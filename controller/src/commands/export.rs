//! `maestro export swarm [things] [-o FILE] [--stack NAME]`: the selected
//! instances (with their dependencies) as a Docker Swarm stack file
//! (`export::swarm`). What Swarm cannot express is a warning naming the
//! instance and the key; with `--strict` an error, and no file is written.

use std::path::Path;

use super::{CommandResult, Context};
use crate::cli::ExportSwarmArgs;
use crate::exit::{ExitStatus, Failed};
use crate::export::swarm;
use crate::plan::selection::{Request, Verb};
use crate::render::export as show;

pub fn swarm(ctx: &Context, args: &ExportSwarmArgs) -> CommandResult {
    let env = ctx.env();
    let stack = args.stack.clone().unwrap_or_else(|| env.name.clone());
    if !swarm::valid_stack_name(&stack) {
        return Err(Failed::error(format_args!(
            "--stack {stack:?}: a stack name is letters, digits, '-' and '_', starting with \
             a letter or digit"
        )));
    }
    let selection = ctx.select(Verb::Dump, &Request::things(&args.things))?;
    let options = swarm::Options {
        stack: stack.clone(),
        show_secrets: args.show_secrets,
        wait_for_dependencies: args.wait_for_dependencies,
        guest: args.guest.clone(),
        shell: args.shell.clone(),
    };
    let out = swarm::export(env, &selection.ordered, &options)
        .map_err(|refusals| Failed::failure(show::refusals(&refusals)))?;
    if args.strict && !out.findings.is_empty() {
        return Err(Failed::failure(show::strict(&out.findings)));
    }
    for f in &out.findings {
        crate::render::message::warning(show::finding(f));
    }
    let text = swarm::to_yaml(&out.stack, &stack, &env.name)
        .map_err(|e| Failed::error(format_args!("cannot write the stack as YAML: {e}")))?;
    match &args.output {
        Some(path) if path != Path::new("-") => write_file(path, &text)?,
        _ => super::print_stdout(&text)?,
    }
    Ok(ExitStatus::Success)
}

/// Writes through a temporary file beside the target, so a reader never
/// sees half a stack.
fn write_file(path: &Path, text: &str) -> Result<(), Failed> {
    let tmp = path.with_extension("maestro-tmp");
    let cannot =
        |e: std::io::Error| Failed::error(format_args!("cannot write {}: {e}", path.display()));
    std::fs::write(&tmp, text).map_err(cannot)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        cannot(e)
    })
}
