//! Scenarios: which checks to run, at what severity, on which ports and with which settings.
//!
//! A scenario is a small YAML file (or a built-in profile from `scenarios/`, compiled in):
//!
//! ```yaml
//! name: my-site
//! description: Our relay, checked before each change window.
//! extends: default            # start from a built-in profile
//! checks:                     # in order; later items override earlier ones
//!   - smtp.*                  # a glob: never turns on an opt-in check
//!   - smtp.vrfy.disabled: { severity: high }
//!   - smtp.size.advertised: { enabled: false }
//! ports: { smtp: 2525 }
//! settings:
//!   relay_domain: example.org
//!   retry_pause_ms: 2000
//! ```
//!
//! [`load_file`], [`load_str`] and [`builtin`] read one into a [`Scenario`] or a
//! [`ScenarioError`] that lists every problem with its file, line, column and a hint; [`plan`]
//! combines scenarios with `--only`/`--skip` into the [`Plan`] the runner executes.

mod error;
mod load;
mod model;
mod select;

pub use error::{Diagnostic, FooterKind, Location, MAX_SHOWN, ScenarioError};
pub(crate) use error::{Source, YamlKind};
pub use load::{MAX_SCENARIO_BYTES, builtin, builtin_names, load_file, load_str};
pub(crate) use load::{describe, is_null, read_bounded, size};
pub use model::{
    CheckRule, CustomDefinition, Plan, Scenario, SelectedCheck, Selector, SettingsPatch,
};
pub(crate) use select::closest;
pub use select::plan;

#[cfg(test)]
mod tests;
