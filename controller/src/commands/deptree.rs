//! `maestro deptree [-r] [--format text|dot|mermaid] [things]`.

use super::{CommandResult, Context};
use crate::cli::{DeptreeArgs, DeptreeFormat};
use crate::exit::ExitStatus;
use crate::plan::selection::{Request, Verb};
use crate::render::{depgraph, deptree};

pub fn run(ctx: &Context, args: &DeptreeArgs) -> CommandResult {
    let selection = ctx.select(Verb::Deptree, &Request::things(&args.things))?;
    let services: Vec<String> = selection.services.into_iter().collect();
    let text = match args.format {
        DeptreeFormat::Text => deptree::render(ctx.env(), &services, args.recursive),
        DeptreeFormat::Dot => depgraph::dot(&depgraph::graph(ctx.env(), &services)),
        DeptreeFormat::Mermaid => depgraph::mermaid(&depgraph::graph(ctx.env(), &services)),
    };
    super::print_stdout(&text)?;
    Ok(ExitStatus::Success)
}
