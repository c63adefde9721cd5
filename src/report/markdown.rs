//! The Markdown report, for CI job summaries (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab, Gitea).
//!
//! Per target: a `##` heading with the score and the summary counts; then what failed first (a
//! table of the `fail`, `error` and `warn` results, worst first, and a collapsed `<details>` block
//! for each with the fix and the evidence in a code block); then every pass and skip in one
//! collapsed block. A check that said the same on several ports is one row. With several targets
//! an overview table comes first and the targets with failures come first.
//!
//! GitHub refuses a job summary over 1 MiB: past [`BUDGET`] bytes the remaining targets are left
//! out, with a note that points to the HTML report (the overview still lists every target).
//!
//! Backticks in messages and fixes (`` `smtpd_banner` ``) become code spans, and `<code>` inside
//! `<summary>`, where Markdown is not parsed.
//!
//! Everything from a server is escaped for where it lands: backslash escapes in Markdown text
//! and table cells (`|` included), entity escapes inside HTML tags, code fences longer than any
//! backtick run of the evidence. A banner cannot inject HTML, links or table columns.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{
    EndpointLabels, RenderOptions, Reporter, SUMMARY_ORDER, badness, category_rank, code_segments,
    has_failures, printable, same_outcomes, score_label,
};
use crate::outcome::{CheckResult, Report, Status, TargetReport};

pub(super) struct Markdown;

impl Reporter for Markdown {
    fn render(
        &self,
        report: &Report,
        _options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        out.write_all(render(report, BUDGET).as_bytes())
    }
}

/// Bytes of target sections kept under GitHub's 1 MiB job-summary limit, leaving room for the
/// overview's rows, the note and whatever else the job writes to the summary.
pub(super) const BUDGET: usize = 900 * 1024;

fn render(report: &Report, budget: usize) -> String {
    let mut md = String::new();
    if report.targets.len() != 1 {
        overview(&mut md, report);
    }
    // Stable: failing targets first, otherwise the report's order.
    let mut targets: Vec<&TargetReport> = report.targets.iter().collect();
    targets.sort_by_key(|t| !has_failures(t));
    let mut shown = 0;
    for target in &targets {
        let mut section = String::new();
        target_section(&mut section, target);
        if md.len() + section.len() > budget {
            break;
        }
        md.push_str(&section);
        shown += 1;
    }
    if shown < targets.len() {
        let _ = writeln!(
            md,
            "> [!NOTE]\n> {} of {} targets are shown here: the rest would go over GitHub's 1 MiB \
             job-summary limit. Every target is in the HTML report (`--html FILE`, uploaded as \
             the job's artifact) and in the overview above.\n",
            shown,
            targets.len()
        );
    }
    md
}

fn badge(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅ pass",
        Status::Fail => "❌ fail",
        Status::Warn => "⚠️ warn",
        Status::Skip => "⏭️ skip",
        Status::Error => "⛔ error",
    }
}

fn overview(md: &mut String, report: &Report) {
    let failing = report.targets.iter().filter(|t| has_failures(t)).count();
    let _ = writeln!(
        md,
        "## mailcheck: {} targets, {failing} with failures\n",
        report.targets.len()
    );
    md.push_str("| Target | Score | Pass | Fail | Warn | Skip | Error |\n");
    md.push_str("|---|--:|--:|--:|--:|--:|--:|\n");
    for target in &report.targets {
        let _ = write!(
            md,
            "| {} | {} |",
            text(&shown_name(target)),
            score_label(target.score)
        );
        for status in SUMMARY_ORDER {
            let _ = write!(md, " {} |", target.summary.count(status));
        }
        md.push('\n');
    }
    md.push('\n');
}

/// `Alice Martin (mail.alice.test)` for a named target (a student's), else the target.
fn shown_name(target: &TargetReport) -> String {
    match &target.name {
        Some(name) => format!("{name} ({})", target.target),
        None => target.target.clone(),
    }
}

fn target_section(md: &mut String, target: &TargetReport) {
    let _ = writeln!(
        md,
        "## {} — score {}\n",
        text(&shown_name(target)),
        score_label(target.score)
    );

    let mut facts = Vec::new();
    if let Some(domain) = &target.domain {
        facts.push(format!("Domain {}", code(domain)));
    }
    if target.addresses.is_empty() {
        facts.push("no address".to_owned());
    } else {
        let addresses: Vec<String> = target.addresses.iter().map(|a| code(a)).collect();
        facts.push(addresses.join(", "));
    }
    let counts: Vec<String> = SUMMARY_ORDER
        .into_iter()
        .map(|status| format!("**{}** {status}", target.summary.count(status)))
        .collect();
    let _ = writeln!(md, "{}\n\n{}\n", facts.join(" · "), counts.join(" · "));

    if target.results.is_empty() {
        md.push_str("No check ran.\n\n");
        return;
    }
    let labels = EndpointLabels::of(target);
    let mut results: Vec<&CheckResult> = target.results.iter().collect();
    results.sort_by_key(|r| category_rank(r.category));
    let (problems, rest): (Vec<&CheckResult>, Vec<&CheckResult>) = results
        .into_iter()
        .partition(|r| matches!(r.status, Status::Fail | Status::Error | Status::Warn));
    let mut problems = same_outcomes(&problems);
    problems.sort_by_key(|e| std::cmp::Reverse(badness(e[0].status)));
    let rest = same_outcomes(&rest);

    if !problems.is_empty() {
        table(md, &problems, &labels);
        for entry in &problems {
            details(md, entry[0], &endpoints(entry, &labels));
        }
    }
    if !rest.is_empty() {
        let counts: Vec<String> = [Status::Pass, Status::Skip]
            .into_iter()
            .filter(|&status| target.summary.count(status) > 0)
            .map(|status| format!("{} {}", badge(status), target.summary.count(status)))
            .collect();
        let _ = writeln!(md, "<details>\n<summary>{}</summary>\n", counts.join(" · "));
        table(md, &rest, &labels);
        md.push_str("</details>\n\n");
    }
}

fn table(md: &mut String, entries: &[Vec<&CheckResult>], labels: &EndpointLabels) {
    md.push_str("| | Check | Endpoint | Result |\n|---|---|---|---|\n");
    for entry in entries {
        let result = entry[0];
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            badge(result.status),
            code(&result.id),
            code(&endpoints(entry, labels)),
            rich(&result.message)
        );
    }
    md.push('\n');
}

/// `25/smtp`, or `25/smtp, 587/smtp+starttls` for an entry of [`same_outcomes`].
fn endpoints(entry: &[&CheckResult], labels: &EndpointLabels) -> String {
    let shown: Vec<String> = entry.iter().map(|r| labels.label(r)).collect();
    shown.join(", ")
}

fn details(md: &mut String, result: &CheckResult, endpoint: &str) {
    // Inside HTML tags Markdown is not parsed, so this line is escaped as HTML.
    let _ = writeln!(
        md,
        "<details>\n<summary>{} <code>{}</code> @ <code>{}</code>: {}</summary>\n",
        badge(result.status),
        html(&result.id),
        html(endpoint),
        rich_html(&result.message)
    );
    let _ = writeln!(
        md,
        "{} · severity {}\n",
        text(&result.title),
        result.severity
    );
    if let Some(fix) = &result.fix {
        let _ = writeln!(md, "**Fix:** {}\n", rich(fix));
    }
    if !result.evidence.is_empty() {
        let lines: Vec<String> = result
            .evidence
            .iter()
            .map(|l| printable(l).into_owned())
            .collect();
        let fence = "`".repeat(longest_backtick_run(&lines.join("\n")).max(2) + 1);
        let _ = writeln!(md, "{fence}text\n{}\n{fence}\n", lines.join("\n"));
    }
    md.push_str("</details>\n\n");
}

/// Markdown text, safe in a paragraph, a heading or a table cell: ASCII punctuation that could
/// start markup is backslash-escaped (GFM allows it before any ASCII punctuation).
fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 8);
    for c in printable(raw).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '<' | '>' | '~' | '&' | '#' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A code span that holds `raw` verbatim, also inside a table cell: the delimiter is longer than
/// any backtick run in it, and `|` is escaped (GFM splits cells before reading code spans).
fn code(raw: &str) -> String {
    let raw = printable(raw);
    let ticks = "`".repeat(longest_backtick_run(&raw) + 1);
    let pad = if raw.starts_with('`') || raw.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{}{pad}{ticks}", raw.replace('|', "\\|"))
}

/// Markdown text in which `` `code` `` stays a code span (everything else escaped as [`text`]).
fn rich(raw: &str) -> String {
    match code_segments(raw) {
        Some(segments) => segments
            .into_iter()
            .map(|(is_code, s)| if is_code { code(s) } else { text(s) })
            .collect(),
        None => text(raw),
    }
}

/// Like [`rich`], for inside an HTML element such as `<summary>`: `<code>` instead of backticks.
fn rich_html(raw: &str) -> String {
    match code_segments(raw) {
        Some(segments) => segments
            .into_iter()
            .map(|(is_code, s)| {
                if is_code {
                    format!("<code>{}</code>", html(s))
                } else {
                    html(s)
                }
            })
            .collect(),
        None => html(raw),
    }
}

/// Text inside an HTML element.
fn html(raw: &str) -> String {
    printable(raw)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_cannot_be_split_or_marked_up() {
        assert_eq!(
            text("a|b `c` <b>x</b> *y*"),
            "a\\|b \\`c\\` \\<b\\>x\\</b\\> \\*y\\*"
        );
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x `y` z"), "``x `y` z``");
        assert_eq!(code("`y`"), "`` `y` ``");
        assert_eq!(html("<script>&"), "&lt;script&gt;&amp;");
    }

    #[test]
    fn backticks_become_code_also_inside_summary() {
        assert_eq!(rich("set `a_b` now"), "set `a_b` now");
        assert_eq!(rich("odd ` tick"), "odd \\` tick");
        assert_eq!(
            rich_html("got `550 <x>` back"),
            "got <code>550 &lt;x&gt;</code> back"
        );
        assert_eq!(rich_html("odd ` tick"), "odd ` tick");
    }

    fn synthetic_class(targets: usize) -> Report {
        use crate::outcome::{Category, Severity, Tool};
        let result = |i: usize, status: Status| CheckResult {
            id: format!("smtp.check-{i}"),
            title: "A check".into(),
            category: Category::Smtp,
            severity: Severity::High,
            endpoint: Some("203.0.113.10:25/smtp".parse().unwrap()),
            status,
            message: format!("the server said `550 {}` to us", "x".repeat(80)),
            evidence: (0..40)
                .map(|n| format!("S: 250-line {n} {}", "y".repeat(60)))
                .collect(),
            fix: Some("set `smtpd_banner` in main.cf".into()),
            duration_ms: 1,
        };
        Report {
            schema: crate::outcome::REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            duration_ms: 1,
            targets: (0..targets)
                .map(|t| {
                    let results = (0..40)
                        .map(|i| {
                            result(
                                i,
                                if i % 3 == 0 {
                                    Status::Fail
                                } else {
                                    Status::Pass
                                },
                            )
                        })
                        .collect();
                    TargetReport::new(format!("mail.student{t}.test"), None, vec![], results)
                })
                .collect(),
        }
    }

    #[test]
    fn a_300_target_batch_stays_under_the_job_summary_limit() {
        let report = synthetic_class(300);
        let md = render(&report, BUDGET);
        assert!(md.len() < 1024 * 1024, "{} bytes", md.len());
        let shown = md.matches("\n## mail.student").count();
        assert!(shown > 0 && shown < 300, "{shown} sections");
        assert!(md.contains(&format!("{shown} of 300 targets are shown here")));
        assert!(md.contains("HTML report"));
        // The overview still names every target.
        assert!(md.contains("| mail.student299.test |"));

        // A small batch is whole, without the note.
        let small = render(&synthetic_class(3), BUDGET);
        assert_eq!(small.matches("\n## mail.student").count(), 3);
        assert!(!small.contains("targets are shown here"));
    }

    #[test]
    fn failures_come_first_and_passes_are_collapsed() {
        let md = render(&synthetic_class(1), BUDGET);
        let first_fail = md.find("❌ fail").unwrap();
        let passes = md.find("<summary>✅ pass 26</summary>").expect(&md);
        assert!(first_fail < passes);
        assert!(
            !md[..passes].contains("✅ pass |"),
            "no pass before the block"
        );
        assert!(md.contains("<code>550 xxx"));
        assert!(md.contains("**Fix:** set `smtpd_banner` in main.cf"));
    }

    #[test]
    fn fences_outgrow_backticks_in_evidence() {
        assert_eq!(longest_backtick_run("a ``` b ```` c"), 4);
        assert_eq!(longest_backtick_run("none"), 0);
    }
}
