//! `mailcheck list [--profile P] [--format json]`: the catalog, or a profile's checks with the
//! severities it gives them.

use std::io::Write;

use crate::check::{CATALOG, Check, CheckInfo, Scope, Stage};
use crate::cli::InfoFormat;
use crate::exit;
use crate::outcome::Severity;
use crate::report::Lang;
use crate::scenario;

pub(super) fn command(profile: Option<&str>, format: InfoFormat) -> u8 {
    let checks: Vec<(&'static dyn Check, Severity)> = match profile {
        None => CATALOG.iter().map(|c| (*c, c.info().severity)).collect(),
        Some(name) => {
            let plan = scenario::builtin(name)
                .map_err(|e| e.to_string())
                .and_then(|s| {
                    scenario::plan(std::slice::from_ref(&s), &[], &[]).map_err(|e| e.to_string())
                });
            match plan {
                Ok(plan) => plan.checks.iter().map(|s| (s.check, s.severity)).collect(),
                Err(message) => {
                    eprintln!("{message}");
                    return exit::USAGE;
                }
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if format == InfoFormat::Json {
        let checks: Vec<serde_json::Value> = checks
            .iter()
            .map(|(check, severity)| check_json(check.info(), *severity, None))
            .collect();
        let listing = serde_json::json!({ "profile": profile, "checks": checks });
        let _ = writeln!(out, "{listing:#}");
        return exit::OK;
    }
    let width = checks
        .iter()
        .map(|(c, _)| c.info().id.len())
        .max()
        .unwrap_or(0);
    for (check, severity) in checks {
        let info = check.info();
        let opt_in = if info.opt_in { " (opt-in)" } else { "" };
        let _ = writeln!(
            out,
            "{:width$}  {:8}  {}{opt_in}",
            info.id,
            severity.as_str(),
            info.title
        );
    }
    exit::OK
}

/// The ports a check connects to, as `explain` shows them.
pub(super) fn ports_of(check: &dyn Check) -> String {
    let Scope::Endpoints { roles, stage } = check.info().scope else {
        return "DNS (no connection)".into();
    };
    let ports: Vec<String> = roles.iter().map(|r| r.default_port().to_string()).collect();
    let how = match stage {
        Stage::Secured => " after TLS",
        _ => "",
    };
    format!("{}{how}", ports.join(", "))
}

/// A check's catalog entry as JSON (`list --format json`, `explain --format json`): the
/// severity is the profile's when listed for one; `texts` adds what/why/fix in `lang`.
pub(super) fn check_json(
    info: &CheckInfo,
    severity: Severity,
    texts: Option<Lang>,
) -> serde_json::Value {
    let (ports, after_tls) = match info.scope {
        Scope::Endpoints { roles, stage } => (
            roles.iter().map(|r| r.default_port()).collect::<Vec<u16>>(),
            matches!(stage, Stage::Secured),
        ),
        Scope::Target => (Vec::new(), false),
    };
    let mut entry = serde_json::json!({
        "id": info.id,
        "title": info.title,
        "category": info.category,
        "severity": severity,
        "ports": ports,
        "after_tls": after_tls,
        "opt_in": info.opt_in,
    });
    if let Some(lang) = texts {
        let (title, fix) = crate::report::check_texts(info, lang);
        entry["lang"] = lang.code().into();
        entry["title"] = title.into();
        entry["what"] = info.what.into();
        entry["why"] = info.why.into();
        entry["fix"] = fix.into();
    }
    entry
}
