//! The Markdown report, for CI job summaries (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab, Gitea).
//!
//! Per target: a `##` heading with the score, the summary counts, one table row per result
//! (categories in the same order as the terminal report), then a collapsed `<details>` block per
//! `fail`, `error` and `warn` with the fix and the evidence in a code block. With several targets
//! an overview table comes first.
//!
//! Everything from a server is escaped for where it lands: backslash escapes in Markdown text
//! and table cells (`|` included), entity escapes inside HTML tags, code fences longer than any
//! backtick run of the evidence. A banner cannot inject HTML, links or table columns.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{
    EndpointLabels, RenderOptions, Reporter, SUMMARY_ORDER, category_rank, has_failures, printable,
    score_label,
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
        let mut md = String::new();
        if report.targets.len() != 1 {
            overview(&mut md, report);
        }
        for target in &report.targets {
            target_section(&mut md, target);
        }
        out.write_all(md.as_bytes())
    }
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

    md.push_str("| | Check | Endpoint | Result |\n|---|---|---|---|\n");
    for result in &results {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            badge(result.status),
            code(&result.id),
            code(&labels.label(result)),
            text(&result.message)
        );
    }
    md.push('\n');

    let problems = results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error | Status::Warn));
    for result in problems {
        details(md, result, &labels.label(result));
    }
}

fn details(md: &mut String, result: &CheckResult, endpoint: &str) {
    // Inside HTML tags Markdown is not parsed, so this line is escaped as HTML.
    let _ = writeln!(
        md,
        "<details>\n<summary>{} <code>{}</code> @ <code>{}</code>: {}</summary>\n",
        badge(result.status),
        html(&result.id),
        html(endpoint),
        html(&result.message)
    );
    let _ = writeln!(
        md,
        "{} · severity {}\n",
        text(&result.title),
        result.severity
    );
    if let Some(fix) = &result.fix {
        let _ = writeln!(md, "**Fix:** {}\n", text(fix));
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
    fn fences_outgrow_backticks_in_evidence() {
        assert_eq!(longest_backtick_run("a ``` b ```` c"), 4);
        assert_eq!(longest_backtick_run("none"), 0);
    }
}
