//! The commands: each turns parsed arguments into work and an exit code. Errors that stop a
//! command before any check ran print to stderr and give [`exit::USAGE`].

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::check::{CATALOG, Check, Scope, Stage};
use crate::cli::{Cli, ColorArg, Command, InfoFormat, OutputArgs, RunArgs, RunOptions};
use crate::exit;
use crate::probe::dns::Dns;
use crate::probe::net::NetOptions;
use crate::report::{Format, Lang, RenderOptions, reporter};
use crate::runner::{RunConfig, run};
use crate::scenario::{self, Scenario};

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

pub(crate) fn fatal(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

/// The scenarios a run applies: the profile (or `default`), then each `-s` file.
pub(crate) fn load_scenarios(
    profile: Option<&str>,
    files: &[PathBuf],
) -> Result<Vec<Scenario>, String> {
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
pub(crate) struct OutputFile {
    format: Format,
    path: PathBuf,
    file: File,
}

/// The report files asked for: `--json`, `--junit`, `--markdown`, `--html` and `extra`
/// (batch's `--csv`), with the option that named each.
fn wanted_files<'a>(
    options: &'a RunOptions,
    extra: &[(Format, &'a Option<PathBuf>)],
) -> Vec<(Format, &'a PathBuf)> {
    [
        (Format::Json, &options.json),
        (Format::Junit, &options.junit),
        (Format::Markdown, &options.markdown),
        (Format::Html, &options.html),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    .filter_map(|(format, path)| path.as_ref().map(|path| (format, path)))
    .collect()
}

fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// What goes to stdout: the format of the one FILE given as `-` (`--json -`), else the one of
/// `--format`, else `None` (the command's default). Two claims on stdout (two `-`, or a `-`
/// beside another explicit `--format`) are a usage error: their outputs would interleave.
pub(crate) fn stdout_format(
    options: &RunOptions,
    extra: &[(Format, &Option<PathBuf>)],
) -> Result<Option<Format>, String> {
    let dashes: Vec<Format> = wanted_files(options, extra)
        .into_iter()
        .filter(|(_, path)| is_stdout(path))
        .map(|(format, _)| format)
        .collect();
    let flag = |format: Format| match format {
        Format::Csv => "--csv".to_string(),
        other => format!("--{other}"),
    };
    let explicit = options.format.map(Format::from);
    match (dashes.as_slice(), explicit) {
        ([], explicit) => Ok(explicit),
        ([one], None) => Ok(Some(*one)),
        ([one], Some(format)) if format == *one => Ok(Some(*one)),
        ([one], Some(format)) => Err(format!(
            "{} - and --format {format} both want stdout: give {} a FILE, or leave --format out",
            flag(*one),
            flag(*one)
        )),
        ([first, second, ..], _) => Err(format!(
            "{} - and {} - both want stdout: only one report can go there",
            flag(*first),
            flag(*second)
        )),
    }
}

/// Creates the files of `--json`, `--junit`, `--markdown`, `--html` and `extra` (batch's
/// `--csv`); a `-` is stdout ([`stdout_format`]), not a file.
pub(crate) fn create_outputs(
    options: &RunOptions,
    extra: &[(Format, &Option<PathBuf>)],
) -> Result<Vec<OutputFile>, String> {
    wanted_files(options, extra)
        .into_iter()
        .filter(|(_, path)| !is_stdout(path))
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

/// `--user` with its password from `--password-env` or `--password-file` (never from argv).
fn credentials(args: &RunOptions) -> Result<Option<crate::check::Credentials>, String> {
    let Some(user) = &args.user else {
        return Ok(None);
    };
    let password = if let Some(var) = &args.password_env {
        std::env::var(var).map_err(|_| {
            format!("--password-env {var}: no such environment variable (or not UTF-8)")
        })?
    } else if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--password-file {}: {e}", path.display()))?;
        text.lines().next().unwrap_or("").to_string()
    } else {
        return Err(format!(
            "--user {user} needs --password-env VAR or --password-file FILE"
        ));
    };
    if password.is_empty() {
        return Err(format!("the password for --user {user} is empty"));
    }
    Ok(Some(crate::check::Credentials::new(user.clone(), password)))
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

/// Whether stdout gets colours: `--no-color` and `--color never|always` decide; `auto` follows
/// the environment ([`auto_color`]) and whether stdout is a terminal.
pub(crate) fn color_wanted(output: &OutputArgs) -> bool {
    match (output.no_color, output.color) {
        (true, _) | (_, ColorArg::Never) => false,
        (_, ColorArg::Always) => true,
        (_, ColorArg::Auto) => auto_color(
            |name| std::env::var_os(name),
            std::io::stdout().is_terminal(),
        ),
    }
}

/// `--color auto`, by the conventions of no-color.org and bixense.com/clicolors (as anstream
/// reads them): a set, non-`0` CLICOLOR_FORCE forces colours even into a pipe; else a
/// non-empty NO_COLOR or CLICOLOR=0 turns them off; else colours on a terminal only.
pub(crate) fn auto_color(env: impl Fn(&str) -> Option<std::ffi::OsString>, terminal: bool) -> bool {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    if set("NO_COLOR").is_some() || env("CLICOLOR").is_some_and(|v| v == "0") {
        return false;
    }
    terminal
}

/// What `ci` adds to `default`: a test mailbox is required. Without one the `e2e.*` checks
/// skip, and a pipeline whose mail stopped flowing would stay green.
const CI_NEEDS_MAILBOX: &str = "error: the `ci` profile needs a test mailbox: --user USER with \
     --password-env VAR or --password-file FILE (without one the e2e.* checks would skip and a \
     broken mail flow would pass); leave them out with --skip 'e2e.*', or use -p default";

/// Whether `scenario` is the built-in `ci` profile or extends it (directly or further up).
fn uses_ci_profile(scenario: &Scenario) -> bool {
    scenario.origin == "built-in profile ci"
        || scenario.extends.as_deref().is_some_and(uses_ci_profile)
}

/// Connections in flight per target when `--concurrency` does not say.
pub(crate) const CONNECTIONS_PER_TARGET: usize = 4;

/// The run options, checked and turned into what the runner needs, before anything connects.
/// `run` prepares once; `batch` once per distinct set of student options.
pub(crate) struct Prepared {
    pub checks: Vec<crate::runner::SelectedCheck>,
    pub settings: crate::check::Settings,
    pub ports: std::collections::BTreeMap<crate::check::Role, u16>,
    pub net: NetOptions,
    /// Passwords, scrubbed from every report.
    pub secrets: Vec<String>,
    /// DNSSEC trust anchors of `--trust-anchor` (default: the IANA root key).
    pub anchors: Option<crate::probe::dnssec::Anchors>,
    /// The `ci` profile without a test mailbox: `run` refuses it ([`CI_NEEDS_MAILBOX`]);
    /// `batch` lets such students skip the e2e checks, as in `default`.
    pub ci_without_mailbox: bool,
}

/// Everything `run` and `batch` check about their options before the network: scenarios, the
/// plan, files, credentials. The error is the full text to print (`error: ...` or a scenario's
/// located diagnostics).
pub(crate) fn prepare(options: &RunOptions) -> Result<Prepared, String> {
    let scenarios = load_scenarios(options.profile.as_deref(), &options.scenarios)?;
    let mut plan =
        scenario::plan(&scenarios, &options.only, &options.skip).map_err(|e| e.to_string())?;
    if plan.checks.is_empty() {
        return Err("error: no check selected (see `mailcheck list`, --only and --skip)".into());
    }
    for (family, v4) in [("IPv4", true), ("IPv6", false)] {
        if options.bind.iter().filter(|ip| ip.is_ipv4() == v4).count() > 1 {
            return Err(format!(
                "error: --bind takes one {family} address at most (one per address family)"
            ));
        }
    }
    if let Some(path) = &options.ca_file {
        check_readable(path).map_err(|m| format!("error: {m}"))?;
        // Loaded once per run; every tls.cert.* check shares it.
        let store =
            crate::check::TrustStore::with_ca_file(path).map_err(|m| format!("error: {m}"))?;
        plan.settings.tls.trust = std::sync::Arc::new(store);
    }
    let anchors = match &options.trust_anchor {
        Some(path) => {
            check_readable(path).map_err(|m| format!("error: {m}"))?;
            plan.settings.trust_anchor = Some(path.clone());
            Some(
                crate::probe::dnssec::Anchors::from_file(path)
                    .map_err(|m| format!("error: {m}"))?,
            )
        }
        None => None,
    };
    if let Some(relay) = &options.relay_domain {
        plan.settings.relay_domain = Some(relay.trim_end_matches('.').to_ascii_lowercase());
    }
    // The command line wins over the scenario.
    if let Some(name) = &options.helo_name {
        plan.settings.smtp.helo_name = Some(name.clone());
    }
    if !options.dkim_selectors.is_empty() {
        plan.settings.dkim_selectors = options.dkim_selectors.clone();
    }
    if !options.dnsbl.is_empty() {
        plan.settings.dnsbl = options.dnsbl.clone();
    }
    plan.settings.credentials = credentials(options).map_err(|m| format!("error: {m}"))?;
    let ci_without_mailbox = plan.settings.credentials.is_none()
        && scenarios.iter().any(uses_ci_profile)
        && plan
            .checks
            .iter()
            .any(|c| c.check.info().id.starts_with("e2e."));
    let secrets: Vec<String> = plan
        .settings
        .credentials
        .iter()
        .map(|c| c.password().to_string())
        .collect();
    Ok(Prepared {
        checks: plan.checks,
        settings: plan.settings,
        ports: plan.ports,
        net: NetOptions {
            timeout: Duration::from_secs_f64(options.timeout),
            bind: options.bind.clone(),
        },
        secrets,
        anchors,
        ci_without_mailbox,
    })
}

impl Prepared {
    /// The runner's configuration; needs the async runtime (the DNS client lives in it).
    pub(crate) fn config(
        self,
        options: &RunOptions,
        connections: usize,
        parallel_targets: usize,
    ) -> Result<RunConfig, String> {
        let mut dns = Dns::new(&options.resolver, self.net.timeout)?;
        let target_budget = options.target_budget.map_or(
            self.net.timeout * crate::runner::BUDGET_TIMEOUTS,
            Duration::from_secs_f64,
        );
        if let Some(anchors) = self.anchors {
            dns = dns.with_trust_anchors(anchors);
        }
        Ok(RunConfig {
            checks: self.checks,
            settings: self.settings,
            net: self.net,
            dns,
            ports: self.ports,
            concurrency: connections,
            parallel_targets,
            domain: options.domain.as_deref().map(normalize_domain),
            target_budget,
        })
    }
}

/// `Example.ORG.` → `example.org`.
pub(crate) fn normalize_domain(domain: &str) -> String {
    domain.trim_end_matches('.').to_ascii_lowercase()
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
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

/// Prints the report to stdout in `format`, writes the output files, and gives the exit code.
pub(crate) fn write_reports(
    report: &crate::outcome::Report,
    format: Format,
    options: &RenderOptions,
    outputs: &mut [OutputFile],
    failing: bool,
) -> u8 {
    let mut code = if failing {
        exit::CHECK_FAILED
    } else {
        exit::OK
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = reporter(format)
        .render(report, options, &mut out)
        .and_then(|()| out.flush());
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the report to stdout: {e}");
        code = exit::USAGE;
    }
    if !write_files(report, options, outputs) {
        code = exit::USAGE;
    }
    code
}

/// Writes the report into the files of `--json`, `--junit`, ...; false when one could not be
/// written (said on stderr).
fn write_files(
    report: &crate::outcome::Report,
    options: &RenderOptions,
    outputs: &mut [OutputFile],
) -> bool {
    let file_options = RenderOptions {
        color: false,
        ..options.clone()
    };
    let mut all = true;
    for output in outputs {
        let written = reporter(output.format)
            .render(report, &file_options, &mut output.file)
            .and_then(|()| output.file.flush());
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", output.path.display());
            all = false;
        }
    }
    all
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
