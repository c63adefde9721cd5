//! `mailcheck diff OLD.json NEW.json`: what changed between two JSON reports (a baseline kept
//! by CI and today's run), per target and check, and whether anything got worse.
//!
//! Targets are paired by their display name (the student's name in `batch`, else the target as
//! given); results by check id and endpoint (a check that runs on several ports has one result
//! per port), then what is left by check id and port, so a server that moved to another
//! address is still compared with itself. Statuses are ranked from best to worst `pass`,
//! `skip`, `warn`, `error`, `fail`: a proven fault is worse than "could not tell", which is
//! worse than a warning; a skip (not applicable) is worse than a pass, because a check that
//! stopped applying no longer proves anything. A result that moved down that list is *worse*, up is *better*; a result only in NEW
//! is *new*, only in OLD is *gone*. A regression (exit 1) is a worse result, or a new one that
//! is `fail` or `error`, of a check at or above `--fail-on` (default `low`, as for `run`).
//!
//! [`Diff`] is plain data, rendered as text, JSON (`mailcheck/diff/v1`) or Markdown.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::cli::{DiffArgs, DiffFormat};
use crate::exit;
use crate::outcome::{CheckResult, REPORT_SCHEMA, Report, Severity, Status, TargetReport};
use crate::report::printable;

/// The schema string of `diff --format json`.
pub const DIFF_SCHEMA: &str = "mailcheck/diff/v1";

/// How a result changed from OLD to NEW.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Worse,
    Better,
    New,
    Gone,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Worse => "worse",
            Change::Better => "better",
            Change::New => "new",
            Change::Gone => "gone",
        }
    }
}

/// One result whose status differs (or that exists on one side only).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResultChange {
    pub id: String,
    pub endpoint: Option<crate::outcome::Endpoint>,
    pub change: Change,
    pub old_status: Option<Status>,
    pub new_status: Option<Status>,
    /// NEW's severity when the result is in NEW, else OLD's.
    pub severity: Severity,
    /// NEW's message when the result is in NEW, else OLD's.
    pub message: String,
    /// Whether this change alone makes `diff` exit 1.
    pub regression: bool,
}

/// One target of either report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetDiff {
    /// The display name both reports use (student name in `batch`, else the target).
    pub target: String,
    /// `both`, `old` (only in OLD: not checked by NEW) or `new` (only in NEW).
    pub present: &'static str,
    pub old_score: Option<f64>,
    pub new_score: Option<f64>,
    pub changes: Vec<ResultChange>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiffSummary {
    pub worse: usize,
    pub better: usize,
    pub new: usize,
    pub gone: usize,
    pub regressions: usize,
}

/// The whole comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub old: Side,
    pub new: Side,
    pub targets: Vec<TargetDiff>,
    pub summary: DiffSummary,
    /// Whether anything regressed: the exit code is 1 exactly when this is true.
    pub regression: bool,
}

/// Which report a side is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    pub file: String,
    pub started_at: String,
    pub tool_version: String,
}

/// Best first: see the module documentation.
fn rank(status: Status) -> u8 {
    match status {
        Status::Pass => 0,
        Status::Skip => 1,
        Status::Warn => 2,
        Status::Error => 3,
        Status::Fail => 4,
    }
}

/// Pairs NEW's results with OLD's: the same id and endpoint first; what is left, by id and
/// port (the server moved to another address, or a lab container got a new one), in order.
fn pair<'a>(
    old: &[&'a CheckResult],
    new: &[&'a CheckResult],
) -> (
    Vec<(Option<&'a CheckResult>, &'a CheckResult)>,
    Vec<&'a CheckResult>,
) {
    let mut taken = vec![false; old.len()];
    let mut matched: Vec<Option<usize>> = vec![None; new.len()];
    let passes: [fn(&CheckResult, &CheckResult) -> bool; 2] = [
        |a, b| a.id == b.id && a.endpoint == b.endpoint,
        |a, b| {
            a.id == b.id && a.endpoint.map(|e| e.port_label()) == b.endpoint.map(|e| e.port_label())
        },
    ];
    for same in passes {
        for (n, now) in new.iter().enumerate() {
            if matched[n].is_some() {
                continue;
            }
            if let Some(o) = (0..old.len()).find(|&o| !taken[o] && same(old[o], now)) {
                taken[o] = true;
                matched[n] = Some(o);
            }
        }
    }
    let pairs = new
        .iter()
        .zip(&matched)
        .map(|(now, o)| (o.map(|o| old[o]), *now))
        .collect();
    let gone = old
        .iter()
        .zip(&taken)
        .filter(|(_, taken)| !**taken)
        .map(|(r, _)| *r)
        .collect();
    (pairs, gone)
}

fn compare_target(
    old: Option<&TargetReport>,
    new: Option<&TargetReport>,
    fail_on: Severity,
) -> Vec<ResultChange> {
    let old_results: Vec<&CheckResult> =
        old.map(|t| t.results.iter().collect()).unwrap_or_default();
    let new_results: Vec<&CheckResult> =
        new.map(|t| t.results.iter().collect()).unwrap_or_default();
    let (pairs, gone) = pair(&old_results, &new_results);
    let mut changes = Vec::new();
    for (before, now) in pairs {
        let change = match before {
            Some(before) if rank(now.status) > rank(before.status) => Change::Worse,
            Some(before) if rank(now.status) < rank(before.status) => Change::Better,
            Some(_) => continue,
            None => Change::New,
        };
        let regression = now.severity >= fail_on
            && match change {
                Change::Worse => true,
                Change::New => now.status.is_failing(),
                _ => false,
            };
        changes.push(ResultChange {
            id: now.id.clone(),
            endpoint: now.endpoint,
            change,
            old_status: before.map(|r| r.status),
            new_status: Some(now.status),
            severity: now.severity,
            message: now.message.clone(),
            regression,
        });
    }
    for before in gone {
        changes.push(ResultChange {
            id: before.id.clone(),
            endpoint: before.endpoint,
            change: Change::Gone,
            old_status: Some(before.status),
            new_status: None,
            severity: before.severity,
            message: before.message.clone(),
            regression: false,
        });
    }
    changes
}

/// Compares two reports (`old_file`/`new_file` only name them in the output); a change is a
/// regression only at or above `fail_on` (NEW's severity), as `run --fail-on` decides a run.
pub fn compare(
    old: &Report,
    new: &Report,
    old_file: &str,
    new_file: &str,
    fail_on: Severity,
) -> Diff {
    let find = |report: &'_ Report, name: &str| -> Option<usize> {
        report.targets.iter().position(|t| t.display_name() == name)
    };
    let mut targets = Vec::new();
    for target in &new.targets {
        let name = target.display_name();
        let before = find(old, name).map(|i| &old.targets[i]);
        targets.push(TargetDiff {
            target: name.to_string(),
            present: if before.is_some() { "both" } else { "new" },
            old_score: before.and_then(|t| t.score),
            new_score: target.score,
            changes: compare_target(before, Some(target), fail_on),
        });
    }
    for target in &old.targets {
        let name = target.display_name();
        if find(new, name).is_none() {
            targets.push(TargetDiff {
                target: name.to_string(),
                present: "old",
                old_score: target.score,
                new_score: None,
                changes: compare_target(Some(target), None, fail_on),
            });
        }
    }
    let mut summary = DiffSummary::default();
    for change in targets.iter().flat_map(|t| &t.changes) {
        match change.change {
            Change::Worse => summary.worse += 1,
            Change::Better => summary.better += 1,
            Change::New => summary.new += 1,
            Change::Gone => summary.gone += 1,
        }
        if change.regression {
            summary.regressions += 1;
        }
    }
    let side = |report: &Report, file: &str| Side {
        file: file.to_string(),
        started_at: report
            .started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        tool_version: report.tool.version.clone(),
    };
    Diff {
        schema: DIFF_SCHEMA,
        old: side(old, old_file),
        new: side(new, new_file),
        regression: summary.regressions > 0,
        targets,
        summary,
    }
}

/// Reads a `mailcheck/report/v1` JSON file; the error is the full sentence to print.
pub fn load(path: &Path) -> Result<Report, String> {
    let shown = path.display();
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        io::Read::read_to_string(&mut io::stdin(), &mut text)
            .map_err(|e| format!("cannot read the report from stdin: {e}"))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{shown} is not JSON ({e}); give the file of `--json FILE`"))?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(REPORT_SCHEMA) => {}
        Some(other) => {
            return Err(format!(
                "{shown} is a `{other}` document, not a mailcheck report (`{REPORT_SCHEMA}`)"
            ));
        }
        None => {
            return Err(format!(
                "{shown} has no \"schema\": \"{REPORT_SCHEMA}\": not a mailcheck report (`--json FILE` writes one)"
            ));
        }
    }
    serde_json::from_value(value).map_err(|e| format!("{shown}: not a valid mailcheck report: {e}"))
}

/// `diff`: compares, prints in the chosen format, exits 1 on a regression.
pub fn command(args: DiffArgs) -> u8 {
    if args.old.as_os_str() == "-" && args.new.as_os_str() == "-" {
        return crate::exit::fatal("only one of OLD and NEW can be `-` (stdin)");
    }
    let loaded = load(&args.old).and_then(|old| Ok((old, load(&args.new)?)));
    let (old, new) = match loaded {
        Ok(pair) => pair,
        Err(message) => return crate::exit::fatal(message),
    };
    let diff = compare(
        &old,
        &new,
        &args.old.display().to_string(),
        &args.new.display().to_string(),
        args.fail_on,
    );
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        DiffFormat::Text => text(&diff, &mut out),
        DiffFormat::Json => serde_json::to_writer_pretty(&mut out, &diff)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(out)),
        DiffFormat::Markdown => markdown(&diff, &mut out),
    }
    .and_then(|()| out.flush());
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return crate::exit::fatal(format!("cannot write to stdout: {e}"));
    }
    if diff.regression {
        exit::CHECK_FAILED
    } else {
        exit::OK
    }
}

/// Where a change's message starts in the text output: under the check id.
const MESSAGE_INDENT: &str = "            ";

/// Longest message shown (text and Markdown): the reports have the rest.
const MESSAGE_CHARS: usize = 160;

/// The message, control characters escaped, cut at [`MESSAGE_CHARS`] with `…`.
fn shortened(message: &str) -> String {
    let message = printable(message);
    if message.chars().count() <= MESSAGE_CHARS {
        return message.into_owned();
    }
    let mut cut: String = message.chars().take(MESSAGE_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn status_label(status: Option<Status>) -> &'static str {
    status.map_or("-", Status::as_str)
}

fn score_label(score: Option<f64>) -> String {
    score.map_or_else(|| "n/a".to_string(), |s| format!("{s:.1}"))
}

fn score_line(target: &TargetDiff) -> String {
    match target.present {
        "old" => format!(
            "only in OLD (not checked by NEW), score was {}",
            score_label(target.old_score)
        ),
        "new" => format!(
            "only in NEW (not in OLD), score {}",
            score_label(target.new_score)
        ),
        _ => {
            let delta = match (target.old_score, target.new_score) {
                (Some(a), Some(b)) if (b - a).abs() >= 0.05 => format!(" ({:+.1})", b - a),
                _ => String::new(),
            };
            format!(
                "score {} → {}{delta}",
                score_label(target.old_score),
                score_label(target.new_score)
            )
        }
    }
}

fn where_(change: &ResultChange) -> String {
    change
        .endpoint
        .map_or_else(|| "-".to_owned(), |e| e.to_string())
}

fn totals(summary: &DiffSummary) -> String {
    format!(
        "{} worse, {} better, {} new, {} gone",
        summary.worse, summary.better, summary.new, summary.gone
    )
}

fn text(diff: &Diff, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "mailcheck diff: {} ({}) → {} ({})",
        diff.old.file, diff.old.started_at, diff.new.file, diff.new.started_at
    )?;
    for target in &diff.targets {
        writeln!(
            out,
            "\n{}: {}",
            printable(&target.target),
            score_line(target)
        )?;
        if target.changes.is_empty() {
            writeln!(out, "  no status changed")?;
            continue;
        }
        let id_width = target.changes.iter().map(|c| c.id.len()).max().unwrap_or(0);
        let at_width = target
            .changes
            .iter()
            .map(|c| where_(c).len())
            .max()
            .unwrap_or(0);
        for change in &target.changes {
            let mark = if change.regression { "!" } else { " " };
            let line = format!(
                "{mark} {:6}  {:id_width$}  {:at_width$}  {:>5} → {}",
                change.change.as_str(),
                change.id,
                where_(change),
                status_label(change.old_status),
                status_label(change.new_status),
            );
            writeln!(out, "  {}", line.trim_end())?;
            writeln!(out, "{MESSAGE_INDENT}{}", shortened(&change.message))?;
        }
    }
    let verdict = if diff.regression {
        format!("{} regression(s): exit 1", diff.summary.regressions)
    } else {
        "no regression".to_string()
    };
    writeln!(
        out,
        "\n{} target(s): {} — {verdict}",
        diff.targets.len(),
        totals(&diff.summary)
    )
}

/// Markdown table cell text: no line breaks, `|` escaped, backticks kept out of code spans.
fn cell(text: &str) -> String {
    printable(text)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn markdown(diff: &Diff, out: &mut dyn Write) -> io::Result<()> {
    let headline = if diff.regression {
        format!(
            "❌ {} regression(s) since the baseline",
            diff.summary.regressions
        )
    } else {
        "✅ no regression since the baseline".to_string()
    };
    writeln!(out, "## mailcheck diff: {headline}\n")?;
    writeln!(
        out,
        "`{}` ({}) → `{}` ({}): {}\n",
        cell(&diff.old.file),
        diff.old.started_at,
        cell(&diff.new.file),
        diff.new.started_at,
        totals(&diff.summary)
    )?;
    for target in &diff.targets {
        writeln!(
            out,
            "### {}: {}\n",
            cell(&target.target),
            score_line(target)
        )?;
        if target.changes.is_empty() {
            writeln!(out, "No status changed.\n")?;
            continue;
        }
        writeln!(out, "| change | check | endpoint | old | new | message |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for change in &target.changes {
            let label = if change.regression {
                format!("**{}**", change.change.as_str())
            } else {
                change.change.as_str().to_string()
            };
            writeln!(
                out,
                "| {label} | `{}` | {} | {} | {} | {} |",
                change.id,
                cell(&where_(change)),
                status_label(change.old_status),
                status_label(change.new_status),
                cell(&shortened(&change.message))
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Category, Tool};

    fn result(id: &str, endpoint: Option<&str>, status: Status) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: id.into(),
            category: Category::Smtp,
            severity: Severity::Medium,
            endpoint: endpoint.map(|e| e.parse().unwrap()),
            status,
            message: format!("{id} is {status}"),
            evidence: vec![],
            fix: None,
            duration_ms: 1,
        }
    }

    fn report(targets: Vec<TargetReport>) -> Report {
        Report {
            schema: REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            duration_ms: 1,
            targets,
        }
    }

    fn target(name: &str, results: Vec<CheckResult>) -> TargetReport {
        TargetReport::new(name.into(), None, vec![], results)
    }

    #[test]
    fn statuses_rank_from_pass_to_fail() {
        let order = [
            Status::Pass,
            Status::Skip,
            Status::Warn,
            Status::Error,
            Status::Fail,
        ];
        for pair in order.windows(2) {
            assert!(rank(pair[0]) < rank(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn changes_are_classified_per_id_and_endpoint() {
        let old = report(vec![target(
            "mx",
            vec![
                result(
                    "smtp.vrfy.disabled",
                    Some("192.0.2.1:25/smtp"),
                    Status::Pass,
                ),
                result(
                    "smtp.vrfy.disabled",
                    Some("192.0.2.1:587/smtp"),
                    Status::Pass,
                ),
                result("dns.spf", None, Status::Fail),
                result("dns.dmarc", None, Status::Warn),
                result(
                    "smtp.size.advertised",
                    Some("192.0.2.1:25/smtp"),
                    Status::Pass,
                ),
            ],
        )]);
        let new = report(vec![target(
            "mx",
            vec![
                result(
                    "smtp.vrfy.disabled",
                    Some("192.0.2.1:25/smtp"),
                    Status::Pass,
                ),
                result(
                    "smtp.vrfy.disabled",
                    Some("192.0.2.1:587/smtp"),
                    Status::Fail,
                ),
                result("dns.spf", None, Status::Pass),
                result("dns.dmarc", None, Status::Warn),
                result("dns.rbl", None, Status::Error),
            ],
        )]);
        let diff = compare(&old, &new, "old.json", "new.json", Severity::Low);
        let seen: Vec<(&str, Option<String>, Change, bool)> = diff.targets[0]
            .changes
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.endpoint.map(|e| e.to_string()),
                    c.change,
                    c.regression,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "smtp.vrfy.disabled",
                    Some("192.0.2.1:587/smtp".to_owned()),
                    Change::Worse,
                    true
                ),
                ("dns.spf", None, Change::Better, false),
                ("dns.rbl", None, Change::New, true),
                (
                    "smtp.size.advertised",
                    Some("192.0.2.1:25/smtp".to_owned()),
                    Change::Gone,
                    false
                ),
            ]
        );
        assert_eq!(
            diff.summary,
            DiffSummary {
                worse: 1,
                better: 1,
                new: 1,
                gone: 1,
                regressions: 2
            }
        );
        assert!(diff.regression);
    }

    #[test]
    fn better_only_is_no_regression_and_targets_pair_by_name() {
        let old = report(vec![
            target("a", vec![result("dns.spf", None, Status::Fail)]),
            target("gone", vec![result("dns.spf", None, Status::Pass)]),
        ]);
        let new = report(vec![
            target("fresh", vec![result("dns.spf", None, Status::Warn)]),
            target("a", vec![result("dns.spf", None, Status::Pass)]),
        ]);
        let diff = compare(&old, &new, "o", "n", Severity::Low);
        let present: Vec<(&str, &str)> = diff
            .targets
            .iter()
            .map(|t| (t.target.as_str(), t.present))
            .collect();
        assert_eq!(present, [("fresh", "new"), ("a", "both"), ("gone", "old")]);
        // A new warn is listed but is no regression; a better result neither.
        assert!(!diff.regression, "{diff:?}");
        assert_eq!(diff.summary.better, 1);
        assert_eq!(diff.summary.new, 1);
        assert_eq!(diff.summary.gone, 1);
    }

    #[test]
    fn a_server_on_a_new_address_is_compared_port_by_port() {
        let old = report(vec![target(
            "mx",
            vec![
                result(
                    "smtp.vrfy.disabled",
                    Some("192.0.2.1:25/smtp"),
                    Status::Pass,
                ),
                result(
                    "smtp.vrfy.disabled",
                    Some("192.0.2.1:587/smtp"),
                    Status::Pass,
                ),
            ],
        )]);
        let new = report(vec![target(
            "mx",
            vec![
                result(
                    "smtp.vrfy.disabled",
                    Some("[2001:db8::1]:587/smtp"),
                    Status::Pass,
                ),
                result(
                    "smtp.vrfy.disabled",
                    Some("[2001:db8::1]:25/smtp"),
                    Status::Fail,
                ),
            ],
        )]);
        let diff = compare(&old, &new, "o", "n", Severity::Low);
        let changes = &diff.targets[0].changes;
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].change, Change::Worse);
        assert_eq!(
            changes[0].endpoint.map(|e| e.to_string()).as_deref(),
            Some("[2001:db8::1]:25/smtp")
        );
    }

    #[test]
    fn fail_on_sets_the_least_severity_that_regresses() {
        let info = |status| CheckResult {
            severity: Severity::Info,
            ..result("smtp.size.advertised", None, status)
        };
        let old = report(vec![target("a", vec![info(Status::Pass)])]);
        let new = report(vec![target("a", vec![info(Status::Fail)])]);
        let low = compare(&old, &new, "o", "n", Severity::Low);
        assert_eq!(low.targets[0].changes[0].change, Change::Worse);
        assert!(
            !low.regression,
            "an info check does not regress at --fail-on low"
        );
        assert!(compare(&old, &new, "o", "n", Severity::Info).regression);
    }

    #[test]
    fn a_pass_that_became_a_skip_is_worse() {
        let old = report(vec![target(
            "a",
            vec![result("imap.login", None, Status::Pass)],
        )]);
        let new = report(vec![target(
            "a",
            vec![result("imap.login", None, Status::Skip)],
        )]);
        let diff = compare(&old, &new, "o", "n", Severity::Low);
        assert_eq!(diff.targets[0].changes[0].change, Change::Worse);
        assert!(diff.regression);
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "é".repeat(500);
        let cut = shortened(&long);
        assert_eq!(cut.chars().count(), MESSAGE_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(shortened("short\u{1b}"), "short\\u{1b}");
    }

    #[test]
    fn renderings_name_every_change() {
        let old = report(vec![target(
            "mx|1",
            vec![result("dns.spf", None, Status::Pass)],
        )]);
        let new = report(vec![target(
            "mx|1",
            vec![result("dns.spf", None, Status::Fail)],
        )]);
        let diff = compare(&old, &new, "o.json", "n.json", Severity::Low);
        let mut text_out = Vec::new();
        text(&diff, &mut text_out).unwrap();
        let text_out = String::from_utf8(text_out).unwrap();
        assert!(
            text_out
                .contains("\n  ! worse   dns.spf  -   pass → fail\n            dns.spf is fail\n"),
            "{text_out}"
        );
        assert!(text_out.contains("1 regression(s): exit 1"), "{text_out}");
        let mut md = Vec::new();
        markdown(&diff, &mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(
            md.contains("### mx\\|1: score 100.0 → 0.0 (-100.0)"),
            "{md}"
        );
        assert!(
            md.contains("| **worse** | `dns.spf` | - | pass | fail | dns.spf is fail |"),
            "{md}"
        );
    }
}
