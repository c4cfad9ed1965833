//! One end-to-end test binary; one module per area.
mod bad_input;
mod cli;
mod config;
mod day2;
mod docker;
mod examples;
mod guest;
mod lab;
mod lifecycle;
mod lock;
mod orchestration;
mod plan;
mod ports;
mod restart;
mod up;
