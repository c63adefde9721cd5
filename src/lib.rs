//! mailcheck: checks mail servers for conformance and hardening.
//!
//! Stages, each in its own module and unaware of the later ones: [`scenario`] (what to check),
//! [`runner`] (plans endpoints and runs [`check`]s over the [`probe`] transports, bounded in
//! connections and time), [`outcome`] (the results as data), [`report`] (one file per format).

pub mod baseline;
pub mod batch;
pub mod check;
pub mod cli;
pub mod command;
pub mod exit;
pub mod init;
pub mod jsonl;
pub mod merge;
pub mod outcome;
pub mod pipeline;
pub mod probe;
pub mod report;
pub mod roster;
pub mod runner;
pub mod scenario;
pub mod settings;
pub mod shell;
pub mod target;
