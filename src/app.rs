//! The commands: each turns parsed arguments into work and an exit code. Errors that stop a
//! command before any check ran print to stderr and give [`exit::USAGE`].

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::check::{CATALOG, Check, Scope, Stage};
use crate::cli::{Cli, Command, InfoFormat, RunArgs};
use crate::exit;
use crate::report::{Format, Lang, RenderOptions};
use crate::runner::run;
use crate::scenario;

use crate::exit::fatal;
use crate::pipeline::*;

pub fn main(cli: Cli) -> u8 {
    match cli.command {
        Command::Run(args) => run_command(*args),
        Command::List { profile, format } => list(profile.as_deref(), format),
        Command::Batch(args) => crate::batch::command(*args),
        Command::Explain { id, lang, format } => explain(&id, lang.into(), format),
        Command::Validate { files } => validate(&files),
        Command::Diff(args) => crate::baseline::command(args),
        Command::Merge(args) => crate::merge::command(*args),
        Command::Init { file } => crate::init::command(&file),
        Command::Completions { shell } => crate::shell::completions(shell),
        Command::Man { dir } => crate::shell::man(dir.as_deref()),
    }
}

fn run_command(args: RunArgs) -> u8 {
    let RunArgs { targets, options } = args;
    let prepared = match prepare(&options) {
        Ok(prepared) if prepared.ci_without_mailbox => {
            eprintln!("{CI_NEEDS_MAILBOX}");
            return exit::USAGE;
        }
        Ok(prepared) => prepared,
        Err(message) => {
            eprintln!("{message}");
            return exit::USAGE;
        }
    };
    let format = match stdout_format(&options, &[]) {
        Ok(format) => format.unwrap_or(Format::Text),
        Err(message) => return fatal(message),
    };
    let mut outputs = match create_outputs(&options, &[]) {
        Ok(outputs) => outputs,
        Err(message) => return fatal(message),
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(message) => return fatal(message),
    };
    let secrets = prepared.secrets.clone();
    // In `run`, --concurrency bounds both: connections per target and targets in flight.
    let parallel = options
        .concurrency
        .map_or(CONNECTIONS_PER_TARGET, usize::from);
    let report = runtime.block_on(async {
        let config = prepared.config(&options, parallel, parallel)?;
        if options.output.verbose {
            eprintln!(
                "mailcheck: {} check(s) on {} target(s), timeout {:.1} s, budget {:.1} s per target, {} connection(s) per target, DNS via {}",
                config.checks.len(),
                targets.len(),
                config.net.timeout.as_secs_f64(),
                config.target_budget.as_secs_f64(),
                config.concurrency,
                config.dns.servers
            );
        }
        Ok::<_, String>(run(&targets, &config).await)
    });
    let report = match report {
        Ok(report) => report,
        Err(message) => return fatal(message),
    };
    // Close sockets the runtime still holds before printing.
    runtime.shutdown_timeout(Duration::from_millis(200));

    let render = RenderOptions {
        color: color_wanted(&options.output) && format == Format::Text,
        verbose: options.output.verbose,
        quiet: options.output.quiet,
        secrets,
        lang: options.lang.into(),
        scale: None,
        width: crate::report::terminal_width(),
    };
    // Nothing could be checked (no target resolved, or none is a host name): one line each,
    // the usage exit code, nothing on stdout; the report files still say what happened.
    let unchecked: Vec<&str> = report
        .targets
        .iter()
        .filter_map(|t| t.error.as_deref())
        .collect();
    if !unchecked.is_empty() && unchecked.len() == report.targets.len() {
        for problem in unchecked {
            eprintln!("error: {problem}: nothing was checked");
        }
        write_files(&report, &render, &mut outputs);
        return exit::USAGE;
    }
    let failing = report
        .targets
        .iter()
        .any(|t| t.is_failing(options.fail_on, options.min_score));
    let code = write_reports(&report, format, &render, &mut outputs, failing);
    for target in &report.targets {
        if let Some(why) = target.below_min_score(options.min_score) {
            eprintln!("mailcheck: {}: {why}", target.display_name());
        }
    }
    code
}

fn ports_of(check: &dyn Check) -> String {
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

fn list(profile: Option<&str>, format: InfoFormat) -> u8 {
    let checks: Vec<(&'static dyn Check, crate::outcome::Severity)> = match profile {
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

/// Wraps prose to `width` columns with an indent.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines.join("\n")
}

/// A check's catalog entry as JSON (`list --format json`, `explain --format json`): the
/// severity is the profile's when listed for one; `texts` adds what/why/fix in `lang`.
fn check_json(
    info: &crate::check::CheckInfo,
    severity: crate::outcome::Severity,
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

fn explain(id: &str, lang: Lang, format: InfoFormat) -> u8 {
    let Some(check) = crate::check::find(id) else {
        let hint = crate::check::suggest(id)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return fatal(format!(
            "unknown check id {id:?}{hint}; `mailcheck list` shows them all"
        ));
    };
    let info = check.info();
    if format == InfoFormat::Json {
        let entry = check_json(info, info.severity, Some(lang));
        let _ = writeln!(std::io::stdout().lock(), "{entry:#}");
        return exit::OK;
    }
    let (title, fix) = crate::report::check_texts(info, lang);
    let mut text = format!("{} — {title}\n", info.id);
    text.push_str(&format!(
        "{} {}   {} {}   ports: {}{}\n",
        lang.tr("severity:", "sévérité :"),
        lang.severity(info.severity),
        lang.tr("category:", "catégorie :"),
        info.category,
        ports_of(check),
        if info.opt_in { "   (opt-in)" } else { "" }
    ));
    // Only the title and the fix have a French text; the rest says it is in English.
    let what = lang.tr("What it checks:", "Ce qui est vérifié (en anglais) :");
    let why = lang.tr("Why it matters:", "Pourquoi c'est important (en anglais) :");
    let how = lang.tr("How to fix:", "Comment corriger :");
    text.push_str(&format!("\n{what}\n{}\n", wrap(info.what, 78, "  ")));
    text.push_str(&format!("\n{why}\n{}\n", wrap(info.why, 78, "  ")));
    text.push_str(&format!("\n{how}\n{}\n", wrap(fix, 78, "  ")));
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    exit::OK
}

fn validate(files: &[PathBuf]) -> u8 {
    let mut code = exit::OK;
    for file in files {
        let checked = scenario::load_file(file).and_then(|s| {
            let count = scenario::plan(std::slice::from_ref(&s), &[], &[])?
                .checks
                .len();
            Ok(count)
        });
        match checked {
            Ok(count) => println!("ok: {} ({count} checks)", file.display()),
            Err(err) => {
                eprintln!("{err}\n");
                code = exit::USAGE;
            }
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_color_follows_clicolor_force_then_no_color_then_the_terminal() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| std::ffi::OsString::from(value))
            }
        };
        assert!(auto_color(env(&[]), true));
        assert!(!auto_color(env(&[]), false));
        assert!(!auto_color(env(&[("NO_COLOR", "1")]), true));
        assert!(
            auto_color(env(&[("NO_COLOR", "")]), true),
            "an empty NO_COLOR is unset"
        );
        assert!(!auto_color(env(&[("CLICOLOR", "0")]), true));
        assert!(auto_color(env(&[("CLICOLOR_FORCE", "1")]), false));
        assert!(auto_color(
            env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
            false
        ));
        assert!(!auto_color(env(&[("CLICOLOR_FORCE", "0")]), false));
        assert!(!auto_color(env(&[("CLICOLOR_FORCE", "")]), false));
    }

    #[test]
    fn the_helo_name_flag_wins_over_the_scenario() {
        use clap::Parser;
        let options = |args: &[&str]| {
            let mut argv = vec!["mailcheck", "run", "x.example"];
            argv.extend_from_slice(args);
            match Cli::parse_from(argv).command {
                Command::Run(run) => run.options,
                _ => unreachable!(),
            }
        };
        let prepared = prepare(&options(&["--helo-name", "Probe.Example.NET."])).unwrap();
        assert_eq!(
            prepared.settings.smtp.helo_name.as_deref(),
            Some("probe.example.net")
        );
        let prepared = prepare(&options(&[])).unwrap();
        assert_eq!(prepared.settings.smtp.helo_name, None);
    }

    #[test]
    fn wrap_keeps_within_width() {
        let text = "word ".repeat(50);
        for line in wrap(&text, 30, "  ").lines() {
            assert!(line.len() <= 30, "{line:?}");
            assert!(line.starts_with("  "));
        }
    }
}
