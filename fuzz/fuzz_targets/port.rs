//! `maestro::fuzzing::port` on any UTF-8 text (see its invariants there).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    maestro::fuzzing::port(text);
});
