//! `maestro deptree [-r] [things]`.

use crate::cli::{DeptreeArgs, GlobalArgs};
use crate::plan::deptree;

pub fn run(global: &GlobalArgs, args: &DeptreeArgs) -> i32 {
    let l = match super::load(global) {
        Ok(l) => l,
        Err(code) => return code,
    };
    match deptree::services_for(&l.env, &args.things) {
        Ok(services) => {
            let tree = crate::render::deptree::render(&l.env, &services, args.recursive);
            super::print_stdout(&tree).err().unwrap_or(0)
        }
        Err(msg) => {
            eprintln!("maestro: {msg}");
            2
        }
    }
}
