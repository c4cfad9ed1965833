//! A whole environment file from bytes: UTF-8, template, YAML, validation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Includes and envfiles resolve in an empty folder.
    let dir = std::env::temp_dir().join("maestro-fuzz-empty");
    let _ = std::fs::create_dir_all(&dir);
    maestro::fuzzing::environment(data, &dir);
});
