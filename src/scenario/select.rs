//! From scenarios to a [`Plan`]: which checks run, at what severity, on which ports, with which
//! settings.
//!
//! Scenarios apply in order, each after the profile it `extends:`; within a scenario, `checks:`
//! items apply top to bottom, so a later item overrides an earlier one. A glob never turns on an
//! opt-in check (only its exact id does), so `smtp.*` stays safe as new intrusive checks appear.
//! `--only` then keeps the selected checks that match any of its globs and `--skip` removes those
//! that match one of its globs.

use std::collections::BTreeMap;

use super::error::{Diagnostic, ScenarioError};
use super::model::SelectedCheck;
use super::model::{CustomDefinition, Plan, Scenario, Selector};
use crate::check::{CATALOG, Check, CustomCheck, CustomSpec, Role, Settings};
use crate::outcome::Severity;

/// The checks a scenario is validated and planned against (the real [`CATALOG`] outside tests).
pub(crate) type Catalog = &'static [&'static dyn Check];

/// Combines `scenarios` (in order) and the command line's `--only`/`--skip` globs into a plan.
pub fn plan(
    scenarios: &[Scenario],
    only: &[String],
    skip: &[String],
) -> Result<Plan, ScenarioError> {
    plan_with(CATALOG, scenarios, only, skip)
}

pub(crate) fn plan_with(
    catalog: Catalog,
    scenarios: &[Scenario],
    only: &[String],
    skip: &[String],
) -> Result<Plan, ScenarioError> {
    let mut problems = Vec::new();
    let custom = custom_checks(scenarios, &mut problems);
    let custom_ids: Vec<&str> = custom.iter().map(|spec| spec.id.as_str()).collect();
    let mut command_line = |flag: &str, globs: &[String]| -> Vec<Selector> {
        let mut selectors = Vec::new();
        for glob in globs {
            match selector_problem(catalog, &custom_ids, glob, false) {
                Ok(selector) => selectors.push(selector),
                Err(diagnostic) => {
                    let Diagnostic {
                        message,
                        location,
                        label: _,
                        footer,
                    } = *diagnostic;
                    let message = format!("{flag}: {message}");
                    problems.push(Diagnostic {
                        message,
                        location,
                        label: None,
                        footer,
                    });
                }
            }
        }
        selectors
    };
    let only = command_line("--only", only);
    let skip = command_line("--skip", skip);
    if !problems.is_empty() {
        return Err(ScenarioError::new(problems));
    }

    let mut selection = Selection {
        catalog,
        enabled: vec![false; catalog.len()],
        severity: vec![None; catalog.len()],
        ports: Role::ALL
            .into_iter()
            .map(|role| (role, role.default_port()))
            .collect(),
        settings: Settings::default(),
    };
    for scenario in scenarios {
        selection.apply(scenario);
    }

    let wanted = |id: &str| {
        (only.is_empty() || only.iter().any(|s| s.matches(id)))
            && !skip.iter().any(|s| s.matches(id))
    };
    let mut checks: Vec<SelectedCheck> = catalog
        .iter()
        .zip(selection.enabled)
        .zip(selection.severity)
        .filter(|((_, enabled), _)| *enabled)
        .map(|((check, _), severity)| (*check, severity))
        .filter(|(check, _)| wanted(check.info().id))
        .map(|(check, severity)| SelectedCheck {
            check,
            severity: severity.unwrap_or(check.info().severity),
        })
        .collect();
    // Custom checks run after the catalog's, in the order the scenarios define them.
    for spec in custom {
        if wanted(&spec.id) {
            let severity = spec.severity;
            checks.push(SelectedCheck {
                check: CustomCheck::leak(spec),
                severity,
            });
        }
    }
    Ok(Plan {
        checks,
        ports: selection.ports,
        settings: selection.settings,
    })
}

/// The state scenarios are applied to, check by check in catalog order.
struct Selection {
    catalog: Catalog,
    enabled: Vec<bool>,
    /// `None`: the catalog's severity.
    severity: Vec<Option<Severity>>,
    ports: BTreeMap<Role, u16>,
    settings: Settings,
}

impl Selection {
    fn apply(&mut self, scenario: &Scenario) {
        if let Some(base) = &scenario.extends {
            self.apply(base);
        }
        for rule in &scenario.checks {
            for (index, check) in self.catalog.iter().enumerate() {
                let info = check.info();
                if !rule.selector.matches(info.id) {
                    continue;
                }
                // A glob may switch an opt-in check off or change its severity, never on.
                if !(rule.enabled && info.opt_in && rule.selector.is_glob()) {
                    self.enabled[index] = rule.enabled;
                }
                if let Some(severity) = rule.severity {
                    self.severity[index] = Some(severity);
                }
            }
        }
        self.ports
            .extend(scenario.ports.iter().map(|(role, port)| (*role, *port)));
        scenario.settings.apply_to(&mut self.settings);
        if let Some(expect) = scenario.expect {
            self.settings.expect = expect;
        }
    }
}

/// The custom checks of `scenarios` (each after those of the profile it extends), in order; an
/// id defined by two scenarios is a problem, reported at the second.
fn custom_checks(scenarios: &[Scenario], problems: &mut Vec<Diagnostic>) -> Vec<CustomSpec> {
    fn collect<'a>(scenario: &'a Scenario, all: &mut Vec<&'a CustomDefinition>) {
        if let Some(base) = &scenario.extends {
            collect(base, all);
        }
        all.extend(&scenario.custom);
    }
    let mut all = Vec::new();
    for scenario in scenarios {
        collect(scenario, &mut all);
    }
    let mut kept: Vec<&CustomDefinition> = Vec::new();
    for definition in all {
        let id = &definition.spec.id;
        match kept.iter().find(|k| &k.spec.id == id) {
            Some(first) => {
                let place = |d: &CustomDefinition| match &d.location {
                    Some(at) => format!("{}:{}:{}", at.file, at.line, at.column),
                    None => d.spec.origin.clone(),
                };
                problems.push(
                    Diagnostic::new(format!("custom check `{id}` is defined twice"))
                        .at(definition.location.clone())
                        .label("defined again here")
                        .note(format!("first defined at {}", place(first)))
                        .help("give each custom check its own id, or pass each scenario once"),
                );
            }
            None => kept.push(definition),
        }
    }
    kept.into_iter().map(|d| d.spec.clone()).collect()
}

/// Parses a check id or glob and makes sure it means something in `catalog` or among the
/// `custom` ids of the scenarios: an id must exist, a glob must match a check (one it can turn
/// on, when `enabling`). The diagnostic has no location; the caller adds it.
pub(crate) fn selector_problem(
    catalog: Catalog,
    custom: &[&str],
    text: &str,
    enabling: bool,
) -> Result<Selector, Box<Diagnostic>> {
    let ids: Vec<&str> = catalog
        .iter()
        .map(|check| check.info().id)
        .chain(custom.iter().copied())
        .collect();
    let list_hint = "`mailcheck list` shows every check id";
    let Some(selector) = Selector::parse(text) else {
        let lower = text.trim().to_ascii_lowercase().replace('_', "-");
        let suggestion = match Selector::parse(&lower) {
            Some(fixed) if ids.iter().any(|id| fixed.matches(id)) => Some(lower.clone()),
            _ => suggest_selector(&ids, &lower),
        };
        let diagnostic =
            Diagnostic::new(format!("`{text}` is not a check id or glob")).label("not a check id");
        return Err(Box::new(match suggestion {
            Some(suggestion) => diagnostic.help(format!("did you mean `{suggestion}`?")),
            None => diagnostic.note(
                "ids are lowercase letters, digits, `.` and `-`; globs add the wildcards `*` and `?`",
            ),
        }));
    };
    let matched: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| selector.matches(id))
        .collect();
    if !selector.is_glob() && matched.is_empty() {
        let diagnostic =
            Diagnostic::new(format!("unknown check `{text}`")).label("not in the check catalog");
        return Err(Box::new(match suggest_selector(&ids, text) {
            Some(suggestion) => diagnostic.help(format!("did you mean `{suggestion}`?")),
            None => diagnostic.help(list_hint),
        }));
    }
    if matched.is_empty() {
        let diagnostic =
            Diagnostic::new(format!("`{text}` matches no check")).label("matches nothing");
        return Err(Box::new(match suggest_selector(&ids, text) {
            Some(suggestion) => diagnostic.help(format!("did you mean `{suggestion}`?")),
            None => diagnostic.help(list_hint),
        }));
    }
    let opt_in = |id: &&str| {
        catalog
            .iter()
            .any(|c| c.info().id == *id && c.info().opt_in)
    };
    if enabling && selector.is_glob() && matched.iter().all(opt_in) {
        let diagnostic = Diagnostic::new(format!("`{text}` matches only opt-in checks"))
            .label("selects nothing")
            .note("a glob never turns on an opt-in check: name each one by its id")
            .help(format!(
                "write {}",
                matched
                    .iter()
                    .map(|id| format!("`- {id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        return Err(Box::new(diagnostic));
    }
    Ok(selector)
}

/// The closest check id, or glob over a family of ids (`smtp.auth.*`), to a mistyped one.
fn suggest_selector(ids: &[&str], text: &str) -> Option<String> {
    let mut candidates: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    for id in ids {
        for (index, _) in id.match_indices('.') {
            candidates.push(format!("{}.*", &id[..index]));
        }
    }
    candidates.sort();
    candidates.dedup();
    closest(text, candidates.iter().map(String::as_str)).map(str::to_string)
}

/// The candidate most similar to `word`, if any is similar enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(similarity, _)| *similarity > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}
