//! The class summary of `batch` (its `--format text`): one line per student, then the class.
//!
//! ```text
//! Class report · 3 students · grades out of 20 · 2026-11-22 10:00 UTC
//!
//!   Student         Grade  Score  Worst failures
//!   Alice Martin  20.0/20  100.0
//!   Bob Durand     4.9/20   24.5  smtp.relay.refused, smtp.auth.tls-only, +9 more
//!   Chloé Petit    0.0/20    0.0  unreachable: port 25: cannot connect: connection refused
//!
//! 3 students in 4.2 s: 1 without failure, 1 with failures, 1 unreachable
//! grades: mean 8.3/20, median 4.9/20, lowest 0.0/20, highest 20.0/20
//! ```
//!
//! Students keep the roster's order. "Worst failures" names the failing checks, most severe
//! first ([`super::worst_failures`]); a student whose server told nothing at all
//! ([`TargetReport::is_unreachable`]) says why instead. With `verbose` the full checklist of
//! every student comes first. Lines fit 80 columns; names longer than the name column are cut.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::text::{Text, truncate, width};
use super::{
    Lang, RenderOptions, Reporter, grade, grade_label, printable, unreachable_why, worst_failures,
};
use crate::outcome::{ClassStats, Report, TargetReport};

pub(super) struct Class;

const WIDTH: usize = 80;
/// Longest name column; longer names are cut with `…`.
const NAME_COLUMN: usize = 26;

impl Reporter for Class {
    fn render(
        &self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if options.verbose {
            Text.render(report, options, out)?;
            writeln!(out, "\n{}\n", "═".repeat(WIDTH))?;
        }
        let lang = options.lang;
        let paint = |style: Style, text: &str| {
            if options.color && !text.is_empty() {
                format!("{style}{text}{style:#}")
            } else {
                text.to_owned()
            }
        };

        writeln!(out, "{}", paint(BOLD, &title_line(report, options)))?;
        writeln!(out)?;

        let names: Vec<String> = report
            .targets
            .iter()
            .map(|t| printable(t.display_name()).into_owned())
            .collect();
        let student = lang.tr("Student", "Étudiant");
        let name_width = names
            .iter()
            .map(|n| width(n))
            .chain([width(student)])
            .max()
            .unwrap_or(0)
            .min(NAME_COLUMN);
        let grades: Vec<String> = report
            .targets
            .iter()
            .map(|t| grade_label(t.score, options.scale))
            .collect();
        let grade_heading = lang.tr("Grade", "Note");
        let grade_width = grades
            .iter()
            .map(|g| width(g))
            .chain([width(grade_heading)])
            .max()
            .unwrap_or(0);
        // Without a scale the grade is the score: one column says it.
        let score_column = options.scale.is_some();
        let lead = 2 + name_width + 2 + grade_width + if score_column { 7 } else { 0 } + 2;
        let room = WIDTH.saturating_sub(lead).max(20);

        let mut heading = format!(
            "  {student}{}  {}{grade_heading}",
            " ".repeat(name_width - width(student)),
            " ".repeat(grade_width - width(grade_heading))
        );
        if score_column {
            heading.push_str("  Score");
        }
        heading.push_str("  ");
        heading.push_str(lang.tr("Worst failures", "Principaux problèmes"));
        writeln!(out, "{}", paint(DIM, &heading))?;

        for ((target, name), grade_text) in report.targets.iter().zip(&names).zip(&grades) {
            let name = truncate(name, name_width);
            let mut line = format!(
                "  {}{}  {}{}",
                paint(BOLD, &name),
                " ".repeat(name_width - width(&name)),
                " ".repeat(grade_width - width(grade_text)),
                paint(grade_style(target), grade_text)
            );
            if score_column {
                let score = target
                    .score
                    .map(|s| format!("{s:.1}"))
                    .unwrap_or_else(|| "n/a".into());
                line.push_str(&format!("  {score:>5}"));
            }
            let problems = problems(target, lang, room);
            if !problems.is_empty() {
                line.push_str("  ");
                line.push_str(&problems);
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        if report.targets.is_empty() {
            writeln!(out, "  {}", lang.tr("no student", "aucun étudiant"))?;
        }
        writeln!(out)?;
        for line in class_lines(report, options) {
            writeln!(out, "{}", paint(BOLD, &line))?;
        }
        Ok(())
    }
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// Green from three quarters of the points, yellow from half, red below; magenta when the
/// server told nothing.
fn grade_style(target: &TargetReport) -> Style {
    if target.is_unreachable() {
        return AnsiColor::Magenta.on_default().bold();
    }
    match grade(target.score, 100) {
        Some(score) if score >= 75.0 => AnsiColor::Green.on_default().bold(),
        Some(score) if score >= 50.0 => AnsiColor::Yellow.on_default().bold(),
        Some(_) => AnsiColor::Red.on_default().bold(),
        None => DIM,
    }
}

/// `Class report · 30 students · grades out of 20 · 2026-11-22 10:00 UTC`
fn title_line(report: &Report, options: &RenderOptions) -> String {
    let lang = options.lang;
    let count = report.targets.len();
    let mut parts = vec![
        lang.tr("Class report", "Rapport de classe").to_owned(),
        format!(
            "{count} {}",
            if count == 1 {
                lang.tr("student", "étudiant")
            } else {
                lang.tr("students", "étudiants")
            }
        ),
    ];
    if let Some(scale) = options.scale {
        parts.push(format!("{} {scale}", lang.tr("grades out of", "notes sur")));
    }
    parts.push(started(report.started_at));
    parts.join(" · ")
}

/// `2026-11-22 10:00 UTC`: when the run started, to the minute.
pub(super) fn started(when: time::OffsetDateTime) -> String {
    let when = when.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    when.format(format)
        .unwrap_or_else(|_| when.unix_timestamp().to_string())
}

/// The failing checks of a target, most severe first, as many as fit in `room` columns.
fn problems(target: &TargetReport, lang: Lang, room: usize) -> String {
    if target.is_unreachable() {
        let why = unreachable_why(target).unwrap_or_default();
        let text = format!("{}: {why}", lang.tr("unreachable", "injoignable"));
        return truncate(&text, room);
    }
    let failing = worst_failures(target);
    let mut shown = String::new();
    for (index, result) in failing.iter().enumerate() {
        let id = printable(&result.id);
        let left = failing.len() - index - 1;
        let more = if left > 0 {
            format!(", +{left} {}", lang.tr("more", "autres"))
        } else {
            String::new()
        };
        let separator = if shown.is_empty() { "" } else { ", " };
        if width(&shown) + width(separator) + width(&id) + width(&more) > room {
            let rest = failing.len() - index;
            let more = format!("+{rest} {}", lang.tr("more", "autres"));
            if shown.is_empty() {
                return truncate(&format!("{id}, {more}"), room);
            }
            return format!("{shown}, {more}");
        }
        shown.push_str(separator);
        shown.push_str(&id);
    }
    shown
}

/// The class lines: counts, then grade statistics over the students who have a grade.
fn class_lines(report: &Report, options: &RenderOptions) -> Vec<String> {
    let lang = options.lang;
    let ClassStats {
        count,
        clean,
        failing,
        unreachable,
        grades,
    } = ClassStats::of(report, options.scale.unwrap_or(100));
    let mut lines = vec![format!(
        "{count} {} {} {:.1} s: {clean} {}, {failing} {}, {unreachable} {}",
        if count == 1 {
            lang.tr("student", "étudiant")
        } else {
            lang.tr("students", "étudiants")
        },
        lang.tr("in", "en"),
        report.duration_ms as f64 / 1000.0,
        lang.tr("without failure", "sans échec"),
        lang.tr("with failures", "avec des échecs"),
        if unreachable == 1 {
            lang.tr("unreachable", "injoignable")
        } else {
            lang.tr("unreachable", "injoignables")
        },
    )];
    if let Some(grades) = grades {
        let label = |value: f64| format!("{value:.1}/{}", grades.scale);
        lines.push(format!(
            "{}: {} {}, {} {}, {} {}, {} {}",
            lang.tr("grades", "notes"),
            lang.tr("mean", "moyenne"),
            label(grades.mean),
            lang.tr("median", "médiane"),
            label(grades.median),
            lang.tr("lowest", "minimum"),
            label(grades.lowest),
            lang.tr("highest", "maximum"),
            label(grades.highest),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Category, CheckResult, Severity, Status, Tool};

    fn result(id: &str, severity: Severity, status: Status, message: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: "t".into(),
            category: Category::Smtp,
            severity,
            endpoint: Some("192.0.2.1:25/smtp".parse().unwrap()),
            status,
            message: message.into(),
            evidence: vec![],
            fix: None,
            duration_ms: 1,
        }
    }

    fn class() -> Report {
        let alice = TargetReport::new(
            "mail.alice.test".into(),
            None,
            vec![],
            vec![result(
                "smtp.vrfy.disabled",
                Severity::High,
                Status::Pass,
                "ok",
            )],
        )
        .with_name("Alice Martin");
        let bob = TargetReport::new(
            "mail.bob.test".into(),
            None,
            vec![],
            vec![
                result("smtp.vrfy.disabled", Severity::Medium, Status::Fail, "x"),
                result("smtp.relay.refused", Severity::Critical, Status::Fail, "x"),
                result("smtp.banner.fqdn", Severity::Low, Status::Pass, "ok"),
            ],
        )
        .with_name("Bob Durand");
        let chloe = TargetReport::new(
            "192.0.2.9".into(),
            None,
            vec![],
            vec![result(
                "smtp.vrfy.disabled",
                Severity::High,
                Status::Error,
                "port 25: cannot connect: connection refused",
            )],
        )
        .with_name("Chloé Petit-de-la-Fontaine-Longuenom");
        Report {
            schema: crate::outcome::REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::macros::datetime!(2026-11-22 10:00:03 UTC),
            duration_ms: 4200,
            targets: vec![alice, bob, chloe],
        }
    }

    fn render(options: &RenderOptions) -> String {
        let mut out = Vec::new();
        Class.render(&class(), options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn one_line_per_student_with_grade_and_worst_failures() {
        let text = render(&RenderOptions {
            scale: Some(20),
            ..RenderOptions::default()
        });
        assert_eq!(
            text,
            "Class report · 3 students · grades out of 20 · 2026-11-22 10:00 UTC

  Student                       Grade  Score  Worst failures
  Alice Martin                20.0/20  100.0
  Bob Durand                   2.5/20   12.5  smtp.relay.refused, +1 more
  Chloé Petit-de-la-Fontain…   0.0/20    0.0  unreachable: port 25: cannot conn…

3 students in 4.2 s: 1 without failure, 1 with failures, 1 unreachable
grades: mean 7.5/20, median 2.5/20, lowest 0.0/20, highest 20.0/20
"
        );
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
    }

    #[test]
    fn french_and_without_scale() {
        let text = render(&RenderOptions {
            lang: Lang::Fr,
            ..RenderOptions::default()
        });
        assert!(text.starts_with("Rapport de classe · 3 étudiants · 2026-11-22"));
        assert!(text.contains("Étudiant"), "{text}");
        assert!(text.contains(" 12.5/100  smtp.relay.refused"), "{text}");
        assert!(text.contains("injoignable: port 25"), "{text}");
        assert!(text.contains("notes: moyenne 37.5/100"), "{text}");
        assert!(!text.contains("Score"), "{text}");
    }

    #[test]
    fn failures_that_do_not_fit_are_counted() {
        let many: Vec<CheckResult> = (0..12)
            .map(|i| {
                result(
                    &format!("smtp.check-number-{i}"),
                    Severity::High,
                    Status::Fail,
                    "x",
                )
            })
            .collect();
        let target = TargetReport::new("t".into(), None, vec![], many);
        let shown = problems(&target, Lang::En, 40);
        assert!(width(&shown) <= 40, "{shown}");
        assert!(shown.ends_with("more"), "{shown}");
        assert!(shown.starts_with("smtp.check-number-0"), "{shown}");
    }
}
