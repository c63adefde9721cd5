//! The commands: each turns parsed arguments into work and an exit code. Errors that stop a
//! command before any check ran print to stderr and give [`exit::USAGE`].

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::check::{CATALOG, Check, Scope, Stage};
use crate::cli::{Cli, Command, RunArgs};
use crate::exit;
use crate::probe::dns::Dns;
use crate::probe::net::NetOptions;
use crate::report::{Format, RenderOptions, reporter};
use crate::runner::{RunConfig, run};
use crate::scenario::{self, Scenario};

pub fn main(cli: Cli) -> u8 {
    match cli.command {
        Command::Run(args) => run_command(*args),
        Command::List { profile } => list(profile.as_deref()),
        Command::Explain { id } => explain(&id),
        Command::Validate { files } => validate(&files),
    }
}

fn fatal(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

/// The scenarios a run applies: the profile (or `default`), then each `-s` file.
fn load_scenarios(profile: Option<&str>, files: &[PathBuf]) -> Result<Vec<Scenario>, String> {
    let mut scenarios = Vec::new();
    if profile.is_some() || files.is_empty() {
        scenarios.push(scenario::builtin(profile.unwrap_or("default")).map_err(|e| e.to_string())?);
    }
    for file in files {
        scenarios.push(scenario::load_file(file).map_err(|e| e.to_string())?);
    }
    Ok(scenarios)
}

/// A report file to write after the run, created before it so a bad path costs nothing.
struct OutputFile {
    format: Format,
    path: PathBuf,
    file: File,
}

fn create_outputs(args: &RunArgs) -> Result<Vec<OutputFile>, String> {
    let wanted = [
        (Format::Json, &args.json),
        (Format::Junit, &args.junit),
        (Format::Markdown, &args.markdown),
    ];
    wanted
        .into_iter()
        .filter_map(|(format, path)| path.as_ref().map(|path| (format, path)))
        .map(|(format, path)| {
            File::create(path)
                .map(|file| OutputFile {
                    format,
                    path: path.clone(),
                    file,
                })
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        })
        .collect()
}

fn check_readable(path: &Path) -> Result<(), String> {
    std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|m| {
            if m.is_file() {
                Ok(())
            } else {
                Err(format!("{} is not a file", path.display()))
            }
        })
}

fn color_wanted(no_color: bool) -> bool {
    !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

fn run_command(args: RunArgs) -> u8 {
    let scenarios = match load_scenarios(args.profile.as_deref(), &args.scenarios) {
        Ok(scenarios) => scenarios,
        Err(message) => {
            eprintln!("{message}");
            return exit::USAGE;
        }
    };
    let mut plan = match scenario::plan(&scenarios, &args.only, &args.skip) {
        Ok(plan) => plan,
        Err(err) => {
            eprintln!("{err}");
            return exit::USAGE;
        }
    };
    if plan.checks.is_empty() {
        return fatal("no check selected (see `mailcheck list`, --only and --skip)");
    }
    if let Some(path) = &args.ca_file
        && let Err(message) = check_readable(path)
    {
        return fatal(message);
    }
    if let Some(relay) = &args.relay_domain {
        plan.settings.relay_domain = Some(relay.trim_end_matches('.').to_ascii_lowercase());
    }
    let mut outputs = match create_outputs(&args) {
        Ok(outputs) => outputs,
        Err(message) => return fatal(message),
    };
    let timeout = Duration::from_secs_f64(args.timeout);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fatal(format!("cannot start the async runtime: {e}")),
    };
    let report = runtime.block_on(async {
        let dns = Dns::new(&args.resolver, timeout)?;
        let config = RunConfig {
            checks: plan.checks,
            settings: plan.settings,
            net: NetOptions { timeout, bind: args.bind },
            dns,
            ports: plan.ports,
            concurrency: usize::from(args.concurrency),
            parallel_targets: usize::from(args.concurrency),
            domain: args.domain.as_ref().map(|d| d.trim_end_matches('.').to_ascii_lowercase()),
        };
        if args.output.verbose {
            eprintln!(
                "mailcheck: {} check(s) on {} target(s), timeout {:.1} s, {} connection(s) per target, DNS via {}",
                config.checks.len(),
                args.targets.len(),
                timeout.as_secs_f64(),
                config.concurrency,
                config.dns.servers
            );
        }
        Ok::<_, String>(run(&args.targets, &config).await)
    });
    let report = match report {
        Ok(report) => report,
        Err(message) => return fatal(message),
    };
    // Close sockets the runtime still holds before printing.
    runtime.shutdown_timeout(Duration::from_millis(200));

    let options = RenderOptions {
        color: color_wanted(args.output.no_color) && args.format == crate::cli::FormatArg::Text,
        verbose: args.output.verbose,
        quiet: args.output.quiet,
        secrets: Vec::new(),
    };
    let mut code = if report
        .targets
        .iter()
        .any(|t| t.is_failing(args.fail_on, args.min_score))
    {
        exit::CHECK_FAILED
    } else {
        exit::OK
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = reporter(args.format.into())
        .render(&report, &options, &mut out)
        .and_then(|()| out.flush());
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the report to stdout: {e}");
        code = exit::USAGE;
    }
    let file_options = RenderOptions {
        color: false,
        ..options
    };
    for output in &mut outputs {
        let written = reporter(output.format)
            .render(&report, &file_options, &mut output.file)
            .and_then(|()| output.file.flush());
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", output.path.display());
            code = exit::USAGE;
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

fn list(profile: Option<&str>) -> u8 {
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
    let width = checks
        .iter()
        .map(|(c, _)| c.info().id.len())
        .max()
        .unwrap_or(0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
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

fn explain(id: &str) -> u8 {
    let Some(check) = crate::check::find(id) else {
        let hint = crate::check::suggest(id)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return fatal(format!(
            "unknown check id {id:?}{hint}; `mailcheck list` shows them all"
        ));
    };
    let info = check.info();
    println!("{} — {}", info.id, info.title);
    println!(
        "severity: {}   category: {}   ports: {}{}",
        info.severity,
        info.category,
        ports_of(check),
        if info.opt_in { "   (opt-in)" } else { "" }
    );
    println!("\nWhat it checks:\n{}", wrap(info.what, 78, "  "));
    println!("\nWhy it matters:\n{}", wrap(info.why, 78, "  "));
    println!("\nHow to fix:\n{}", wrap(info.fix, 78, "  "));
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
    fn wrap_keeps_within_width() {
        let text = "word ".repeat(50);
        for line in wrap(&text, 30, "  ").lines() {
            assert!(line.len() <= 30, "{line:?}");
            assert!(line.starts_with("  "));
        }
    }
}
