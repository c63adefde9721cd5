//! The terminal report: a scored checklist per target, grouped by category, on 80 columns.
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
//!   FAIL  tls.cert.trusted    465/smtps
//!         the certificate is signed by an unknown authority: CN=Lab CA, O=Example
//!         fix: install a certificate from a public CA (smtpd_tls_chain_files)
//!           * TLS handshake: TLSv1.3, chain of 1 certificate
//!
//! mail.example.com: 27 pass, 2 fail, 1 warn, 3 skip, 0 error — score 87.5/100
//! ```
//!
//! Within a category the id and endpoint are aligned columns. The message follows on the same
//! line when it fits there whole and the category leaves it at least [`MIN_MESSAGE`] columns;
//! otherwise (a long message, long ids, several hosts) it goes under the id, on 72 columns.
//! Messages and fixes wrap at word boundaries; evidence lines are cut with `…` unless `verbose`,
//! which wraps them. Widths count characters, which is right for the ASCII of protocol lines.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{
    CATEGORY_ORDER, EndpointLabels, Lang, RenderOptions, Reporter, SUMMARY_ORDER, category_rank,
    has_failures, printable, score_label,
};
use crate::outcome::{CheckResult, Report, Status, Summary, TargetReport};

pub(super) struct Text;

/// The width everything is laid out for.
const WIDTH: usize = 80;
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
        };
        for (index, target) in report.targets.iter().enumerate() {
            if options.quiet {
                page.quiet_target(target);
            } else {
                if index > 0 {
                    page.blank();
                    page.push(page.paint.paint(DIM, &"─".repeat(WIDTH)));
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
        let gap = WIDTH.saturating_sub(width(&name) + width(&score)).max(2);
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
        for (i, line) in wrap(&facts.join(" · "), WIDTH - 2, WIDTH - 4)
            .into_iter()
            .enumerate()
        {
            let indent = if i == 0 { "  " } else { "    " };
            self.push(format!("{indent}{}", self.paint.paint(DIM, &line)));
        }
    }

    /// `mail.example.com: 27 pass, 2 fail, 1 warn, 3 skip, 0 error — score 87.5/100`, the
    /// non-zero problem counts coloured.
    fn summary_line(&mut self, target: &TargetReport) {
        let lang = self.options.lang;
        let plain = format!(
            "{}: {} — score {}",
            printable(target.display_name()),
            lang.counts(&target.summary),
            score_label(target.score)
        );
        if !self.paint.color {
            self.lines.extend(
                wrap(&plain, WIDTH, WIDTH - 2)
                    .into_iter()
                    .enumerate()
                    .map(|(i, line)| if i == 0 { line } else { format!("  {line}") }),
            );
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
        let line = format!(
            "{} {}, {} {} — {} {} {:.1} s",
            report.targets.len(),
            lang.tr("targets", "cibles"),
            failing,
            lang.tr("with failures", "avec des échecs"),
            lang.counts(&all),
            lang.tr("in", "en"),
            report.duration_ms as f64 / 1000.0
        );
        for (i, line) in wrap(&line, WIDTH, WIDTH - 2).into_iter().enumerate() {
            let line = if i == 0 { line } else { format!("  {line}") };
            self.push(self.paint.paint(BOLD, &line));
        }
    }

    fn results(&mut self, results: &[&CheckResult], labels: &EndpointLabels) {
        let columns = Columns::of(results, labels);
        for result in results {
            self.result(result, &labels.label(result), &columns);
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
            if width(&message) <= WIDTH - message_column {
                message_below = false;
                self.push(
                    format!("{line}{endpoint_padding}  {message}")
                        .trim_end()
                        .to_owned(),
                );
            } else {
                self.push(line);
            }
        } else if ID_COLUMN + columns.id + 2 + width(&endpoint) <= WIDTH {
            self.push(format!(
                "{lead}{id_padding}  {}",
                self.paint.paint(DIM, &endpoint)
            ));
        } else if ID_COLUMN + width(&id) + 2 + width(&endpoint) <= WIDTH {
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
            for line in wrap(&message, WIDTH - ID_COLUMN, WIDTH - ID_COLUMN) {
                self.push(format!("{}{line}", " ".repeat(ID_COLUMN)));
            }
        }

        let problem = matches!(result.status, Status::Fail | Status::Warn | Status::Error);
        if let Some(fix) = result.fix.as_deref().filter(|_| problem) {
            let fix = printable(fix);
            let label = self.options.lang.tr("fix: ", "correctif : ");
            let room = WIDTH - ID_COLUMN - width(label);
            for (i, line) in wrap(&fix, room, room).into_iter().enumerate() {
                let label = if i == 0 {
                    self.paint.paint(BOLD, label)
                } else {
                    " ".repeat(width(label))
                };
                self.push(format!("{}{label}{line}", " ".repeat(ID_COLUMN)));
            }
        }
        self.evidence(result);
    }

    fn evidence(&mut self, result: &CheckResult) {
        let indent = " ".repeat(EVIDENCE_INDENT);
        let room = WIDTH - EVIDENCE_INDENT;
        if self.options.verbose {
            for line in &result.evidence {
                // Protocol lines are wrapped by characters, not words: every byte may matter.
                for piece in chop(&printable(line), room, room - 2)
                    .into_iter()
                    .enumerate()
                {
                    let piece = if piece.0 == 0 {
                        piece.1
                    } else {
                        format!("  {}", piece.1)
                    };
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
    fn of(results: &[&CheckResult], labels: &EndpointLabels) -> Columns {
        let id = results
            .iter()
            .map(|r| width(&printable(&r.id)))
            .max()
            .unwrap_or(0);
        let endpoint = results
            .iter()
            .map(|r| width(&printable(&labels.label(r))))
            .max()
            .unwrap_or(0);
        let message_column = ID_COLUMN + id + 2 + endpoint + 2;
        let message = (message_column + MIN_MESSAGE <= WIDTH).then_some(message_column);
        Columns {
            id,
            endpoint,
            message,
        }
    }
}

pub(super) fn width(text: &str) -> usize {
    text.chars().count()
}

/// Word-wraps `text`: the first line at most `first` columns, the others at most `rest`. A word
/// longer than a line is cut, never lost.
fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let limit = if lines.is_empty() { first } else { rest };
        let needed = if line.is_empty() {
            width(word)
        } else {
            width(&line) + 1 + width(word)
        };
        if needed <= limit {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let limit = if lines.is_empty() { first } else { rest };
        if width(word) <= limit {
            line.push_str(word);
        } else {
            let mut pieces = chop(word, limit, rest);
            line = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Cuts `text` into pieces of `first`, then `rest`, characters.
fn chop(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut chars = text.chars().peekable();
    let mut limit = first.max(1);
    while chars.peek().is_some() {
        pieces.push(chars.by_ref().take(limit).collect());
        limit = rest.max(1);
    }
    if pieces.is_empty() {
        pieces.push(String::new());
    }
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
        assert_eq!(wrap("aa bb cc dd", 5, 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("aa bb cc", 2, 5), ["aa", "bb cc"]);
        assert_eq!(wrap("abcdefghij", 4, 3), ["abcd", "efg", "hij"]);
        assert!(wrap("   ", 10, 10).is_empty());
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcd", 4), "abcd");
    }

    #[test]
    fn no_line_is_wider_than_80_columns_and_nothing_is_coloured() {
        let long = "the server answered with a very long explanation that goes on and on about \
                    what it thinks of the request, well past any terminal width, twice over";
        let text = render(
            vec![
                result("smtp.sender.unknown-domain-rejected", Status::Fail, long),
                result("smtp.vrfy.disabled", Status::Pass, "VRFY refused"),
            ],
            &RenderOptions::default(),
        );
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line:?}");
        }
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("FAIL  smtp.sender.unknown-domain-rejected"));
        assert!(text.contains("(3 more lines, -v to see all)"), "{text}");
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
