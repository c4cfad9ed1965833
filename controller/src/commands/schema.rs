//! `maestro schema`: the JSON Schema of the environment file
//! (`config::schema`), for editors (the YAML language server) and CI.

pub fn run() -> super::CommandResult {
    let schema = crate::config::schema::schema();
    let mut text = serde_json::to_string_pretty(&schema)
        .map_err(|e| crate::exit::Failed::error(format_args!("cannot write the schema: {e}")))?;
    text.push('\n');
    super::print_stdout(&text)?;
    Ok(crate::exit::ExitStatus::Success)
}
