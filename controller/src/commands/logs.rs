pub fn run(_g: &crate::cli::GlobalArgs, _a: &crate::cli::LogsArgs) -> i32 {
    2
}
