//! What `run` and `batch` share around the runner: [`prepare`] before any check runs (the
//! scenarios loaded and planned, the settings, credentials, resolver and trust anchors read,
//! the report files created; a problem stops the command with [`exit::USAGE`] before anything
//! connects), and [`write_reports`] after.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{ColorArg, OutputArgs, RunOptions};
use crate::exit;
use crate::probe::dns::Dns;
use crate::probe::net::NetOptions;
use crate::report::{Format, RenderOptions, reporter};
use crate::runner::RunConfig;
use crate::scenario::{self, Scenario, ScenarioError};

/// The scenarios a run applies: the profile (or `default`), then each `-s` file.
pub(crate) fn load_scenarios(
    profile: Option<&str>,
    files: &[PathBuf],
) -> Result<Vec<Scenario>, ScenarioError> {
    let mut scenarios = Vec::new();
    if profile.is_some() || files.is_empty() {
        scenarios.push(scenario::builtin(profile.unwrap_or("default"))?);
    }
    for file in files {
        scenarios.push(scenario::load_file(file)?);
    }
    Ok(scenarios)
}

/// Why a command stops before anything connects. Each variant keeps what caused it; the text is
/// made only when it is printed ([`PrepareError::print`]) or put in a roster row's report.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Located diagnostics of a scenario file or of `--only`/`--skip`, rendered by their own
    /// `Display` (rustc style, one `error:` header per problem).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("no check selected (see `mailcheck list`, --only and --skip)")]
    NoCheckSelected,
    #[error("--bind takes one {family} address at most (one per address family)")]
    BindTwice { family: &'static str },
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a file", path.display())]
    NotAFile { path: PathBuf },
    /// `--ca-file` or `--trust-anchor` could be read but not used (the loader's own words).
    #[error("{0}")]
    Unusable(String),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// What `ci` adds to `default`: a test mailbox is required. Without one the `e2e.*` checks
    /// skip, and a pipeline whose mail stopped flowing would stay green. `run` refuses it;
    /// `batch` lets such students skip the e2e checks, as in `default`.
    #[error(
        "the `ci` profile needs a test mailbox: --user USER with --password-env VAR or \
         --password-file FILE (without one the e2e.* checks would skip and a broken mail flow \
         would pass); leave them out with --skip 'e2e.*', or use -p default"
    )]
    CiWithoutMailbox,
}

/// Why `--user` has no usable password.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("--password-env {var}: no such environment variable (or not UTF-8)")]
    NoSuchVariable {
        var: String,
        #[source]
        source: std::env::VarError,
    },
    #[error("--password-file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--user {user} needs --password-env VAR or --password-file FILE")]
    NoPasswordSource { user: String },
    #[error("the password for --user {user} is empty")]
    EmptyPassword { user: String },
}

impl PrepareError {
    /// Prints the error to stderr as a person reads it, and gives the usage exit code.
    pub(crate) fn print(&self) -> u8 {
        match self {
            PrepareError::Scenario(diagnostics) => eprintln!("{diagnostics}"),
            other => eprintln!("error: {other}"),
        }
        exit::USAGE
    }

    /// The error without its `error:` header, for one row of a class report.
    pub(crate) fn in_row(&self) -> String {
        match self {
            PrepareError::Scenario(diagnostics) => {
                let text = diagnostics.to_string();
                text.strip_prefix("error: ").unwrap_or(&text).to_string()
            }
            other => other.to_string(),
        }
    }
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
) -> Result<Option<Format>, OutputError> {
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
        ([one], Some(format)) => Err(OutputError::StdoutAndFormat {
            flag: flag(*one),
            format,
        }),
        ([first, second, ..], _) => Err(OutputError::StdoutTwice {
            first: flag(*first),
            second: flag(*second),
        }),
    }
}

/// Creates the files of `--json`, `--junit`, `--markdown`, `--html` and `extra` (batch's
/// `--csv`); a `-` is stdout ([`stdout_format`]), not a file.
pub(crate) fn create_outputs(
    options: &RunOptions,
    extra: &[(Format, &Option<PathBuf>)],
) -> Result<Vec<OutputFile>, OutputError> {
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
                .map_err(|source| OutputError::Create {
                    path: path.clone(),
                    source,
                })
        })
        .collect()
}

/// Why the report outputs cannot be set up (before anything connects).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{flag} - and --format {format} both want stdout: give {flag} a FILE, or leave --format out"
    )]
    StdoutAndFormat { flag: String, format: Format },
    #[error("{first} - and {second} - both want stdout: only one report can go there")]
    StdoutTwice { first: String, second: String },
    #[error("cannot write {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `--user` with its password from `--password-env` or `--password-file` (never from argv).
fn credentials(args: &RunOptions) -> Result<Option<crate::check::Credentials>, CredentialError> {
    let Some(user) = &args.user else {
        return Ok(None);
    };
    let password = if let Some(var) = &args.password_env {
        std::env::var(var).map_err(|source| CredentialError::NoSuchVariable {
            var: var.clone(),
            source,
        })?
    } else if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialError::Unreadable {
            path: path.clone(),
            source,
        })?;
        text.lines().next().unwrap_or("").to_string()
    } else {
        return Err(CredentialError::NoPasswordSource { user: user.clone() });
    };
    if password.is_empty() {
        return Err(CredentialError::EmptyPassword { user: user.clone() });
    }
    Ok(Some(crate::check::Credentials::new(user.clone(), password)))
}

fn check_readable(path: &Path) -> Result<(), PrepareError> {
    let metadata = std::fs::metadata(path).map_err(|source| PrepareError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    if metadata.is_file() {
        Ok(())
    } else {
        Err(PrepareError::NotAFile {
            path: path.to_path_buf(),
        })
    }
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
    /// The `ci` profile without a test mailbox: `run` refuses it ([`PrepareError::CiWithoutMailbox`]);
    /// `batch` lets such students skip the e2e checks, as in `default`.
    pub ci_without_mailbox: bool,
}

/// Everything `run` and `batch` check about their options before the network: scenarios, the
/// plan, files, credentials. The error is the full text to print (`error: ...` or a scenario's
/// located diagnostics).
pub(crate) fn prepare(options: &RunOptions) -> Result<Prepared, PrepareError> {
    let scenarios = load_scenarios(options.profile.as_deref(), &options.scenarios)?;
    let mut plan = scenario::plan(&scenarios, &options.only, &options.skip)?;
    if plan.checks.is_empty() {
        return Err(PrepareError::NoCheckSelected);
    }
    for (family, v4) in [("IPv4", true), ("IPv6", false)] {
        if options.bind.iter().filter(|ip| ip.is_ipv4() == v4).count() > 1 {
            return Err(PrepareError::BindTwice { family });
        }
    }
    if let Some(path) = &options.ca_file {
        check_readable(path)?;
        // Loaded once per run; every tls.cert.* check shares it.
        let store = crate::check::TrustStore::with_ca_file(path).map_err(PrepareError::Unusable)?;
        plan.settings.tls.trust = std::sync::Arc::new(store);
    }
    let anchors = match &options.trust_anchor {
        Some(path) => {
            check_readable(path)?;
            plan.settings.trust_anchor = Some(path.clone());
            Some(crate::probe::dnssec::Anchors::from_file(path).map_err(PrepareError::Unusable)?)
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
    plan.settings.credentials = credentials(options)?;
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

/// The async runtime could not start (threads, file descriptors).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the async runtime: {0}")]
pub struct RuntimeError(#[source] std::io::Error);

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, RuntimeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RuntimeError)
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
pub(crate) fn write_files(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};

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
}
