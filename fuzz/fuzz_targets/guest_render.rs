//! A template rendered by the guest, with a container's usual variables.
//! The host address is an IP literal: rendering never queries a resolver.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use maestro_guest::render::{Vars, render};

fuzz_target!(|text: &str| {
    let vars: Vars = [
        ("MAESTRO_ENVIRONMENT_NAME", "fuzz"),
        ("SERVICE_NAME", "web"),
        ("CONTAINER_NAME", "web-1"),
        ("CONTAINER_HOST_ADDRESS", "10.213.0.1"),
        ("DOCKER_IMAGE", "box:1"),
        ("DOCKER_TAG", "1"),
        ("WEB_INSTANCES", "web-1,web-2"),
        ("WEB_WEB_1_HOST", "10.213.0.1"),
        ("WEB_WEB_1_HTTP_PORT", "8080"),
        ("WEB_WEB_1_HTTP_INTERNAL_PORT", "80"),
        ("WEB_WEB_2_HOST", "10.213.0.2"),
        ("WEB_WEB_2_HTTP_PORT", "8081"),
        ("HTTP_PORT", "80"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let _ = render("fuzz.conf", text, Arc::new(vars));
});
