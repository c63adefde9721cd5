//! The command line (SPEC "CLI"): clap definitions, and their conversion into validated values.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::outcome::Severity;
use crate::report::{Format, Lang};
use crate::settings::value::{self, DkimSelector, DnsZone, DomainName, HeloName};
use crate::settings::{
    BIND, CA_FILE, DKIM_SELECTORS, DNSBL, HELO_NAME, PROFILE, RELAY_DOMAIN, RESOLVER, TIMEOUT,
    TRUST_ANCHOR,
};

#[derive(Parser, Debug)]
#[command(
    name = "mailcheck",
    version,
    // A repeated scalar flag: the last one wins (as in ripgrep), so a wrapper script's options
    // can be overridden by appending.
    args_override_self = true,
    about = "Checks mail servers (SMTP, IMAP, POP3, TLS, DNS, end to end) for conformance and hardening",
    long_about = "Checks mail servers for conformance and hardening: connects over SMTP (25, 587, 465), \
                  IMAP (143, 993) and POP3 (110, 995), asks DNS what the world sees (A, MX, PTR, SPF, \
                  DKIM, DMARC, blocklists), can deliver a test message end to end, and prints a scored \
                  checklist with the evidence for every verdict and a fix for every failure.",
    after_help = "Examples:\n  mailcheck run mail.example.com --relay-domain example.org\n  \
                  mailcheck run example.com --format json > report.json\n  mailcheck list\n  \
                  mailcheck explain smtp.relay.refused\n  mailcheck validate my-scenario.yaml\n  \
                  mailcheck batch class.yaml --html class.html --scale 20\n  \
                  mailcheck diff baseline.json today.json\n  mailcheck init site.yaml\n  \
                  mailcheck completions bash > /etc/bash_completion.d/mailcheck\n\n\
                  Exit codes: 0 all good, 1 a check failed, 2 usage/scenario/input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check one or more servers.
    #[command(after_help = "Examples:\n  \
        mailcheck run mail.example.com --relay-domain example.org\n  \
        mailcheck run example.com --only 'smtp.*' --skip smtp.size.advertised\n  \
        mailcheck run 192.0.2.25 --domain example.com --junit report.xml --min-score 90\n  \
        mailcheck run mail.ref.test --resolver 127.0.100.53 --bind 127.0.100.2 --relay-domain outside.test")]
    #[command(args_override_self = true)]
    Run(Box<RunArgs>),
    /// Check every student of a roster (course mode): grades, a class summary and reports.
    #[command(after_help = "Examples:\n  \
        mailcheck batch class.yaml --scale 20 --html class.html --csv grades.csv\n  \
        mailcheck batch class.csv --profile course --lang fr --junit class.xml\n  \
        mailcheck batch class.yaml --keep-going --format json > class.json\n\n\
        Roster (YAML):\n  \
        defaults: { profile: course, relay_domain: example.org }\n  \
        students:\n    \
        - { name: Alice Martin, target: mail.alice-lab.fr, domain: alice-lab.fr }\n\n\
        Roster (CSV): name,target,domain,user,password_env")]
    #[command(args_override_self = true)]
    Batch(Box<BatchArgs>),
    /// Print the check catalog: id, severity, title.
    #[command(
        after_help = "Examples:\n  mailcheck list\n  mailcheck list --profile course\n  \
        mailcheck list --format json | jq -r '.checks[] | select(.severity == \"critical\") | .id'"
    )]
    List {
        /// Only the checks a built-in profile selects.
        #[arg(short, long, value_name = "NAME")]
        profile: Option<String>,
        /// `text` (aligned columns) or `json` (an array of checks, for scripts).
        #[arg(long, value_enum, default_value = "text")]
        format: InfoFormat,
    },
    /// What a check verifies, why it matters and how to fix it.
    #[command(after_help = "Examples:\n  mailcheck explain smtp.vrfy.disabled\n  \
        mailcheck explain tls.cert.trusted --lang fr\n  mailcheck explain dns.spf --format json")]
    Explain {
        /// A check id, as `mailcheck list` shows them (the shell completions offer them).
        #[arg(value_name = "CHECK_ID", value_parser = CheckIds, hide_possible_values = true)]
        id: String,
        /// Language of the title and fix.
        #[arg(long, value_enum, default_value = "en")]
        lang: LangArg,
        /// `text` (wrapped prose) or `json` (every field of the check, for scripts).
        #[arg(long, value_enum, default_value = "text")]
        format: InfoFormat,
    },
    /// Lint scenario files without touching the network.
    #[command(after_help = "Examples:\n  mailcheck validate scenarios/default.yaml my-site.yaml")]
    Validate {
        #[arg(value_name = "SCENARIO.yaml", required = true)]
        files: Vec<PathBuf>,
    },
    /// Compare two JSON reports: per target and check, what got worse and what got better.
    #[command(after_help = "Examples:\n  \
        mailcheck run mail.example.com --json baseline.json\n  \
        mailcheck run mail.example.com --json today.json; mailcheck diff baseline.json today.json\n  \
        mailcheck diff baseline.json today.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n\n\
        Statuses rank pass, skip, warn, error, fail (best first): a result that moved down is\n\
        worse, up is better. Exit codes: 0 no regression, 1 a result got worse or a new result\n\
        is fail/error (checks at or above --fail-on), 2 a file is missing or not a mailcheck\n\
        report.")]
    Diff(DiffArgs),
    /// Join the results of several runs (the shards of a `batch --shard K/N`) into one report.
    #[command(after_help = "Examples:\n  \
        mailcheck merge shard-*.jsonl --html class.html --csv grades.csv\n  \
        mailcheck merge a.json b.json --format json > all.json\n\n\
        Each FILE is a JSON report (--json) or a JSONL file (--jsonl). Targets keep the order of\n\
        the files, then of their lines; a target in several files (same key) is taken from the\n\
        last. Exit codes: 0 no target fails, 1 one does, 2 a file is missing or not a report.")]
    Merge(Box<MergeArgs>),
    /// Write a commented starter scenario that `validate` accepts.
    #[command(
        after_help = "Examples:\n  mailcheck init\n  mailcheck init site.yaml\n  \
        mailcheck init - | less\n\nAn existing FILE is never overwritten."
    )]
    Init {
        /// Where to write it (`-`: stdout).
        #[arg(value_name = "FILE", default_value = "mailcheck.yaml")]
        file: PathBuf,
    },
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  \
        mailcheck completions bash > /etc/bash_completion.d/mailcheck\n  \
        mailcheck completions zsh > ~/.zfunc/_mailcheck\n  \
        mailcheck completions fish > ~/.config/fish/completions/mailcheck.fish\n  \
        mailcheck completions elvish >> ~/.config/elvish/rc.elv\n  \
        mailcheck completions powershell >> $PROFILE")]
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page, or write one page per subcommand to a directory.
    #[command(after_help = "Examples:\n  \
        mailcheck man | man -l -\n  \
        mailcheck man --dir /usr/local/share/man/man1 && mandb -q\n  \
        man mailcheck-run")]
    Man {
        /// Write mailcheck.1 and mailcheck-SUBCOMMAND.1 into DIR (created if needed).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `merge`: the files to join and the outputs, as in `batch`.
#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// JSON reports or JSONL files.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// What goes to stdout [default: the class summary].
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<FormatArg>,
    /// Also write the JSON report to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub json: Option<PathBuf>,
    /// Also write a JUnit XML report to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub junit: Option<PathBuf>,
    /// Also write a Markdown report to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub markdown: Option<PathBuf>,
    /// Also write the HTML report to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub html: Option<PathBuf>,
    /// Also write the grade sheet to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub csv: Option<PathBuf>,
    /// Language of the texts people read.
    #[arg(long, value_enum, default_value = "en", help_heading = "Output")]
    pub lang: LangArg,
    /// Show grades out of N points besides the score out of 100.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=1000),
        help_heading = "Output"
    )]
    pub scale: Option<u16>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `diff`: the two reports and the output format.
#[derive(Args, Debug, Clone)]
pub struct DiffArgs {
    /// The baseline: a JSON report (`--json FILE` of an earlier run); `-` reads stdin.
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The report to judge against it; `-` reads stdin.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// What goes to stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Least severity whose worse result exits 1 (as `run --fail-on`): critical, high,
    /// medium, low or info. Every change is listed either way.
    #[arg(long, value_name = "SEVERITY", default_value = "low", value_parser = parse_severity)]
    pub fail_on: Severity,
}

/// `list --format` and `explain --format`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    /// `mailcheck/diff/v1`.
    Json,
    /// For a CI job summary or a merge-request comment.
    Markdown,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Host names, addresses or mail domains to check.
    #[arg(value_name = "TARGET", required = true)]
    pub targets: Vec<String>,

    #[command(flatten)]
    pub options: RunOptions,
}

/// `batch`: the run options, applied to every student of a roster, and the class outputs.
#[derive(Args, Debug, Clone)]
pub struct BatchArgs {
    /// The roster: YAML (.yaml, .yml) or CSV (.csv, header `name,target,domain,user,password_env`).
    #[arg(value_name = "ROSTER")]
    pub roster: PathBuf,

    #[command(flatten)]
    pub options: RunOptions,

    /// Check the good rows of a roster that has bad ones; each bad row becomes a student whose
    /// results are `error`, saying why.
    #[arg(long)]
    pub keep_going: bool,
    /// Also write the grade sheet to FILE: one row per student, one column per check
    /// (`-`: stdout).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub csv: Option<PathBuf>,
    /// Show grades out of N points besides the score out of 100 (e.g. 20).
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=1000),
        help_heading = "Output"
    )]
    pub scale: Option<u16>,
    /// Also write one JSON line per target to FILE as soon as it is done (flushed): a crash or
    /// Ctrl-C loses nothing that finished.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub jsonl: Option<PathBuf>,
    /// Skip the targets already in FILE (a --jsonl file of an earlier run; a missing FILE is
    /// an empty one); their results there go into this run's reports.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Check only shard K of N (0 <= K < N): the targets whose key hashes to K, the same
    /// share on every machine; `mailcheck merge` joins the shards' reports.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::jsonl::Shard>,
}

/// The options of `run` and `batch` (SPEC "Options of `run` and `batch`").
#[derive(Args, Debug, Clone)]
pub struct RunOptions {
    /// A YAML scenario (repeatable; applied in order).
    #[arg(help_heading = "Selection")]
    #[arg(short, long = "scenario", value_name = "FILE")]
    pub scenarios: Vec<PathBuf>,
    #[arg(help_heading = "Selection")]
    #[arg(short, long = PROFILE.long(), value_name = "NAME", help = PROFILE.help(),
          long_help = PROFILE.long_help(), env = PROFILE.env_var())]
    pub profile: Option<String>,

    /// What goes to stdout [default: text; in `batch`: the class summary].
    #[arg(help_heading = "Output")]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Also write the JSON report to FILE (`-`: to stdout, instead of --format's).
    #[arg(help_heading = "Output")]
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a JUnit XML report to FILE (`-`: stdout).
    #[arg(help_heading = "Output")]
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a Markdown report to FILE (e.g. $GITHUB_STEP_SUMMARY; `-`: stdout).
    #[arg(help_heading = "Output")]
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write a self-contained HTML report to FILE (`-`: stdout): in `run`, a section per
    /// target (the matrix first when there are several); in `batch`, the class figures and
    /// matrix, then a page per student to print and hand back.
    #[arg(help_heading = "Output")]
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Language of the texts people read: headings, statuses, titles and fixes.
    #[arg(help_heading = "Output")]
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,

    /// Mail domain for DNS-based parts when it can't be derived from TARGET.
    #[arg(help_heading = "Network and DNS")]
    #[arg(long, value_name = "DOMAIN", value_parser = value::canonical::<DomainName>)]
    pub domain: Option<String>,
    #[arg(help_heading = "Network and DNS")]
    #[arg(long = RESOLVER.long(), value_name = "IP[:PORT]", value_parser = value::resolver,
          help = RESOLVER.help(), long_help = RESOLVER.long_help(), env = RESOLVER.env_var(),
          value_delimiter = ',')]
    pub resolver: Vec<SocketAddr>,
    #[arg(help_heading = "Network and DNS")]
    #[arg(long = CA_FILE.long(), value_name = "PEM", help = CA_FILE.help(),
          long_help = CA_FILE.long_help(), env = CA_FILE.env_var())]
    pub ca_file: Option<PathBuf>,
    #[arg(help_heading = "Network and DNS")]
    #[arg(long = TRUST_ANCHOR.long(), value_name = "FILE", help = TRUST_ANCHOR.help(),
          long_help = TRUST_ANCHOR.long_help(), env = TRUST_ANCHOR.env_var())]
    pub trust_anchor: Option<PathBuf>,
    /// Test mailbox for login and end-to-end checks (e.g. test@example.com).
    #[arg(help_heading = "Credentials")]
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Environment variable holding the password of --user (never pass it in argv).
    #[arg(help_heading = "Credentials")]
    #[arg(
        long,
        value_name = "VAR",
        conflicts_with = "password_file",
        requires = "user"
    )]
    pub password_env: Option<String>,
    /// File whose first line is the password of --user.
    #[arg(help_heading = "Credentials")]
    #[arg(long, value_name = "FILE", requires = "user")]
    pub password_file: Option<PathBuf>,
    #[arg(help_heading = "Check settings")]
    #[arg(long = RELAY_DOMAIN.long(), value_name = "DOMAIN", help = RELAY_DOMAIN.help(),
          long_help = RELAY_DOMAIN.long_help(), value_parser = value::canonical::<DomainName>)]
    pub relay_domain: Option<String>,
    #[arg(help_heading = "Check settings")]
    #[arg(long = HELO_NAME.long(), value_name = "NAME", help = HELO_NAME.help(),
          long_help = HELO_NAME.long_help(), env = HELO_NAME.env_var(),
          value_parser = value::canonical::<HeloName>)]
    pub helo_name: Option<String>,
    #[arg(help_heading = "Check settings")]
    #[arg(long = DKIM_SELECTORS.long(), value_name = "SEL", help = DKIM_SELECTORS.help(),
          long_help = DKIM_SELECTORS.long_help(), value_parser = value::canonical::<DkimSelector>)]
    pub dkim_selectors: Vec<String>,
    #[arg(help_heading = "Check settings")]
    #[arg(long = DNSBL.long(), value_name = "ZONE", help = DNSBL.help(),
          long_help = DNSBL.long_help(), value_parser = value::canonical::<DnsZone>)]
    pub dnsbl: Vec<String>,

    /// Only checks whose id matches GLOB (repeatable).
    #[arg(help_heading = "Selection")]
    #[arg(long, value_name = "GLOB", value_parser = CheckIds, hide_possible_values = true)]
    pub only: Vec<String>,
    /// Leave out checks whose id matches GLOB (repeatable).
    #[arg(help_heading = "Selection")]
    #[arg(long, value_name = "GLOB", value_parser = CheckIds, hide_possible_values = true)]
    pub skip: Vec<String>,

    #[arg(help_heading = "Network and DNS")]
    #[arg(long = TIMEOUT.long(), value_name = "SECS", default_value = TIMEOUT.default,
          value_parser = value::timeout, help = TIMEOUT.help(), env = TIMEOUT.env_var())]
    pub timeout: f64,
    /// Longest one target may take, all its checks together; what has not finished by then
    /// is `error` "target budget exhausted" [default: 12 × --timeout].
    #[arg(help_heading = "Network and DNS")]
    #[arg(long, value_name = "SECS", value_parser = parse_budget)]
    pub target_budget: Option<f64>,
    #[arg(help_heading = "Network and DNS")]
    #[arg(long = BIND.long(), value_name = "ADDR", help = BIND.help(),
          long_help = BIND.long_help(), env = BIND.env_var(), value_delimiter = ',')]
    pub bind: Vec<IpAddr>,
    /// Connections in flight per target [default: 4]; in `batch`, targets in flight [default: 16].
    #[arg(help_heading = "Network and DNS")]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,
    /// Exit 1 when a target scores below N, even if no check failed.
    #[arg(help_heading = "Exit policy")]
    #[arg(long, value_name = "N", value_parser = parse_score)]
    pub min_score: Option<f64>,
    /// Lowest severity whose fail/error makes the exit code 1: critical, high, medium, low or
    /// info (`info`: every fail/error counts).
    #[arg(help_heading = "Exit policy")]
    #[arg(long, value_name = "SEVERITY", default_value = "low", value_parser = parse_severity)]
    pub fail_on: Severity,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// When to colour the text report: `auto` on a terminal, unless NO_COLOR is set
    /// (CLICOLOR_FORCE=1 forces colours, CLICOLOR=0 turns them off); `always`; `never`.
    #[arg(long, value_name = "WHEN", value_enum, default_value = "auto")]
    pub color: ColorArg,
    /// Same as --color never.
    #[arg(long)]
    pub no_color: bool,
    /// Only summaries and failing results.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// All evidence, and the run's settings on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--color`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Text,
    Json,
    Junit,
    Markdown,
    Html,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Junit => Format::Junit,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LangArg {
    /// English.
    En,
    /// French (français).
    Fr,
}

impl From<LangArg> for Lang {
    fn from(lang: LangArg) -> Lang {
        match lang {
            LangArg::En => Lang::En,
            LangArg::Fr => Lang::Fr,
        }
    }
}

/// Any text (a check id or a glob; the scenario code judges it and suggests the closest id),
/// offering the catalog's ids to the completion scripts of `mailcheck completions`.
#[derive(Clone, Copy, Debug)]
struct CheckIds;

impl clap::builder::TypedValueParser for CheckIds {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(command, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(crate::check::CATALOG.iter().map(|check| {
            clap::builder::PossibleValue::new(check.info().id)
        })))
    }
}

fn parse_budget(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 86_400.0 => Ok(secs),
        _ => Err(format!(
            "{text:?} is not a number of seconds between 0 and 86400"
        )),
    }
}

fn parse_score(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(score) if (0.0..=100.0).contains(&score) => Ok(score),
        _ => Err(format!("{text:?} is not a score between 0 and 100")),
    }
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text)
        .ok_or_else(|| format!("{text:?} is not one of critical, high, medium, low, info"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_flags_use_the_value_types() {
        let parse = |args: &[&str]| {
            let mut argv = vec!["mailcheck", "run", "x.example"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).map(|cli| match cli.command {
                Command::Run(run) => run.options,
                _ => unreachable!(),
            })
        };
        let options = parse(&[
            "--relay-domain",
            "Example.ORG.",
            "--dkim-selector",
            "Mail.",
            "--dnsbl",
            "ZEN.spamhaus.org.",
        ])
        .unwrap();
        assert_eq!(options.relay_domain.as_deref(), Some("example.org"));
        assert_eq!(options.dkim_selectors, ["mail"]);
        assert_eq!(options.dnsbl, ["zen.spamhaus.org"]);
        for bad in [
            &["--relay-domain", "localhost"][..],
            &["--dkim-selector", "bad selector"],
            &["--dnsbl", "127.0.0.1:53"],
            &["--timeout", "0"],
        ] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(error.contains(bad[1]), "{error}");
        }
    }

    #[test]
    fn a_repeated_scalar_flag_takes_the_last_value() {
        let cli = Cli::try_parse_from([
            "mailcheck",
            "run",
            "x.example",
            "--timeout",
            "3",
            "--timeout",
            "4",
            "--ca-file",
            "a.pem",
            "--ca-file",
            "b.pem",
            "-p",
            "ci",
            "-p",
            "course",
            "--resolver",
            "127.0.100.53",
            "--resolver",
            "127.0.100.54:5353",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            unreachable!()
        };
        assert_eq!(run.options.timeout, 4.0);
        assert_eq!(run.options.ca_file, Some(PathBuf::from("b.pem")));
        assert_eq!(run.options.profile.as_deref(), Some("course"));
        // Repeatable flags still add up.
        assert_eq!(run.options.resolver.len(), 2);
    }

    #[test]
    fn profile_help_names_every_built_in_profile() {
        use clap::CommandFactory;
        let command = Cli::command();
        let run = command.find_subcommand("run").unwrap();
        let help = |id: &str| {
            run.get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .unwrap()
        };
        let profile = help("profile");
        for name in crate::scenario::builtin_names() {
            assert!(profile.contains(&format!("`{name}`")), "{name}: {profile}");
        }
        let fail_on = help("fail_on");
        for severity in crate::outcome::Severity::ALL {
            assert!(fail_on.contains(severity.as_str()), "{severity}: {fail_on}");
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
