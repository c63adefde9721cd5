//! The terminal report: a scored checklist per target, grouped by category, laid out for the
//! terminal's width ([`RenderOptions::width`], see [`terminal_width`]), and a recap of what failed
//! at the end (as cargo-nextest ends with its failures).
//!
//! Layout of one target (colours only when [`RenderOptions::color`]):
//!
//! ```text
//! mail.example.com                                                  score 87.5/100
//!   domain example.com · 203.0.113.10
//!
//! TLS
//!   WARN  tls.protocol.tls13  25/smtp    only TLS 1.2 was negotiated
//!         fix: build against OpenSSL >= 1.1.1
//!   PASS  tls.cert.expiry     25, 587   valid for 80 more days
//!   FAIL  tls.cert.trusted    465/smtps
//!         the certificate is signed by an unknown authority: CN=Lab CA, O=Example
//!         fix: install a certificate from a public CA (smtpd_tls_chain_files)
//!           * TLS handshake: TLSv1.3, chain of 1 certificate
//!
//! mail.example.com: 27 pass, 2 fail, 1 warn, 3 skip, 0 error — score 87.5/100
//!
//! failed (1):
//!   FAIL  tls.cert.trusted  465/smtps  the certificate is signed by an unknown authority: …
//! ```
//!
//! A check that said the same thing on several ports is one line naming the ports
//! ([`same_outcomes`]).
//!
//! Within a category the id and endpoint are aligned columns. The message follows on the same
//! line when it fits there whole and the category leaves it at least [`MIN_MESSAGE`] columns;
//! otherwise (a long message, long ids, several hosts) it goes under the id. Messages and fixes
//! wrap at word boundaries (`textwrap`, never inside a hyphenated word); summary lines only
//! between counts; evidence lines are cut with `…` unless `verbose`, which wraps them by
//! characters (every byte of a protocol line may matter). Widths are display columns.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use textwrap::WordSplitter;

use super::{
    CATEGORY_ORDER, EndpointLabels, Lang, RenderOptions, Reporter, SUMMARY_ORDER, category_rank,
    has_failures, printable, same_outcomes, score_label,
};
use crate::outcome::{CheckResult, Report, Status, Summary, TargetReport};

pub(super) struct Text;

/// The width without a terminal and without `COLUMNS`.
pub const DEFAULT_WIDTH: usize = 80;
/// The widths the layout is held to: narrower breaks the columns, wider is hard to read.
pub const MIN_WIDTH: usize = 60;
pub const MAX_WIDTH: usize = 160;
/// Below this many columns left for the message, a category switches to the stacked layout.
const MIN_MESSAGE: usize = 28;
/// Where the id starts: `  PASS  `.
const ID_COLUMN: usize = 8;
/// Indent of evidence lines under a result.
const EVIDENCE_INDENT: usize = 10;
/// Evidence lines shown for a `fail`/`error` without `verbose`.
const EVIDENCE_LINES: usize = 6;

impl Reporter for Text {
    fn render(
        &self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let mut page = Page {
            lines: Vec::new(),
            paint: Paint {
                color: options.color,
            },
            options,
            width: options.width.clamp(MIN_WIDTH, MAX_WIDTH),
        };
        for (index, target) in report.targets.iter().enumerate() {
            if options.quiet {
                page.quiet_target(target);
            } else {
                if index > 0 {
                    page.blank();
                    page.push(page.paint.paint(DIM, &"─".repeat(page.width)));
                }
                page.target(target);
            }
        }
        // Several targets (or none at all) get a line for the whole run.
        if report.targets.len() != 1 {
            if !options.quiet && !report.targets.is_empty() {
                page.blank();
            }
            page.run_line(report);
        }
        if !options.quiet {
            page.recap(report);
        }
        for line in &page.lines {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn status_style(status: Status) -> Style {
    match status {
        Status::Pass => AnsiColor::Green.on_default(),
        Status::Fail => AnsiColor::Red.on_default().bold(),
        Status::Warn => AnsiColor::Yellow.on_default(),
        Status::Skip => DIM,
        Status::Error => AnsiColor::Magenta.on_default().bold(),
    }
}

/// Four columns wide, so ids line up. In French, the `OK`/`KO` of French test reports.
fn status_tag(status: Status, lang: Lang) -> &'static str {
    match status {
        Status::Pass => lang.tr("PASS", "OK  "),
        Status::Fail => lang.tr("FAIL", "KO  "),
        Status::Warn => lang.tr("WARN", "ATT."),
        Status::Skip => lang.tr("SKIP", "N/A "),
        Status::Error => lang.tr("ERR ", "ERR "),
    }
}

/// The width for the text report: `COLUMNS` when set to a number, else the terminal's width
/// (of stdout), else [`DEFAULT_WIDTH`]; held to [`MIN_WIDTH`]..=[`MAX_WIDTH`].
pub fn terminal_width() -> usize {
    let columns = std::env::var("COLUMNS").ok();
    let terminal = terminal_size::terminal_size().map(|(width, _)| width.0);
    width_from(columns.as_deref(), terminal)
}

fn width_from(columns: Option<&str>, terminal: Option<u16>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or(terminal.map(usize::from).filter(|&t| t > 0))
        .unwrap_or(DEFAULT_WIDTH)
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

/// Applies styles only when colour is on, so plain output carries no escape code at all.
#[derive(Clone, Copy)]
struct Paint {
    color: bool,
}

impl Paint {
    fn paint(self, style: Style, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }
}

/// The output, built line by line and written at once.
struct Page<'a> {
    lines: Vec<String>,
    paint: Paint,
    options: &'a RenderOptions,
    /// Columns to lay out for, already held to the allowed range.
    width: usize,
}

impl Page<'_> {
    fn push(&mut self, line: String) {
        self.lines.push(line);
    }

    fn blank(&mut self) {
        self.lines.push(String::new());
    }

    fn target(&mut self, target: &TargetReport) {
        self.header(target);
        // Nothing was checked: one line says why, instead of every check saying it again.
        if target.error.is_some() {
            self.blank();
            self.not_checked(target);
            self.blank();
            self.summary_line(target);
            return;
        }
        let labels = EndpointLabels::of(target);
        for category in CATEGORY_ORDER {
            let results: Vec<&CheckResult> = target
                .results
                .iter()
                .filter(|r| r.category == category)
                .collect();
            if results.is_empty() {
                continue;
            }
            self.blank();
            self.push(self.paint.paint(BOLD, self.options.lang.category(category)));
            self.results(&results, &labels);
        }
        if target.results.is_empty() {
            self.blank();
            let none = self
                .options
                .lang
                .tr("  no check ran", "  aucune vérification faite");
            self.push(self.paint.paint(DIM, none));
        }
        self.blank();
        self.summary_line(target);
    }

    /// `  ERR   not checked: <why>` for a target that could not be checked at all.
    fn not_checked(&mut self, target: &TargetReport) {
        let Some(error) = &target.error else {
            return;
        };
        let tag = self.paint.paint(
            status_style(Status::Error),
            status_tag(Status::Error, self.options.lang),
        );
        self.push(format!(
            "  {tag}  {}: {}",
            self.options.lang.tr("not checked", "non vérifié"),
            printable(error)
        ));
    }

    /// `quiet`: the summary line, then only what failed.
    fn quiet_target(&mut self, target: &TargetReport) {
        self.summary_line(target);
        if target.error.is_some() {
            self.not_checked(target);
            return;
        }
        let labels = EndpointLabels::of(target);
        let mut failing: Vec<&CheckResult> = target
            .results
            .iter()
            .filter(|r| r.status.is_failing())
            .collect();
        failing.sort_by_key(|r| category_rank(r.category));
        self.results(&failing, &labels);
    }

    fn header(&mut self, target: &TargetReport) {
        let lang = self.options.lang;
        let name = match &target.name {
            Some(name) => format!("{} ({})", printable(name), printable(&target.target)),
            None => printable(&target.target).into_owned(),
        };
        let score = format!("score {}", score_label(target.score));
        let gap = self
            .width
            .saturating_sub(width(&name) + width(&score))
            .max(2);
        self.push(format!(
            "{}{}{}",
            self.paint.paint(BOLD, &name),
            " ".repeat(gap),
            self.paint.paint(BOLD, &score)
        ));

        let mut facts = Vec::new();
        if let Some(domain) = &target.domain {
            facts.push(format!(
                "{} {}",
                lang.tr("domain", "domaine"),
                printable(domain)
            ));
        }
        facts.push(if target.addresses.is_empty() {
            lang.tr("no address", "aucune adresse").to_owned()
        } else {
            target
                .addresses
                .iter()
                .map(|a| printable(a))
                .collect::<Vec<_>>()
                .join(", ")
        });
        for line in wrap(&facts.join(" · "), self.width, "  ", "    ") {
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            self.push(format!("{indent}{}", self.paint.paint(DIM, body)));
        }
    }

    /// `mail.example.com: 27 pass, 2 fail, 1 warn, 3 skip, 0 error — score 87.5/100`, the
    /// non-zero problem counts coloured.
    fn summary_line(&mut self, target: &TargetReport) {
        let lang = self.options.lang;
        let plain = format!(
            "{}: {} — score{NBSP}{}",
            printable(target.display_name()),
            unbreakable_counts(lang, &target.summary),
            score_label(target.score)
        );
        if !self.paint.color {
            self.lines
                .extend(wrap(&plain, self.width, "", "  ").into_iter().map(unbreak));
            return;
        }
        // Coloured, the line is assembled from painted pieces; wrapping is left to the terminal
        // for the rare target name long enough to need it.
        let pieces: Vec<String> = SUMMARY_ORDER
            .into_iter()
            .map(|status| {
                let text = lang.count(target.summary.count(status), status);
                let painted = target.summary.count(status) > 0 && status != Status::Skip;
                if painted {
                    self.paint.paint(status_style(status), &text)
                } else {
                    text
                }
            })
            .collect();
        self.push(format!(
            "{}: {} — score {}",
            self.paint.paint(BOLD, &printable(target.display_name())),
            pieces.join(", "),
            self.paint.paint(BOLD, &score_label(target.score))
        ));
    }

    /// `3 targets, 1 with failures — 84 pass, 3 fail, 2 warn, 9 skip, 1 error in 2.4 s`
    fn run_line(&mut self, report: &Report) {
        let all = Summary::of(report.targets.iter().flat_map(|t| &t.results));
        let failing = report.targets.iter().filter(|t| has_failures(t)).count();
        let lang = self.options.lang;
        // Breaks only between the parts, never inside `84 pass` or `2.4 s`.
        let line = format!(
            "{}, {} — {} {}",
            lang.tr("{n} targets", "{n} cibles")
                .replace("{n}", &report.targets.len().to_string())
                .replace(' ', NBSP),
            lang.tr("{n} with failures", "{n} avec des échecs")
                .replace("{n}", &failing.to_string())
                .replace(' ', NBSP),
            unbreakable_counts(lang, &all),
            format!(
                "{} {:.1} s",
                lang.tr("in", "en"),
                report.duration_ms as f64 / 1000.0
            )
            .replace(' ', NBSP),
        );
        for line in wrap(&line, self.width, "", "  ") {
            self.push(self.paint.paint(BOLD, &unbreak(line)));
        }
    }

    /// What failed, one line each, after everything else: the list to work from.
    fn recap(&mut self, report: &Report) {
        let several = report.targets.len() > 1;
        let mut lines = Vec::new();
        for target in &report.targets {
            // A target that could not be checked at all is one line, as in its section.
            if let Some(problem) = &target.error {
                let tag = self.paint.paint(
                    status_style(Status::Error),
                    status_tag(Status::Error, self.options.lang),
                );
                let plain = format!(
                    "{}  {}: {}",
                    printable(target.display_name()),
                    self.options.lang.tr("not checked", "non vérifié"),
                    printable(problem)
                );
                let room = self.width - ID_COLUMN;
                lines.push(format!("  {tag}  {}", truncate(&plain, room)));
                continue;
            }
            let labels = EndpointLabels::of(target);
            let failing: Vec<&CheckResult> = target
                .results
                .iter()
                .filter(|r| r.status.is_failing())
                .collect();
            let mut entries = same_outcomes(&failing);
            entries.sort_by_key(|e| category_rank(e[0].category));
            for entry in entries {
                let first = entry[0];
                let tag = self.paint.paint(
                    status_style(first.status),
                    status_tag(first.status, self.options.lang),
                );
                let mut plain = String::new();
                if several {
                    plain.push_str(&printable(target.display_name()));
                    plain.push_str("  ");
                }
                plain.push_str(&format!(
                    "{}  {}  {}",
                    printable(&first.id),
                    endpoints_label(&entry, &labels),
                    printable(&first.message)
                ));
                let room = self.width - ID_COLUMN;
                lines.push(format!("  {tag}  {}", truncate(plain.trim_end(), room)));
            }
        }
        if lines.is_empty() {
            return;
        }
        self.blank();
        let heading = format!(
            "{} ({}):",
            self.options.lang.tr("failed", "en échec"),
            lines.len()
        );
        self.push(self.paint.paint(BOLD, &heading));
        self.lines.extend(lines);
    }

    fn results(&mut self, results: &[&CheckResult], labels: &EndpointLabels) {
        let entries = same_outcomes(results);
        let shown: Vec<(&CheckResult, String)> = entries
            .iter()
            .map(|entry| (entry[0], endpoints_label(entry, labels)))
            .collect();
        let columns = Columns::of(&shown, self.width);
        for (result, endpoint) in &shown {
            self.result(result, endpoint, &columns);
        }
    }

    fn result(&mut self, result: &CheckResult, endpoint: &str, columns: &Columns) {
        let tag = self.paint.paint(
            status_style(result.status),
            status_tag(result.status, self.options.lang),
        );
        let id = printable(&result.id);
        let endpoint = printable(endpoint);
        let message = printable(&result.message);
        let id_padding = " ".repeat(columns.id - width(&id));
        let lead = format!("  {tag}  {id}");

        // The message goes on the result's line when it fits there whole; otherwise under the
        // id, where it has 72 columns rather than a narrow column of many short lines.
        let mut message_below = true;
        if let Some(message_column) = columns.message {
            let endpoint_padding = " ".repeat(columns.endpoint - width(&endpoint));
            let line = format!("{lead}{id_padding}  {}", self.paint.paint(DIM, &endpoint));
            if width(&message) <= self.width - message_column {
                message_below = false;
                self.push(
                    format!("{line}{endpoint_padding}  {message}")
                        .trim_end()
                        .to_owned(),
                );
            } else {
                self.push(line);
            }
        } else if ID_COLUMN + columns.id + 2 + width(&endpoint) <= self.width {
            self.push(format!(
                "{lead}{id_padding}  {}",
                self.paint.paint(DIM, &endpoint)
            ));
        } else if ID_COLUMN + width(&id) + 2 + width(&endpoint) <= self.width {
            self.push(format!("{lead}  {}", self.paint.paint(DIM, &endpoint)));
        } else {
            // Even unaligned the endpoint does not fit beside the id: it gets its own line.
            self.push(lead);
            self.push(format!(
                "{}{}",
                " ".repeat(ID_COLUMN),
                self.paint.paint(DIM, &endpoint)
            ));
        }
        if message_below {
            let indent = " ".repeat(ID_COLUMN);
            self.lines
                .extend(wrap(&message, self.width, &indent, &indent));
        }

        let problem = matches!(result.status, Status::Fail | Status::Warn | Status::Error);
        if let Some(fix) = result.fix.as_deref().filter(|_| problem) {
            let fix = printable(fix);
            let label = self.options.lang.tr("fix: ", "correctif : ");
            let indent = " ".repeat(ID_COLUMN + width(label));
            for (i, line) in wrap(&fix, self.width, &indent, &indent)
                .into_iter()
                .enumerate()
            {
                if i == 0 {
                    let body = &line[indent.len()..];
                    let label = self.paint.paint(BOLD, label);
                    self.push(format!("{}{label}{body}", " ".repeat(ID_COLUMN)));
                } else {
                    self.push(line);
                }
            }
        }
        self.evidence(result);
    }

    fn evidence(&mut self, result: &CheckResult) {
        let indent = " ".repeat(EVIDENCE_INDENT);
        let room = self.width - EVIDENCE_INDENT;
        if self.options.verbose {
            for line in &result.evidence {
                for piece in chop(&printable(line), room, "  ") {
                    self.push(format!("{indent}{}", self.paint.paint(DIM, &piece)));
                }
            }
        } else if result.status.is_failing() && !self.options.quiet {
            for line in result.evidence.iter().take(EVIDENCE_LINES) {
                let line = truncate(&printable(line), room);
                self.push(format!("{indent}{}", self.paint.paint(DIM, &line)));
            }
            let hidden = result.evidence.len().saturating_sub(EVIDENCE_LINES);
            if hidden > 0 {
                let note = match (self.options.lang, hidden) {
                    (Lang::En, 1) => "(1 more line, -v to see all)".to_owned(),
                    (Lang::En, _) => format!("({hidden} more lines, -v to see all)"),
                    (Lang::Fr, 1) => "(1 ligne de plus, -v pour tout voir)".to_owned(),
                    (Lang::Fr, _) => format!("({hidden} lignes de plus, -v pour tout voir)"),
                };
                self.push(format!("{indent}{}", self.paint.paint(DIM, &note)));
            }
        }
    }
}

/// Column widths of one block of results (a category, or the failures of `quiet`).
struct Columns {
    id: usize,
    endpoint: usize,
    /// Where messages start, or `None` for the stacked layout.
    message: Option<usize>,
}

impl Columns {
    fn of(shown: &[(&CheckResult, String)], page_width: usize) -> Columns {
        let id = shown
            .iter()
            .map(|(r, _)| width(&printable(&r.id)))
            .max()
            .unwrap_or(0);
        let endpoint = shown
            .iter()
            .map(|(_, endpoint)| width(&printable(endpoint)))
            .max()
            .unwrap_or(0);
        let message_column = ID_COLUMN + id + 2 + endpoint + 2;
        let message = (message_column + MIN_MESSAGE <= page_width).then_some(message_column);
        Columns {
            id,
            endpoint,
            message,
        }
    }
}

/// Display columns of `text`.
pub(super) fn width(text: &str) -> usize {
    textwrap::core::display_width(text)
}

/// A space that wrapping never breaks at: it holds `84 pass` together.
const NBSP: &str = "\u{a0}";

/// `27 pass, 2 fail, …` with each count held to its word.
fn unbreakable_counts(lang: Lang, summary: &Summary) -> String {
    SUMMARY_ORDER
        .into_iter()
        .map(|status| lang.count(summary.count(status), status).replace(' ', NBSP))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The line as printed: the unbreakable spaces become ordinary ones.
fn unbreak(line: String) -> String {
    line.replace(NBSP, " ")
}

/// How the endpoints of one entry of [`same_outcomes`] are shown: the endpoint's label for one,
/// `25, 587, 465` for several on the same host (the header names it), full labels otherwise.
fn endpoints_label(entry: &[&CheckResult], labels: &EndpointLabels) -> String {
    if entry.len() == 1 {
        return labels.label(entry[0]);
    }
    let shown: Vec<String> = entry.iter().map(|r| labels.label(r)).collect();
    let ports: Option<Vec<String>> = shown
        .iter()
        .map(|label| label.split_once('/').map(|(port, _)| port.to_owned()))
        .collect();
    match ports {
        Some(ports) if ports.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) => {
            ports.join(", ")
        }
        _ => shown.join(", "),
    }
}

/// Word-wraps `text` to `page_width` columns, indents included: the first line after
/// `first_indent`, the others after `indent`. Breaks at spaces only (a hyphenated id or a
/// protocol word stays whole); a word longer than a line is cut, never lost.
fn wrap(text: &str, page_width: usize, first_indent: &str, indent: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let options = textwrap::Options::new(page_width)
        .initial_indent(first_indent)
        .subsequent_indent(indent)
        .word_splitter(WordSplitter::NoHyphenation);
    textwrap::wrap(text, options)
        .into_iter()
        .map(|line| line.into_owned())
        .collect()
}

/// Cuts a protocol line into pieces of at most `room` columns, the continuations after `indent`:
/// by columns, not words (textwrap would drop the spaces it breaks at, and every byte of a
/// protocol line may matter).
fn chop(text: &str, room: usize, indent: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut used = 0;
    for c in text.chars() {
        let columns = width(c.encode_utf8(&mut [0; 4]));
        if used + columns > room && used > width(indent) {
            pieces.push(std::mem::take(&mut piece));
            piece.push_str(indent);
            used = width(indent);
        }
        piece.push(c);
        used += columns;
    }
    pieces.push(piece);
    pieces
}

/// Cuts `text` to `room` characters, the last one an ellipsis when something was cut.
pub(super) fn truncate(text: &str, room: usize) -> String {
    if width(text) <= room {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(room.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Category, Severity, Tool};

    fn result(id: &str, status: Status, message: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: "t".into(),
            category: Category::Smtp,
            severity: Severity::High,
            endpoint: Some("203.0.113.10:25/smtp".parse().unwrap()),
            status,
            message: message.into(),
            evidence: (1..=9).map(|i| format!("S: 250-line {i}")).collect(),
            fix: Some("set smtpd_banner = $myhostname ESMTP".into()),
            duration_ms: 3,
        }
    }

    fn render(results: Vec<CheckResult>, options: &RenderOptions) -> String {
        let report = Report {
            schema: crate::outcome::REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            duration_ms: 1200,
            targets: vec![TargetReport::new(
                "mail.example.com".into(),
                Some("example.com".into()),
                vec!["203.0.113.10".into()],
                results,
            )],
        };
        let mut out = Vec::new();
        Text.render(&report, options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn wrap_respects_widths_and_keeps_long_words() {
        assert_eq!(wrap("aa bb cc dd", 5, "", ""), ["aa bb", "cc dd"]);
        assert_eq!(
            wrap("aa bb cc", 6, "    ", "  "),
            ["    aa", "  bb", "  cc"]
        );
        assert_eq!(wrap("abcdefghij", 4, "", ""), ["abcd", "efgh", "ij"]);
        // A hyphenated id is not split at its hyphens.
        assert_eq!(
            wrap("x smtp.unknown-domain", 14, "", "")[1],
            "smtp.unknown-d"
        );
        assert!(wrap("   ", 10, "", "").is_empty());
        assert_eq!(chop("S: 250 abc def", 8, "  "), ["S: 250 a", "  bc def"]);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcd", 4), "abcd");
    }

    #[test]
    fn the_width_comes_from_columns_then_the_terminal() {
        assert_eq!(width_from(Some("120"), Some(200)), 120);
        assert_eq!(width_from(Some("junk"), Some(100)), 100);
        assert_eq!(width_from(None, Some(30)), MIN_WIDTH);
        assert_eq!(width_from(Some("500"), None), MAX_WIDTH);
        assert_eq!(width_from(None, None), DEFAULT_WIDTH);
    }

    fn at_width(width: usize) -> RenderOptions {
        RenderOptions {
            width,
            ..RenderOptions::default()
        }
    }

    #[test]
    fn no_line_is_wider_than_the_width_and_nothing_is_coloured() {
        let long = "the server answered with a very long explanation that goes on and on about \
                    what it thinks of the request, well past any terminal width, twice over";
        for page_width in [60, 80, 140] {
            let text = render(
                vec![
                    result("smtp.sender.unknown-domain-rejected", Status::Fail, long),
                    result("smtp.vrfy.disabled", Status::Pass, "VRFY refused"),
                ],
                &RenderOptions {
                    verbose: page_width == 140,
                    ..at_width(page_width)
                },
            );
            for line in text.lines() {
                assert!(width(line) <= page_width, "over {page_width}: {line:?}");
            }
            assert!(!text.contains('\u{1b}'));
            assert!(text.contains("FAIL  smtp.sender.unknown-domain-rejected"));
            if page_width == 80 {
                assert!(text.contains("(3 more lines, -v to see all)"), "{text}");
            }
        }
        // At 140 columns the long message fits beside the id; at 60 it cannot.
        let wide = render(
            vec![result("smtp.vrfy.disabled", Status::Fail, &long[..100])],
            &at_width(140),
        );
        assert!(wide.contains("25/smtp  the server answered"), "{wide}");
        let narrow = render(
            vec![result("smtp.vrfy.disabled", Status::Fail, &long[..100])],
            &at_width(60),
        );
        assert!(
            narrow.contains("  FAIL  smtp.vrfy.disabled  25/smtp\n"),
            "{narrow}"
        );
    }

    #[test]
    fn identical_results_on_several_ports_are_one_line_and_failures_are_recapped() {
        let on = |port: u16, status: Status, message: &str| CheckResult {
            endpoint: Some(format!("203.0.113.10:{port}/smtp").parse().unwrap()),
            ..result("smtp.banner.fqdn", status, message)
        };
        let text = render(
            vec![
                on(25, Status::Pass, "mail.example.com"),
                on(587, Status::Pass, "mail.example.com"),
                on(465, Status::Pass, "mail.example.com"),
                on(2525, Status::Fail, "localhost is not a name"),
            ],
            &RenderOptions::default(),
        );
        assert!(
            text.contains("PASS  smtp.banner.fqdn  25, 587, 465  mail.example.com"),
            "{text}"
        );
        assert_eq!(text.matches("PASS  smtp.banner.fqdn").count(), 1, "{text}");
        let recap = text.split("failed (1):\n").nth(1).expect("a recap");
        assert_eq!(
            recap,
            "  FAIL  smtp.banner.fqdn  2525/smtp  localhost is not a name\n"
        );
    }

    #[test]
    fn the_run_line_breaks_only_between_counts() {
        let target = |name: &str| {
            TargetReport::new(
                name.into(),
                None,
                vec![],
                vec![result("smtp.vrfy.disabled", Status::Fail, "x")],
            )
        };
        let report = Report {
            schema: crate::outcome::REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            duration_ms: 123_456_789,
            targets: (0..1234).map(|i| target(&format!("t{i}"))).collect(),
        };
        let mut out = Vec::new();
        Text.render(&report, &at_width(60), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let start = text.find("1234 targets").expect("run line");
        let run: Vec<&str> = text[start..]
            .lines()
            .take_while(|l| !l.is_empty())
            .collect();
        assert!(run.len() > 1, "{run:?}");
        for line in &run {
            assert!(width(line) <= 60, "{line:?}");
            assert!(
                !line.trim_end().ends_with(|c: char| c.is_ascii_digit()),
                "{run:?}"
            );
        }
        assert!(text.contains("failed (1234):"));
        assert!(text.contains("  FAIL  t7  smtp.vrfy.disabled  25/smtp  x\n"));
    }

    #[test]
    fn colour_codes_only_with_color() {
        let options = RenderOptions {
            color: true,
            ..RenderOptions::default()
        };
        let text = render(
            vec![result("smtp.vrfy.disabled", Status::Fail, "differs")],
            &options,
        );
        assert!(
            text.contains("\u{1b}[1m\u{1b}[31mFAIL\u{1b}[0m"),
            "{text:?}"
        );
    }

    #[test]
    fn verbose_shows_all_evidence_and_quiet_only_failures() {
        let results = vec![
            result("smtp.vrfy.disabled", Status::Fail, "differs"),
            result("smtp.expn.disabled", Status::Pass, "refused"),
        ];
        let verbose = render(
            results.clone(),
            &RenderOptions {
                verbose: true,
                ..Default::default()
            },
        );
        assert_eq!(verbose.matches("S: 250-line 9").count(), 2);
        assert!(!verbose.contains("more lines"));

        let quiet = render(
            results,
            &RenderOptions {
                quiet: true,
                ..Default::default()
            },
        );
        assert_eq!(
            quiet,
            "mail.example.com: 1 pass, 1 fail, 0 warn, 0 skip, 0 error — score 50.0/100\n  \
             FAIL  smtp.vrfy.disabled  25/smtp  differs\n        \
             fix: set smtpd_banner = $myhostname ESMTP\n"
        );
    }

    #[test]
    fn hostile_control_characters_are_shown_escaped() {
        let text = render(
            vec![result(
                "smtp.banner.no-software",
                Status::Fail,
                "banner \u{1b}[2J\r",
            )],
            &RenderOptions::default(),
        );
        assert!(!text.contains('\u{1b}') && !text.contains('\r'));
        assert!(text.contains("banner \\u{1b}[2J\\r"));
    }
}
