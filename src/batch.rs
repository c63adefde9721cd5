//! `mailcheck batch ROSTER` (course mode): every student's server of a roster, in one run.
//!
//! 1. [`crate::roster::load`] reads the roster; a problem with the file stops here (exit 2).
//! 2. Each student's run options are the command line's, under the roster's `defaults:` and the
//!    student's own keys ([`student_options`]), prepared exactly as `run` prepares its options
//!    ([`pipeline::prepare`]). A bad row (or a student whose options do not prepare, e.g. a missing
//!    password variable) stops the batch before anything connects, unless `--keep-going`: then
//!    it is reported as a student whose every check is an `error` saying why.
//! 3. The students' servers are checked `--concurrency` at a time (16 by default), each with
//!    its own connection limit, through [`runner::run_jobs`]; students that share options share
//!    one configuration. A progress bar on stderr follows them (never on stdout, hidden when
//!    stderr is not a terminal or with `-q`).
//! 4. The report keeps the roster's order. `--format text` is the class summary
//!    ([`Format::Class`]); `--csv` writes the grade sheet; the other formats are `run`'s, with
//!    each target named after its student.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{BatchArgs, RunOptions};
use crate::exit;
use crate::jsonl;
use crate::outcome::{Report, TargetReport};
use crate::pipeline::{self, Prepared};
use crate::report::{Format, Lang, RenderOptions, has_failures};
use crate::roster::{self, Row, Student};
use crate::runner::{self, Job, RunConfig};

/// Targets in flight when `--concurrency` does not say. Each target keeps its own limit of
/// connections, so this many students' servers are talked to at once: enough that a class of
/// 30 takes about as long as its slowest server.
pub const TARGETS_IN_FLIGHT: u16 = 16;

/// A roster row, ready to run or known bad.
enum Entry {
    /// Index into the distinct configurations.
    Check {
        student: Box<Student>,
        config: usize,
    },
    Bad {
        name: String,
        target: String,
        /// Why, as printed on stderr (one diagnostic per paragraph).
        why: Vec<String>,
    },
}

pub fn command(args: BatchArgs) -> u8 {
    let BatchArgs {
        roster: path,
        options: cli,
        keep_going,
        csv,
        scale,
        jsonl: jsonl_path,
        resume,
        shard,
    } = args;
    let started_at = time::OffsetDateTime::now_utc();
    let started = std::time::Instant::now();
    let roster = match roster::load(&path) {
        Ok(roster) => roster,
        Err(error) => {
            eprintln!("{error}");
            return exit::USAGE;
        }
    };

    // The class's own options must hold whatever the rows say: they also grade the bad rows.
    let class_options = merged(&cli, &roster.defaults, None);
    let class = match pipeline::prepare(&class_options) {
        Ok(prepared) => prepared,
        Err(error) => return error.print(),
    };

    let mut distinct: Vec<(RunOptions, Prepared)> = Vec::new();
    let mut keys: HashMap<String, usize> = HashMap::new();
    let mut entries = Vec::with_capacity(roster.rows.len());
    for row in &roster.rows {
        entries.push(entry(row, &cli, &roster.defaults, &mut distinct, &mut keys));
    }

    // A bad row named like another student (a duplicate) gets its place in its name, so that
    // every report tells the two apart.
    let mut seen = std::collections::HashSet::new();
    for (row, entry) in roster.rows.iter().zip(entries.iter_mut()) {
        match entry {
            Entry::Check { student, .. } => {
                seen.insert(student.name.to_lowercase());
            }
            Entry::Bad { name, .. } => {
                if !seen.insert(name.to_lowercase()) {
                    name.push_str(&format!(" ({})", row.place));
                }
            }
        }
    }

    let bad: Vec<(&Row, &Entry)> = roster
        .rows
        .iter()
        .zip(&entries)
        .filter(|(_, entry)| matches!(entry, Entry::Bad { .. }))
        .collect();
    if !bad.is_empty() {
        // The first rows' reasons, then a count: a roster of thousands of bad rows must not
        // bury the summary line under megabytes of errors.
        for (_, entry) in bad.iter().take(crate::scenario::MAX_SHOWN) {
            if let Entry::Bad { why, .. } = entry {
                eprintln!("{}\n", why.join("\n\n"));
            }
        }
        if bad.len() > crate::scenario::MAX_SHOWN {
            eprintln!(
                "... and {} more bad rows (only the first {} are shown)\n",
                bad.len() - crate::scenario::MAX_SHOWN,
                crate::scenario::MAX_SHOWN
            );
        }
        let rows = if bad.len() == 1 { "row" } else { "rows" };
        if !keep_going {
            eprintln!(
                "error: {} bad {rows} in {}: nothing was checked (fix them, or pass --keep-going \
                 to check the other students)",
                bad.len(),
                path.display()
            );
            return exit::USAGE;
        }
        eprintln!(
            "warning: {} bad {rows} in {} graded as errors; checking the other {} student(s)",
            bad.len(),
            path.display(),
            entries.len() - bad.len()
        );
    }

    let stdout_format = match pipeline::stdout_format(&cli, &[(Format::Csv, &csv)]) {
        Ok(format) => format,
        Err(message) => return crate::exit::fatal(message),
    };
    let mut outputs = match pipeline::create_outputs(&cli, &[(Format::Csv, &csv)]) {
        Ok(outputs) => outputs,
        Err(message) => return crate::exit::fatal(message),
    };
    let runtime = match pipeline::runtime() {
        Ok(runtime) => runtime,
        Err(message) => return crate::exit::fatal(message),
    };
    let lang: Lang = cli.lang.into();
    let mut secrets: Vec<String> = class.secrets.clone();
    secrets.extend(distinct.iter().flat_map(|(_, p)| p.secrets.iter().cloned()));
    let parallel = usize::from(cli.concurrency.unwrap_or(TARGETS_IN_FLIGHT));

    // Every entry's stable key; the shard keeps its own share, in the roster's order.
    let mut entries: Vec<(String, Entry)> = entries
        .into_iter()
        .map(|entry| (entry_key(&entry), entry))
        .filter(|(key, _)| shard.is_none_or(|shard| shard.holds(key)))
        .collect();
    if let Some(shard) = shard
        && cli.output.verbose
    {
        eprintln!(
            "mailcheck: shard {}/{}: {} target(s)",
            shard.index,
            shard.count,
            entries.len()
        );
    }

    // What an earlier run finished: taken as done, not run again.
    let mut resumed: HashMap<String, TargetReport> = HashMap::new();
    if let Some(path) = &resume
        && path.exists()
    {
        match jsonl::read(path) {
            Ok(lines) => resumed.extend(lines.into_iter().map(|l| (l.key, l.target))),
            Err(message) => return crate::exit::fatal(message),
        }
    }
    let same_file = match (&jsonl_path, &resume) {
        (Some(a), Some(b)) => {
            a == b || a.canonicalize().ok() == b.canonicalize().ok() && b.exists()
        }
        _ => false,
    };
    let stream = match &jsonl_path {
        Some(path) => match jsonl::Writer::open(path, same_file) {
            Ok(writer) => Some(writer),
            Err(message) => return crate::exit::fatal(message),
        },
        None => None,
    };
    // Done before anything runs: the resumed targets (copied when the stream is another file)
    // and the bad rows.
    let mut done: Vec<Option<TargetReport>> = Vec::with_capacity(entries.len());
    for (key, entry) in &mut entries {
        let report = match entry {
            Entry::Check { .. } => resumed.remove(key.as_str()).inspect(|target| {
                if let Some(stream) = stream.as_ref().filter(|_| !same_file) {
                    stream.write(key, target, &secrets);
                }
            }),
            Entry::Bad { name, target, why } => {
                let report = bad_row(name, target, why, &class);
                if let Some(stream) = &stream
                    && !(same_file && resumed.contains_key(key.as_str()))
                {
                    stream.write(key, &report, &secrets);
                }
                Some(report)
            }
        };
        done.push(report);
    }
    let to_run: Vec<usize> = (0..entries.len()).filter(|&i| done[i].is_none()).collect();
    if cli.output.verbose && !to_run.len().eq(&entries.len()) {
        eprintln!(
            "mailcheck: {} target(s) already done, {} to check",
            entries.len() - to_run.len(),
            to_run.len()
        );
    }
    let done = std::sync::Mutex::new(done);

    let interrupted = runtime.block_on(async {
        let configs = distinct
            .into_iter()
            .map(|(options, prepared)| {
                prepared.config(&options, pipeline::CONNECTIONS_PER_TARGET, parallel)
            })
            .collect::<Result<Vec<RunConfig>, String>>()?;
        let jobs: Vec<Job<'_>> = to_run
            .iter()
            .filter_map(|&i| match &entries[i].1 {
                Entry::Check { student, config } => Some(Job {
                    input: student.target.clone(),
                    name: Some(student.name.clone()),
                    domain: student.domain.clone(),
                    config: &configs[*config],
                }),
                Entry::Bad { .. } => None,
            })
            .collect();
        if cli.output.verbose {
            eprintln!(
                "mailcheck: {} student(s), {} in flight, {} configuration(s)",
                jobs.len(),
                parallel,
                configs.len()
            );
        }
        let progress = Progress::new(jobs.len(), !cli.output.quiet, cli.output.verbose, lang);
        let hook = |index: usize, target: &TargetReport| {
            progress.done(target);
            let mut target = target.clone();
            // A server where nothing answers grades 0, whatever its domain's DNS earns: a
            // class grades the server the student built.
            if target.is_unreachable() {
                target.score = Some(0.0);
            }
            let place = to_run[index];
            if let Some(stream) = &stream {
                stream.write(&entries[place].0, &target, &secrets);
            }
            lock(&done)[place] = Some(target);
        };
        // Ctrl-C: what is done is kept (and already streamed); targets in flight are dropped.
        let interrupted = tokio::select! {
            _ = runner::run_jobs(&jobs, parallel, Some(&hook)) => false,
            _ = tokio::signal::ctrl_c() => true,
        };
        progress.finish();
        Ok::<bool, String>(interrupted)
    });
    let interrupted = match interrupted {
        Ok(interrupted) => interrupted,
        Err(message) => return crate::exit::fatal(message),
    };
    runtime.shutdown_timeout(Duration::from_millis(200));

    let mut report = Report {
        schema: crate::outcome::REPORT_SCHEMA.into(),
        tool: crate::outcome::Tool::this(),
        started_at,
        duration_ms: crate::outcome::millis(started.elapsed()),
        targets: Vec::new(),
    };
    // The roster's order, the bad rows where they stand; after Ctrl-C, only what is done.
    let done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    let total = done.len();
    report.targets = done.into_iter().flatten().collect();
    if interrupted {
        eprintln!(
            "mailcheck: interrupted: {} of {total} target(s) done, in the reports; the {} in \
             flight or not started are left out{}",
            report.targets.len(),
            total - report.targets.len(),
            match &jsonl_path {
                Some(path) => format!(" (go on with --resume {})", path.display()),
                None => String::new(),
            }
        );
    }

    let format = match stdout_format.unwrap_or(Format::Text) {
        Format::Text => Format::Class,
        other => other,
    };
    let render = RenderOptions {
        color: pipeline::color_wanted(&cli.output) && format == Format::Class,
        verbose: cli.output.verbose,
        quiet: cli.output.quiet,
        secrets,
        lang,
        scale,
        width: crate::report::terminal_width(),
    };
    let failing = report
        .targets
        .iter()
        .any(|t| t.is_failing(cli.fail_on, cli.min_score));
    let mut code = pipeline::write_reports(&report, format, &render, &mut outputs, failing);
    if stream.as_ref().is_some_and(jsonl::Writer::failed) {
        code = exit::USAGE;
    }
    if interrupted {
        code = exit::INTERRUPTED;
    }
    for target in &report.targets {
        if let Some(why) = target.below_min_score(cli.min_score) {
            eprintln!("mailcheck: {}: {why}", target.display_name());
        }
    }
    code
}

/// The stable key of an entry (`--resume`, `--shard`): the roster's name and target.
fn entry_key(entry: &Entry) -> String {
    match entry {
        Entry::Check { student, .. } => jsonl::row_key(&student.name, &student.target),
        Entry::Bad { name, target, .. } => jsonl::row_key(name, target),
    }
}

/// A bad row's report: every check `error`, saying why.
fn bad_row(name: &str, target: &str, why: &[String], class: &Prepared) -> TargetReport {
    let first = why.first().map(String::as_str).unwrap_or("bad roster row");
    let message = format!(
        "not checked: bad roster row: {}",
        first
            .lines()
            .next()
            .unwrap_or(first)
            .trim_start_matches("error: ")
    );
    let evidence: Vec<String> = why
        .iter()
        .flat_map(|w| w.lines())
        .map(String::from)
        .collect();
    let mut report =
        runner::unchecked(target, &class.checks, &message, &evidence).with_name(name.to_string());
    if report.is_unreachable() {
        report.score = Some(0.0);
    }
    report
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A row as something to run (sharing the configuration of students with the same options) or
/// as a bad row with every reason.
fn entry(
    row: &Row,
    cli: &RunOptions,
    defaults: &roster::Options,
    distinct: &mut Vec<(RunOptions, Prepared)>,
    keys: &mut HashMap<String, usize>,
) -> Entry {
    let student = match &row.student {
        Ok(student) => student,
        Err(bad) => {
            return Entry::Bad {
                name: bad
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("({})", row.place)),
                target: bad.target.clone().unwrap_or_else(|| "-".into()),
                why: bad.problems.iter().map(ToString::to_string).collect(),
            };
        }
    };
    let mut options = merged(cli, defaults, Some(student));
    // The domain travels with the target, so students who differ only in it share a config.
    options.domain = None;
    let key = format!("{options:?}");
    if let Some(&index) = keys.get(&key) {
        return Entry::Check {
            student: Box::new(student.clone()),
            config: index,
        };
    }
    match pipeline::prepare(&options) {
        Ok(prepared) => {
            distinct.push((options, prepared));
            keys.insert(key, distinct.len() - 1);
            Entry::Check {
                student: Box::new(student.clone()),
                config: distinct.len() - 1,
            }
        }
        Err(error) => {
            let message = error.in_row();
            Entry::Bad {
                name: student.name.clone(),
                target: student.target.clone(),
                why: vec![format!(
                    "error: {} ({}): {message}",
                    row.place, student.name
                )],
            }
        }
    }
}

/// The run options of one student (or of the class, without one): the command line's, with
/// the roster's `defaults:` where the command line says nothing, and the student's own keys
/// over both. `skip` adds up: what the class skips and what this student is excused from.
pub fn merged(
    cli: &RunOptions,
    defaults: &roster::Options,
    student: Option<&Student>,
) -> RunOptions {
    let own = student.map(|s| &s.options);
    let mut options = cli.clone();
    options.profile = own
        .and_then(|o| o.profile.clone())
        .or_else(|| cli.profile.clone())
        .or_else(|| defaults.profile.clone());
    options.scenarios = own
        .and_then(|o| o.scenarios.clone())
        .or_else(|| (!cli.scenarios.is_empty()).then(|| cli.scenarios.clone()))
        .or_else(|| defaults.scenarios.clone())
        .unwrap_or_default();
    options.only = own
        .and_then(|o| o.only.clone())
        .or_else(|| (!cli.only.is_empty()).then(|| cli.only.clone()))
        .or_else(|| defaults.only.clone())
        .unwrap_or_default();
    options.skip = defaults.skip.clone();
    options.skip.extend(cli.skip.iter().cloned());
    options
        .skip
        .extend(own.iter().flat_map(|o| o.skip.iter().cloned()));
    options.relay_domain = own
        .and_then(|o| o.relay_domain.clone())
        .or_else(|| cli.relay_domain.clone())
        .or_else(|| defaults.relay_domain.clone());
    options.dkim_selectors = own
        .and_then(|o| o.dkim_selectors.clone())
        .or_else(|| (!cli.dkim_selectors.is_empty()).then(|| cli.dkim_selectors.clone()))
        .or_else(|| defaults.dkim_selectors.clone())
        .unwrap_or_default();
    options.ca_file = own
        .and_then(|o| o.ca_file.clone())
        .or_else(|| cli.ca_file.clone())
        .or_else(|| defaults.ca_file.clone());
    if let Some(student) = student {
        options.domain = student.domain.clone().or_else(|| cli.domain.clone());
        // Credentials go together: a student's user comes with that student's password.
        if student.user.is_some() {
            options.user = student.user.clone();
            options.password_env = student.password_env.clone();
            options.password_file = student.password_file.clone();
        }
    }
    options
}

/// The progress bar on stderr: done/total, students with failures, unreachable ones, ETA.
struct Progress {
    bar: ProgressBar,
    failing: AtomicUsize,
    unreachable: AtomicUsize,
    verbose: bool,
    lang: Lang,
}

impl Progress {
    fn new(total: usize, wanted: bool, verbose: bool, lang: Lang) -> Progress {
        let visible = wanted && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        // Short enough for 80 columns: a wrapped bar redraws badly.
        let template = lang.tr(
            "{spinner} {bar:20} {pos}/{len} students · {msg} · ETA {eta}",
            "{spinner} {bar:20} {pos}/{len} étudiants · {msg} · reste {eta}",
        );
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("█▋ "));
        }
        bar.set_message(lang.tr("starting", "démarrage"));
        if visible {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Progress {
            bar,
            failing: AtomicUsize::new(0),
            unreachable: AtomicUsize::new(0),
            verbose,
            lang,
        }
    }

    fn done(&self, target: &TargetReport) {
        if target.is_unreachable() {
            self.unreachable.fetch_add(1, Ordering::Relaxed);
        } else if has_failures(target) {
            self.failing.fetch_add(1, Ordering::Relaxed);
        }
        let lang = self.lang;
        self.bar.set_message(format!(
            "{} {}, {} {}",
            self.failing.load(Ordering::Relaxed),
            lang.tr("failing", "en échec"),
            self.unreachable.load(Ordering::Relaxed),
            lang.tr("unreachable", "injoignable(s)"),
        ));
        if self.verbose {
            let line = format!(
                "mailcheck: {} ({}): {}",
                target.display_name(),
                target.target,
                lang.counts(&target.summary)
            );
            if self.bar.is_hidden() {
                eprintln!("{line}");
            } else {
                self.bar.println(line);
            }
        }
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::path::PathBuf;

    fn cli_options(args: &[&str]) -> RunOptions {
        let mut argv = vec!["mailcheck", "batch", "class.yaml"];
        argv.extend_from_slice(args);
        match Cli::parse_from(argv).command {
            Command::Batch(batch) => batch.options,
            _ => unreachable!(),
        }
    }

    fn student(options: roster::Options) -> Student {
        Student {
            name: "Alice".into(),
            target: "mail.alice.test".into(),
            domain: Some("alice.test".into()),
            user: Some("alice".into()),
            password_env: Some("ALICE_PW".into()),
            password_file: None,
            options,
        }
    }

    #[test]
    fn student_over_command_line_over_defaults() {
        let defaults = roster::Options {
            profile: Some("course".into()),
            relay_domain: Some("defaults.test".into()),
            skip: vec!["dns.ptr".into()],
            only: Some(vec!["smtp.*".into()]),
            ..Default::default()
        };
        let cli = cli_options(&[
            "--relay-domain",
            "cli.test",
            "--skip",
            "dns.rbl",
            "--dkim-selector",
            "s1",
        ]);
        let class = merged(&cli, &defaults, None);
        assert_eq!(class.profile.as_deref(), Some("course"));
        assert_eq!(class.relay_domain.as_deref(), Some("cli.test"));
        assert_eq!(class.only, ["smtp.*"]);
        assert_eq!(class.skip, ["dns.ptr", "dns.rbl"]);
        assert_eq!(class.user, None);
        assert_eq!(class.dkim_selectors, ["s1"]);

        let own = roster::Options {
            profile: Some("default".into()),
            skip: vec!["dns.dkim".into()],
            scenarios: Some(vec![PathBuf::from("extra.yaml")]),
            dkim_selectors: Some(vec!["mail".into()]),
            ..Default::default()
        };
        let alice = merged(&cli, &defaults, Some(&student(own)));
        assert_eq!(alice.profile.as_deref(), Some("default"));
        assert_eq!(alice.relay_domain.as_deref(), Some("cli.test"));
        assert_eq!(alice.skip, ["dns.ptr", "dns.rbl", "dns.dkim"]);
        assert_eq!(alice.scenarios, [PathBuf::from("extra.yaml")]);
        assert_eq!(alice.domain.as_deref(), Some("alice.test"));
        assert_eq!(alice.user.as_deref(), Some("alice"));
        assert_eq!(alice.dkim_selectors, ["mail"]);
        assert_eq!(alice.password_env.as_deref(), Some("ALICE_PW"));
    }

    #[test]
    fn batch_takes_the_run_options_and_its_own() {
        let parsed = Cli::try_parse_from([
            "mailcheck",
            "batch",
            "class.csv",
            "--scale",
            "20",
            "--lang",
            "fr",
            "--keep-going",
            "--csv",
            "grades.csv",
            "--html",
            "class.html",
            "--timeout",
            "2",
            "--concurrency",
            "32",
        ])
        .unwrap();
        let Command::Batch(batch) = parsed.command else {
            unreachable!()
        };
        assert_eq!(batch.scale, Some(20));
        assert!(batch.keep_going);
        assert_eq!(batch.options.concurrency, Some(32));
        assert_eq!(Lang::from(batch.options.lang), Lang::Fr);
        assert!(Cli::try_parse_from(["mailcheck", "batch", "c.yaml", "--scale", "0"]).is_err());
    }
}
