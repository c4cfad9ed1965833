//! `maestro deptree [-r] [things]`.

use super::{CommandResult, Context};
use crate::cli::DeptreeArgs;
use crate::exit::ExitStatus;
use crate::plan::selection::{Request, Verb};

pub fn run(ctx: &Context, args: &DeptreeArgs) -> CommandResult {
    let selection = ctx.select(Verb::Deptree, &Request::things(&args.things))?;
    let services: Vec<String> = selection.services.into_iter().collect();
    let tree = crate::render::deptree::render(ctx.env(), &services, args.recursive);
    super::print_stdout(&tree)?;
    Ok(ExitStatus::Success)
}
