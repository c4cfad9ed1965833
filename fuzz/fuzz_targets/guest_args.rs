//! The guest's command line: NUL-separated arguments, any bytes.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let args = data.split(|b| *b == 0).map(|a| OsString::from_vec(a.to_vec()));
    let _ = maestro_guest::args::parse(args);
});
