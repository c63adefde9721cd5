//! The HTML report (`--format html`, `--html FILE`): one self-contained page to hand back.
//!
//! With several targets (a class) it opens with the class figures and a matrix, students ×
//! checks, each cell the check's worst status over the student's endpoints
//! ([`super::worst_status`]) with the messages as a tooltip; every column header sorts the
//! matrix (a few lines of inline script; the page works without it). Then one section per
//! target: its grade, a banner when its server told nothing, what to fix (every `fail` and
//! `error`, most severe first, with the points it cost, the message, the fix hint and the
//! evidence), what to improve (`warn`), then what passed and what did not apply.
//!
//! Printing gives one student per page (the matrix on its own landscape page first), and each
//! section has a button that prints that student alone: what an instructor hands back.
//!
//! Nothing is loaded from elsewhere: no CDN, no font, no image. Everything from a server or a
//! roster is escaped for HTML (`&<>"'`) with control characters shown as escapes, so a banner
//! cannot inject markup or script; the only script is the constant one below.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{
    CATEGORY_ORDER, EndpointLabels, Lang, RenderOptions, Reporter, SUMMARY_ORDER, badness,
    category_rank, check_columns, code_segments, grade, printable, same_outcomes, unreachable_why,
    worst_status,
};
use crate::outcome::{Category, CheckResult, ClassStats, Report, Status, TargetReport};

pub(super) struct Html;

impl Reporter for Html {
    fn render(
        &self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let page = Page {
            report,
            lang: options.lang,
            scale: options.scale.unwrap_or(100),
            html: String::with_capacity(64 * 1024),
        };
        out.write_all(page.build().as_bytes())
    }
}

/// Evidence lines shown at first: the opening and the end of a transcript.
const EVIDENCE_HEAD: usize = 4;
const EVIDENCE_TAIL: usize = 10;
/// Longest transcript shown in full (the JSON report has everything).
const EVIDENCE_MAX: usize = 400;

/// Text for HTML content and attribute values: `&<>"'` escaped, control characters shown as
/// `\u{1b}`-style escapes ([`printable`]).
fn esc(text: &str) -> String {
    let text = printable(text);
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text in which `` `smtpd_banner` `` becomes `<code>smtpd_banner</code>`.
fn with_code(text: &str) -> String {
    match code_segments(text) {
        Some(segments) => segments
            .into_iter()
            .map(|(is_code, s)| {
                if is_code {
                    format!("<code>{}</code>", esc(s))
                } else {
                    esc(s)
                }
            })
            .collect(),
        None => esc(text),
    }
}

/// The CSS class of a status (`st-pass`...).
fn status_class(status: Status) -> &'static str {
    match status {
        Status::Pass => "st-pass",
        Status::Fail => "st-fail",
        Status::Warn => "st-warn",
        Status::Skip => "st-skip",
        Status::Error => "st-error",
    }
}

/// The mark in a matrix cell, readable without colour.
fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Warn => "!",
        Status::Skip => "–",
        Status::Error => "?",
    }
}

/// Green from three quarters of the points, amber from half, red below; violet when the
/// server told nothing.
fn grade_class(target: &TargetReport) -> &'static str {
    if target.is_unreachable() {
        return "g-none";
    }
    match target.score {
        Some(score) if score >= 75.0 => "g-good",
        Some(score) if score >= 50.0 => "g-mid",
        Some(_) => "g-bad",
        None => "g-none",
    }
}

/// What a result cost, in points of the scale: its weight (half for a warn) over what the
/// target could earn, as the score counts it (SPEC "Score of a target").
fn points_lost(target: &TargetReport, result: &CheckResult, scale: u16) -> f64 {
    let possible: u32 = target
        .results
        .iter()
        .filter(|r| r.status != Status::Skip)
        .map(|r| r.severity.weight() * 2)
        .sum();
    let lost = match result.status {
        Status::Fail | Status::Error => result.severity.weight() * 2,
        Status::Warn => result.severity.weight(),
        Status::Pass | Status::Skip => 0,
    };
    if possible == 0 {
        return 0.0;
    }
    f64::from(lost) * f64::from(scale) / f64::from(possible)
}

struct Page<'a> {
    report: &'a Report,
    lang: Lang,
    scale: u16,
    html: String,
}

impl Page<'_> {
    fn tr(&self, en: &'static str, fr: &'static str) -> &'static str {
        self.lang.tr(en, fr)
    }

    fn class_view(&self) -> bool {
        self.report.targets.len() > 1
    }

    fn grade_text(&self, target: &TargetReport) -> String {
        match grade(target.score, self.scale) {
            Some(grade) => format!("{grade:.1}"),
            None => "n/a".into(),
        }
    }

    fn build(mut self) -> String {
        let lang = self.lang;
        let title = if self.class_view() {
            self.tr("Class report", "Rapport de classe").to_string()
        } else {
            match self.report.targets.first() {
                Some(target) => format!(
                    "{} — {}",
                    self.tr("Mail server report", "Rapport du serveur de messagerie"),
                    target.display_name()
                ),
                None => self
                    .tr("Mail server report", "Rapport du serveur de messagerie")
                    .into(),
            }
        };
        let _ = writeln!(
            self.html,
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"{} {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
             </head>\n<body>",
            lang.code(),
            esc(&self.report.tool.name),
            esc(&self.report.tool.version),
            esc(&title)
        );
        // The class's page (figures and matrix) prints on its own landscape sheet.
        if self.class_view() {
            self.html.push_str("<div class=\"class-page\">\n");
            self.header(&title);
            self.matrix();
            self.html.push_str("</div>\n");
        } else {
            self.header(&title);
        }
        for (index, target) in self.report.targets.iter().enumerate() {
            self.target(index, target);
        }
        if self.report.targets.is_empty() {
            let none = self.tr("No target was checked.", "Aucune cible n'a été vérifiée.");
            let _ = writeln!(self.html, "<p class=\"empty\">{none}</p>");
        }
        let _ = writeln!(
            self.html,
            "<footer class=\"page-foot\">{} {} · {}</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>",
            esc(&self.report.tool.name),
            esc(&self.report.tool.version),
            esc(&self.report.schema)
        );
        self.html
    }

    fn header(&mut self, title: &str) {
        let count = self.report.targets.len();
        let when = super::class::started(self.report.started_at);
        let mut facts = vec![esc(&when)];
        if self.class_view() {
            facts.push(format!("{count} {}", self.tr("students", "étudiants")));
        }
        facts.push(format!(
            "{} {}",
            self.tr("grades out of", "notes sur"),
            self.scale
        ));
        facts.push(format!(
            "{} {:.1} s",
            self.tr("checked in", "vérifié en"),
            self.report.duration_ms as f64 / 1000.0
        ));
        let _ = writeln!(
            self.html,
            "<header class=\"page-head\">\n<h1>{}</h1>\n<p class=\"facts\">{}</p>",
            esc(title),
            facts.join(" · ")
        );
        if self.class_view() {
            self.class_figures();
        }
        self.html.push_str("</header>\n");
    }

    /// Mean, median, best and worst grades; students without failure, with, unreachable.
    fn class_figures(&mut self) {
        let stats = ClassStats::of(self.report, self.scale);
        let mut cards: Vec<(String, String, &str)> = Vec::new();
        if let Some(grades) = &stats.grades {
            let out_of = format!("/{}", self.scale);
            cards.push((
                format!("{:.1}<small>{out_of}</small>", grades.mean),
                self.tr("class mean", "moyenne de la classe").into(),
                "",
            ));
            cards.push((
                format!("{:.1}<small>{out_of}</small>", grades.median),
                self.tr("median", "médiane").into(),
                "",
            ));
            cards.push((
                format!("{:.1} – {:.1}", grades.lowest, grades.highest),
                self.tr("lowest – highest", "minimum – maximum").into(),
                "",
            ));
        }
        cards.push((
            stats.clean.to_string(),
            self.tr("without failure", "sans échec").into(),
            "card-good",
        ));
        cards.push((
            stats.failing.to_string(),
            self.tr("with failures", "avec des échecs").into(),
            "card-bad",
        ));
        cards.push((
            stats.unreachable.to_string(),
            self.tr("unreachable", "injoignables").into(),
            "card-none",
        ));
        self.html.push_str("<div class=\"cards\">\n");
        for (value, label, class) in cards {
            let _ = writeln!(
                self.html,
                "<div class=\"card {class}\"><div class=\"card-value\">{value}</div><div class=\"card-label\">{}</div></div>",
                esc(&label)
            );
        }
        self.html.push_str("</div>\n");
    }

    fn matrix(&mut self) {
        let columns = check_columns(self.report);
        let lang = self.lang;
        // Check columns grouped by category, in the report's category order.
        let mut grouped: Vec<(&str, Category)> = columns
            .iter()
            .map(|id| (*id, self.category_of(id)))
            .collect();
        grouped.sort_by_key(|(_, category)| category_rank(*category));

        let _ = write!(
            self.html,
            "<section class=\"class-view\" id=\"matrix\">\n<h2>{}</h2>\n\
             <p class=\"hint no-print\">{}</p>\n{}\n<div class=\"matrix-scroll\">\n\
             <table class=\"matrix\" data-sortable>\n<thead>\n<tr class=\"groups\"><th colspan=\"2\"></th>",
            self.tr("Class matrix", "Matrice de la classe"),
            self.tr(
                "Click a column header to sort; hover a cell for the server's answers; click a name for the student's page.",
                "Cliquez sur un en-tête pour trier ; survolez une case pour voir les réponses du serveur ; cliquez sur un nom pour la page de l'étudiant."
            ),
            self.legend()
        );
        for category in CATEGORY_ORDER {
            let span = grouped.iter().filter(|(_, c)| *c == category).count();
            if span > 0 {
                let _ = write!(
                    self.html,
                    "<th colspan=\"{span}\" class=\"group\">{}</th>",
                    esc(lang.category(category))
                );
            }
        }
        let _ = write!(
            self.html,
            "</tr>\n<tr><th class=\"sort name-col\" data-type=\"text\" tabindex=\"0\" scope=\"col\">{}</th>\
             <th class=\"sort num-col\" data-type=\"num\" tabindex=\"0\" scope=\"col\">{}<small>/{}</small></th>",
            self.tr("Student", "Étudiant"),
            self.tr("Grade", "Note"),
            self.scale
        );
        for (id, _) in &grouped {
            let title = self.title_of(id);
            // The group row above names the category: the header shows the rest of the id.
            let short = id.split_once('.').map_or(*id, |(_, rest)| rest);
            let _ = write!(
                self.html,
                "<th class=\"sort check-col\" data-type=\"num\" tabindex=\"0\" scope=\"col\" title=\"{} — {}\"><span>{}</span></th>",
                esc(id),
                esc(&title),
                esc(short)
            );
        }
        self.html.push_str("</tr>\n</thead>\n<tbody>\n");
        for (index, target) in self.report.targets.iter().enumerate() {
            let grade_value = grade(target.score, self.scale).unwrap_or(-1.0);
            let _ = write!(
                self.html,
                "<tr><th scope=\"row\" class=\"name-col\" data-v=\"{}\"><a href=\"#student-{index}\">{}</a><span class=\"target\">{}</span></th>\
                 <td class=\"num-col grade {}\" data-v=\"{grade_value}\">{}</td>",
                esc(&target.display_name().to_lowercase()),
                esc(target.display_name()),
                esc(&target.target),
                grade_class(target),
                self.grade_text(target)
            );
            for (id, _) in &grouped {
                self.cell(target, id);
            }
            self.html.push_str("</tr>\n");
        }
        // How the class did on each check: what to go over again in the next lesson.
        let _ = write!(
            self.html,
            "</tbody>\n<tfoot><tr><th scope=\"row\" class=\"name-col\">{}</th><td></td>",
            self.tr("Passed by", "Réussi par")
        );
        for (id, _) in &grouped {
            let ran: Vec<Status> = self
                .report
                .targets
                .iter()
                .filter_map(|t| worst_status(t, id))
                .filter(|s| *s != Status::Skip)
                .collect();
            let passed = ran.iter().filter(|s| **s == Status::Pass).count();
            let text = if ran.is_empty() {
                "–".to_string()
            } else {
                format!("{}%", (100 * passed + ran.len() / 2) / ran.len())
            };
            let _ = write!(
                self.html,
                "<td title=\"{passed}/{} — {}\">{text}</td>",
                ran.len(),
                esc(id)
            );
        }
        self.html
            .push_str("</tr></tfoot>\n</table>\n</div>\n</section>\n");
    }

    fn legend(&self) -> String {
        let items: Vec<String> = [
            Status::Pass,
            Status::Warn,
            Status::Fail,
            Status::Error,
            Status::Skip,
        ]
        .into_iter()
        .map(|status| {
            format!(
                "<span class=\"chip {}\">{} {}</span>",
                status_class(status),
                status_mark(status),
                esc(self.lang.status(status))
            )
        })
        .collect();
        // The matrix's `·`: the check did not run for that student (another profile, or a
        // port the student's server does not have).
        let not_run = format!(
            "<span class=\"chip none\">· {}</span>",
            self.tr("not checked", "non vérifié")
        );
        format!("<p class=\"legend\">{} {not_run}</p>", items.join(" "))
    }

    fn cell(&mut self, target: &TargetReport, id: &str) {
        let Some(status) = worst_status(target, id) else {
            let not_run = self.tr(
                "not checked for this student",
                "non vérifié pour cet étudiant",
            );
            let _ = write!(
                self.html,
                "<td class=\"cell none\" data-v=\"-1\" title=\"{not_run}\">·</td>"
            );
            return;
        };
        let labels = EndpointLabels::of(target);
        let lines: Vec<String> = target
            .results
            .iter()
            .filter(|r| r.id == id)
            .map(|r| {
                format!(
                    "{} {}: {}",
                    self.lang.status(r.status).to_uppercase(),
                    labels.label(r),
                    r.message
                )
            })
            .collect();
        let _ = write!(
            self.html,
            "<td class=\"cell {}\" data-v=\"{}\" title=\"{}\" aria-label=\"{}\">{}</td>",
            status_class(status),
            badness(status),
            esc(&lines.join("\n")),
            esc(self.lang.status(status)),
            status_mark(status)
        );
    }

    fn category_of(&self, id: &str) -> Category {
        self.report
            .targets
            .iter()
            .flat_map(|t| &t.results)
            .find(|r| r.id == id)
            .map_or(Category::Custom, |r| r.category)
    }

    fn title_of(&self, id: &str) -> String {
        self.report
            .targets
            .iter()
            .flat_map(|t| &t.results)
            .find(|r| r.id == id)
            .map(|r| r.title.clone())
            .unwrap_or_default()
    }

    fn target(&mut self, index: usize, target: &TargetReport) {
        let lang = self.lang;
        let _ = writeln!(
            self.html,
            "<section class=\"student\" id=\"student-{index}\">\n<header class=\"student-head\">\n<div>\n<h2>{}</h2>",
            esc(target.display_name())
        );
        let mut facts = Vec::new();
        if target.name.is_some() {
            facts.push(format!(
                "{} <code>{}</code>",
                self.tr("server", "serveur"),
                esc(&target.target)
            ));
        }
        if let Some(domain) = &target.domain {
            facts.push(format!(
                "{} <code>{}</code>",
                self.tr("domain", "domaine"),
                esc(domain)
            ));
        }
        if target.addresses.is_empty() {
            facts.push(self.tr("no address", "aucune adresse").into());
        } else {
            let addresses: Vec<String> = target
                .addresses
                .iter()
                .map(|a| format!("<code>{}</code>", esc(a)))
                .collect();
            facts.push(addresses.join(", "));
        }
        let counts: Vec<String> = SUMMARY_ORDER
            .into_iter()
            .filter(|&status| target.summary.count(status) > 0)
            .map(|status| {
                format!(
                    "<span class=\"chip {}\">{}</span>",
                    status_class(status),
                    esc(&lang.count(target.summary.count(status), status))
                )
            })
            .collect();
        let score = match target.score {
            Some(score) => format!("{} {score:.1}/100", self.tr("score", "score")),
            None => self.tr("no score", "pas de score").into(),
        };
        let _ = writeln!(
            self.html,
            "<p class=\"facts\">{}</p>\n<p class=\"counts\">{}</p>\n</div>\n\
             <div class=\"grade-box {}\"><div class=\"grade-value\">{}<small>/{}</small></div><div class=\"grade-label\">{}</div></div>\n\
             </header>",
            facts.join(" · "),
            counts.join(" "),
            grade_class(target),
            self.grade_text(target),
            self.scale,
            esc(&score)
        );
        let _ = writeln!(
            self.html,
            "<p class=\"actions no-print\"><button type=\"button\" class=\"print-one\" data-target=\"student-{index}\">{}</button>{}</p>",
            self.tr("Print this page", "Imprimer cette page"),
            if self.class_view() {
                format!(
                    " <a href=\"#matrix\">{}</a>",
                    self.tr("Back to the matrix", "Retour à la matrice")
                )
            } else {
                String::new()
            }
        );

        if target.is_unreachable() {
            let why = unreachable_why(target).unwrap_or_default();
            let _ = writeln!(
                self.html,
                "<div class=\"banner\"><strong>{}</strong> {} <code>{}</code></div>",
                self.tr("Server unreachable.", "Serveur injoignable."),
                self.tr(
                    "No check on its ports could get an answer, so nothing could be verified there. Check that the server is running, that its address is right and that its mail ports are open to the outside, then ask for a new check. First error:",
                    "Aucune vérification sur ses ports n'a obtenu de réponse : rien n'a pu y être vérifié. Vérifiez que le serveur tourne, que son adresse est la bonne et que ses ports de messagerie sont ouverts vers l'extérieur, puis demandez une nouvelle vérification. Première erreur :"
                ),
                esc(&why)
            );
        }
        if target.results.is_empty() {
            let none = self.tr("No check ran.", "Aucune vérification n'a été faite.");
            let _ = writeln!(self.html, "<p class=\"empty\">{none}</p>");
        }

        let groups = groups(target);
        let failing: Vec<&Group> = groups.iter().filter(|g| g.worst().is_failing()).collect();
        let warned: Vec<&Group> = groups
            .iter()
            .filter(|g| g.worst() == Status::Warn)
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(
                self.html,
                "<h3>{} <span class=\"n\">{}</span></h3>",
                self.tr("To fix", "À corriger"),
                failing.len()
            );
            let compact = target.is_unreachable();
            for group in failing {
                self.finding(target, group, compact);
            }
        }
        if !warned.is_empty() {
            let _ = writeln!(
                self.html,
                "<h3>{} <span class=\"n\">{}</span></h3>",
                self.tr("To improve", "À améliorer"),
                warned.len()
            );
            for group in warned {
                self.finding(target, group, false);
            }
        }
        self.compact_list(&groups, Status::Pass, self.tr("Passed", "Réussi"));
        self.compact_list(
            &groups,
            Status::Skip,
            self.tr("Not applicable", "Non applicable"),
        );
        self.html.push_str("</section>\n");
    }

    /// One failing or warned check with every endpoint's message, evidence and fix.
    fn finding(&mut self, target: &TargetReport, group: &Group<'_>, compact: bool) {
        let lang = self.lang;
        let worst = group.worst();
        let first = group.results[0];
        let lost: f64 = group
            .results
            .iter()
            .map(|r| points_lost(target, r, self.scale))
            .sum();
        let cost = if lost > 0.0 {
            format!(
                "<span class=\"cost\">−{lost:.1} {}</span>",
                self.tr("pts", "pts")
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            self.html,
            "<article class=\"finding {}\">\n<div class=\"finding-head\"><span class=\"chip {}\">{} {}</span> \
             <h4>{}</h4> <code class=\"id\">{}</code> <span class=\"sev\">{} {}</span>{cost}</div>",
            status_class(worst),
            status_class(worst),
            status_mark(worst),
            esc(lang.status(worst)),
            esc(&first.title),
            esc(&first.id),
            self.tr("severity", "sévérité"),
            esc(lang.severity(first.severity)),
        );
        let labels = EndpointLabels::of(target);
        // Endpoints that said the same thing are one line, with one transcript: a certificate
        // that fails on six ports is one finding, not six.
        let entries = same_outcomes(&group.results);
        let fixes: Vec<&str> = entries
            .iter()
            .filter(|e| !matches!(e[0].status, Status::Pass | Status::Skip))
            .filter_map(|e| e[0].fix.as_deref())
            .collect();
        let one_fix = fixes.windows(2).all(|w| w[0] == w[1]);
        for entry in &entries {
            let first = entry[0];
            let endpoints: Vec<String> = entry
                .iter()
                .map(|r| format!("<code>{}</code>", esc(&labels.label(r))))
                .collect();
            let _ = writeln!(
                self.html,
                "<div class=\"where\"><span class=\"chip {}\">{}</span> {} <span class=\"msg\">{}</span></div>",
                status_class(first.status),
                esc(lang.status(first.status)),
                endpoints.join(", "),
                esc(&first.message)
            );
            if !one_fix
                && first.status != Status::Pass
                && let Some(fix) = first.fix.as_deref()
            {
                self.fix(fix);
            }
        }
        if one_fix && let Some(fix) = fixes.first() {
            self.fix(fix);
        }
        if !compact {
            for entry in &entries {
                let first = entry[0];
                if first.status != Status::Pass && !first.evidence.is_empty() {
                    self.evidence(first, &labels.label(first));
                }
            }
        }
        self.html.push_str("</article>\n");
    }

    fn fix(&mut self, fix: &str) {
        let _ = writeln!(
            self.html,
            "<p class=\"fix\"><strong>{}</strong> {}</p>",
            self.tr("How to fix:", "Comment corriger :"),
            with_code(fix)
        );
    }

    /// The transcript behind a verdict: its opening (connection, greeting) and its end (the
    /// exchange that decided), the whole of it one click away.
    fn evidence(&mut self, result: &CheckResult, endpoint: &str) {
        let line = |text: &String| {
            let class = if text.starts_with("C:") {
                "c"
            } else if text.starts_with("S:") {
                "s"
            } else {
                "n"
            };
            format!("<span class=\"{class}\">{}</span>", esc(text))
        };
        let all = &result.evidence;
        let shown: Vec<String> = if all.len() <= EVIDENCE_HEAD + EVIDENCE_TAIL + 2 {
            all.iter().map(line).collect()
        } else {
            let hidden = all.len() - EVIDENCE_HEAD - EVIDENCE_TAIL;
            let mut shown: Vec<String> = all[..EVIDENCE_HEAD].iter().map(line).collect();
            shown.push(format!(
                "<span class=\"cut\">… {hidden} {} …</span>",
                self.tr("lines not shown", "lignes non affichées")
            ));
            shown.extend(all[all.len() - EVIDENCE_TAIL..].iter().map(line));
            shown
        };
        let _ = writeln!(
            self.html,
            "<div class=\"evidence-head\">{} <code>{}</code> <span class=\"legend-cs\">{}</span></div>\n<pre class=\"evidence\">{}</pre>",
            self.tr("Evidence", "Preuves"),
            esc(endpoint),
            self.tr(
                "C: what mailcheck sent · S: what the server answered",
                "C : ce que mailcheck a envoyé · S : ce que le serveur a répondu"
            ),
            shown.join("\n")
        );
        if shown.len() < all.len() {
            let full: Vec<String> = all.iter().take(EVIDENCE_MAX).map(line).collect();
            let _ = writeln!(
                self.html,
                "<details class=\"no-print\"><summary>{} ({} {})</summary><pre class=\"evidence\">{}</pre></details>",
                self.tr("Whole transcript", "Échange complet"),
                all.len(),
                self.tr("lines", "lignes"),
                full.join("\n")
            );
        }
    }

    /// The checks whose worst status is `status`, one line each.
    fn compact_list(&mut self, groups: &[Group<'_>], status: Status, heading: &str) {
        let shown: Vec<&Group> = groups.iter().filter(|g| g.worst() == status).collect();
        if shown.is_empty() {
            return;
        }
        let _ = writeln!(
            self.html,
            "<h3>{} <span class=\"n\">{}</span></h3>\n<ul class=\"compact {}\">",
            esc(heading),
            shown.len(),
            status_class(status)
        );
        for group in shown {
            let first = group.results[0];
            // A skip says why (a closed optional port, no credentials); a pass needs no words.
            let why = if status == Status::Skip {
                format!(" <span class=\"why\">{}</span>", esc(&first.message))
            } else {
                String::new()
            };
            let _ = writeln!(
                self.html,
                "<li><span class=\"mark\">{}</span> {} <code class=\"id\">{}</code>{why}</li>",
                status_mark(status),
                esc(&first.title),
                esc(&first.id)
            );
        }
        self.html.push_str("</ul>\n");
    }
}

/// A target's results for one check id (one per endpoint).
struct Group<'a> {
    results: Vec<&'a CheckResult>,
}

impl Group<'_> {
    fn worst(&self) -> Status {
        self.results
            .iter()
            .map(|r| r.status)
            .max_by_key(|&s| badness(s))
            .unwrap_or(Status::Skip)
    }
}

/// Results grouped by check id, most severe first (then worst status, then report order).
fn groups(target: &TargetReport) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for result in &target.results {
        match groups.iter_mut().find(|g| g.results[0].id == result.id) {
            Some(group) => group.results.push(result),
            None => groups.push(Group {
                results: vec![result],
            }),
        }
    }
    groups.sort_by_key(|g| {
        (
            std::cmp::Reverse(g.results[0].severity),
            std::cmp::Reverse(badness(g.worst())),
        )
    });
    groups
}

/// The page's only script: sortable matrix columns, and printing one student alone. It is a
/// constant: no data from a report ever goes into it.
const SCRIPT: &str = r#"
(function () {
  function value(row, col, type) {
    var cell = row.cells[col];
    var v = cell.getAttribute('data-v');
    if (v === null) { v = cell.textContent; }
    return type === 'num' ? parseFloat(v) : v.toLowerCase();
  }
  document.querySelectorAll('table[data-sortable]').forEach(function (table) {
    var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      if (!th.classList.contains('sort')) { return; }
      function sort() {
        var type = th.getAttribute('data-type');
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        if (type === 'num' && !th.hasAttribute('aria-sort')) { asc = false; }
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = value(a, col, type), y = value(b, col, type);
          var c = type === 'num' ? x - y : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); }
      });
    });
    table.setAttribute('data-sortable', 'ready');
  });
  document.querySelectorAll('button.print-one').forEach(function (button) {
    button.addEventListener('click', function () {
      var section = document.getElementById(button.getAttribute('data-target'));
      document.body.classList.add('print-one');
      section.classList.add('printing');
      window.print();
    });
  });
  window.addEventListener('afterprint', function () {
    document.body.classList.remove('print-one');
    document.querySelectorAll('.printing').forEach(function (s) { s.classList.remove('printing'); });
  });
})();
"#;

const STYLE: &str = r#"
:root {
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --card: #ffffff;
  --pass-bg: #dafbe1; --pass-fg: #116329;
  --fail-bg: #ffdcd7; --fail-fg: #a40e26;
  --warn-bg: #fff3c4; --warn-fg: #7d4e00;
  --error-bg: #ecdefe; --error-fg: #5a32a3;
  --skip-bg: #eff1f3; --skip-fg: #59636e;
}
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 0 0 4px; }
h3 { font-size: 16px; margin: 22px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 .n { color: var(--muted); font-weight: normal; }
h4 { display: inline; font-size: 15px; margin: 0; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
a { color: #0969da; }
.facts { color: var(--muted); margin: 2px 0; }
.hint { color: var(--muted); margin: 0 0 8px; }
.page-head { margin-bottom: 20px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 130px; }
.card-value { font-size: 24px; font-weight: 650; }
.card-value small { font-size: 13px; color: var(--muted); font-weight: normal; }
.card-label { color: var(--muted); font-size: 12.5px; }
.card-good .card-value { color: var(--pass-fg); }
.card-bad .card-value { color: var(--fail-fg); }
.card-none .card-value { color: var(--error-fg); }
.class-view, .student { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 22px; margin-bottom: 22px; }
.legend { margin: 6px 0 10px; }
.chip { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.st-pass { background: var(--pass-bg); color: var(--pass-fg); }
.st-fail { background: var(--fail-bg); color: var(--fail-fg); }
.st-warn { background: var(--warn-bg); color: var(--warn-fg); }
.st-error { background: var(--error-bg); color: var(--error-fg); }
.st-skip { background: var(--skip-bg); color: var(--skip-fg); }
.matrix-scroll { overflow-x: auto; }
table.matrix { border-collapse: separate; border-spacing: 2px; font-size: 13px; }
.matrix th, .matrix td { padding: 3px 6px; }
.matrix thead th { vertical-align: bottom; text-align: left; color: var(--muted); font-weight: 600; }
.matrix th.group { text-align: center; border-bottom: 2px solid var(--line); color: var(--fg); }
.matrix th.sort { cursor: pointer; user-select: none; }
.matrix th.sort:hover, .matrix th.sort:focus { color: #0969da; outline: none; }
.matrix th[aria-sort=ascending]::after { content: " ▲"; }
.matrix th[aria-sort=descending]::after { content: " ▼"; }
.matrix th.check-col { height: 150px; width: 24px; padding: 2px 0; }
.matrix th.check-col span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap;
  font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.matrix th.check-col[aria-sort]::after { display: block; text-align: center; }
.matrix .name-col { text-align: left; white-space: nowrap; min-width: 150px; }
.matrix tbody th a { font-weight: 600; text-decoration: none; color: var(--fg); }
.matrix tbody th a:hover { text-decoration: underline; }
.matrix .target { display: block; font-weight: normal; color: var(--muted); font-size: 11.5px; }
.matrix td.cell { text-align: center; font-weight: 700; border-radius: 4px; min-width: 22px; padding: 3px 2px; cursor: default; }
.matrix td.none, .chip.none { color: #b0b8c1; }
.matrix td.grade { text-align: right; font-weight: 700; font-size: 14px; border-radius: 4px; }
.matrix tfoot th, .matrix tfoot td { color: var(--muted); font-size: 10px; text-align: center; padding: 6px 0 2px; }
.matrix tfoot th { text-align: left; padding-left: 6px; }
.g-good { color: var(--pass-fg); background: var(--pass-bg); }
.g-mid { color: var(--warn-fg); background: var(--warn-bg); }
.g-bad { color: var(--fail-fg); background: var(--fail-bg); }
.g-none { color: var(--error-fg); background: var(--error-bg); }
.student-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 20px; }
.counts .chip { margin-right: 4px; }
.grade-box { border-radius: 10px; padding: 10px 18px; text-align: center; min-width: 120px; }
.grade-value { font-size: 34px; font-weight: 750; line-height: 1.1; }
.grade-value small { font-size: 15px; font-weight: 600; }
.grade-label { font-size: 12px; }
.actions { margin: 8px 0 0; }
.actions button { font: inherit; font-size: 12.5px; padding: 3px 10px; border: 1px solid var(--line);
  background: var(--bg); border-radius: 6px; cursor: pointer; }
.actions a { margin-left: 10px; font-size: 12.5px; }
.banner { margin: 14px 0; padding: 12px 14px; border-radius: 8px; background: var(--error-bg); color: var(--error-fg); }
.finding { border: 1px solid var(--line); border-left: 5px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.finding.st-fail, .finding.st-warn, .finding.st-error { background: var(--card); color: var(--fg); }
.finding.st-fail { border-left-color: #cf222e; }
.finding.st-warn { border-left-color: #bf8700; }
.finding.st-error { border-left-color: #8250df; }
.finding-head { margin-bottom: 6px; }
.finding .id { color: var(--muted); }
.finding .sev { color: var(--muted); font-size: 12px; margin-left: 6px; }
.cost { float: right; font-weight: 700; color: var(--fail-fg); }
.where { margin: 4px 0; }
.where .chip { font-size: 11px; }
.where .msg { margin-left: 4px; }
.fix { background: #ddf4ff; border-radius: 6px; padding: 8px 10px; margin: 8px 0; }
details summary { color: #0969da; font-size: 12px; cursor: pointer; margin: 2px 0 4px; }
.evidence-head { color: var(--muted); font-size: 12px; margin-top: 8px; }
.evidence-head .legend-cs { margin-left: 8px; }
pre.evidence { background: #f6f8fa; color: var(--fg); border: 1px solid var(--line); border-radius: 6px;
  padding: 7px 10px; margin: 3px 0 6px; font: 11.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  white-space: pre-wrap; overflow-wrap: anywhere; }
pre.evidence .c { color: #0550ae; font-weight: 600; }
pre.evidence .n, pre.evidence .cut { color: var(--muted); }
pre.evidence .cut { font-style: italic; }
ul.compact { list-style: none; padding: 0; margin: 0; columns: 2; column-gap: 24px; }
ul.compact li { padding: 2px 0; break-inside: avoid; }
ul.compact.st-pass, ul.compact.st-skip { background: none; color: var(--fg); }
ul.compact.st-pass .mark { color: var(--pass-fg); font-weight: 700; }
ul.compact.st-skip .mark { color: var(--skip-fg); font-weight: 700; }
ul.compact .id { color: var(--muted); font-size: 11.5px; white-space: nowrap; }
ul.compact .why { display: block; color: var(--muted); font-size: 12px; margin-left: 18px; }
.empty { color: var(--muted); }
.page-foot { color: var(--muted); font-size: 12px; text-align: center; margin-top: 20px; }
@page { size: A4; margin: 14mm; }
@page wide { size: A4 landscape; margin: 9mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { background: #fff; padding: 0; font-size: 9.5pt; }
  .no-print, .page-foot { display: none !important; }
  /* The class: figures and matrix on one landscape sheet, rows as tight as they read. */
  .class-page { page: wide; break-after: page; }
  .class-view { border: none; padding: 0; margin: 0; }
  .class-view h2 { font-size: 11pt; margin: 4px 0 0; }
  h1 { font-size: 15pt; }
  .class-page .page-head { margin-bottom: 4px; }
  .cards { margin-top: 2px; gap: 6px; } .card { padding: 1px 8px; min-width: 0; }
  .card-value { font-size: 11pt; } .card-label { font-size: 7pt; }
  .matrix-scroll { overflow: visible; }
  table.matrix { font-size: 6.5pt; line-height: 1.2; border-spacing: 1px; }
  .matrix th, .matrix td { padding: 0 3px; }
  .matrix td.cell { min-width: 0; padding: 0 1px; }
  .matrix td.grade { font-size: 7pt; }
  .matrix tfoot td { font-size: 5pt; }
  .class-page .facts, .class-view .legend { margin: 2px 0; }
  .matrix .target { display: none; }
  .matrix th.check-col { height: 110px; width: 16px; }
  .matrix th.check-col span { font-size: 6.5pt; }
  .matrix .name-col { min-width: 0; }
  /* One student per page (or more pages): what is handed back. */
  .student { break-before: page; border: none; padding: 0; margin: 0; }
  .page-head + .student { break-before: auto; }
  .grade-box { padding: 4px 12px; } .grade-value { font-size: 24pt; }
  h3 { margin: 12px 0 6px; }
  .finding { padding: 6px 10px; margin: 6px 0; }
  .finding-head, .where { break-after: avoid; }
  .fix { padding: 5px 8px; margin: 5px 0; }
  /* Compact: the evidence stays on screen (and in the file), not on paper. */
  .evidence-head, pre.evidence { display: none; }
  ul.compact li { padding: 0; }
  details > summary { list-style: none; }
  a { color: inherit; text-decoration: none; }
  body.print-one .page-head, body.print-one .class-page, body.print-one .student:not(.printing) { display: none; }
  body.print-one .student.printing { break-before: auto; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Severity, Tool};

    fn result(id: &str, status: Status, message: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: format!("title of {id}"),
            category: Category::Smtp,
            severity: Severity::High,
            endpoint: Some("192.0.2.1:25/smtp".parse().unwrap()),
            status,
            message: message.into(),
            evidence: vec!["C: EHLO [192.0.2.2]".into(), format!("S: 250 {message}")],
            fix: (status != Status::Pass).then(|| "set `disable_vrfy_command = yes`".into()),
            duration_ms: 1,
        }
    }

    fn render(targets: Vec<TargetReport>, options: &RenderOptions) -> String {
        let report = Report {
            schema: crate::outcome::REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            duration_ms: 1500,
            targets,
        };
        let mut out = Vec::new();
        Html.render(&report, options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn class() -> Vec<TargetReport> {
        let alice = TargetReport::new(
            "mail.alice.test".into(),
            Some("alice.test".into()),
            vec!["192.0.2.1".into()],
            vec![
                result("smtp.vrfy.disabled", Status::Pass, "VRFY refused"),
                result("smtp.banner.fqdn", Status::Warn, "hmm"),
            ],
        )
        .with_name("Alice Martin");
        let hostile = TargetReport::new(
            "mail.evil.test".into(),
            None,
            vec![],
            vec![
                result(
                    "smtp.vrfy.disabled",
                    Status::Fail,
                    "<script>alert('x')</script> & \"quotes\" \u{1b}[2J",
                ),
                result("smtp.banner.fqdn", Status::Pass, "ok"),
            ],
        )
        .with_name("<img src=x onerror=alert(1)>");
        vec![alice, hostile]
    }

    #[test]
    fn a_class_page_has_a_matrix_and_a_section_per_student() {
        let html = render(
            class(),
            &RenderOptions {
                scale: Some(20),
                ..RenderOptions::default()
            },
        );
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.contains("<table class=\"matrix\" data-sortable>"));
        assert_eq!(html.matches("<section class=\"student\"").count(), 2);
        assert!(html.contains("href=\"#student-0\">Alice Martin</a>"));
        // Alice: a pass and a warn (half of 3 of 6 points) → 75 → 15/20; the warn cost 5/20.
        assert!(html.contains(">15.0<small>/20</small>"), "{html}");
        assert!(html.contains("−5.0 pts"), "{html}");
        assert!(html.contains("class=\"cell st-warn\" data-v=\"2\""));
        assert!(html.contains("To improve"));
        // Code in fix texts is code; the matrix's `·` is in the legend; print hides evidence.
        assert!(
            html.contains("<code>disable_vrfy_command = yes</code>"),
            "{html}"
        );
        assert!(!html.contains("`disable_vrfy_command"));
        assert!(html.contains("<span class=\"chip none\">· not checked</span>"));
        assert!(html.contains(".evidence-head, pre.evidence { display: none; }"));
        assert!(html.ends_with("</html>\n"));
        // Self-contained: nothing is fetched.
        for outside in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
            assert!(!html.contains(outside), "{outside}");
        }
    }

    #[test]
    fn everything_from_servers_and_rosters_is_escaped() {
        let html = render(class(), &RenderOptions::default());
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(html.contains(
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot; \\u{1b}[2J"
        ));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains('\u{1b}'));
        // The one script is ours.
        assert_eq!(html.matches("<script>").count(), 1);
    }

    #[test]
    fn one_target_has_no_matrix_and_french_reads_french() {
        let html = render(
            class().into_iter().take(1).collect(),
            &RenderOptions {
                lang: Lang::Fr,
                ..RenderOptions::default()
            },
        );
        assert!(!html.contains("<table class=\"matrix\""));
        assert!(html.contains("<html lang=\"fr\">"));
        assert!(html.contains("À améliorer"));
        assert!(html.contains("Comment corriger :"));
        assert!(html.contains("Imprimer cette page"));
    }

    #[test]
    fn an_unreachable_server_says_so_without_pages_of_errors() {
        let refused = |id: &str| {
            let mut r = result(
                id,
                Status::Error,
                "port 25: cannot connect: connection refused",
            );
            r.evidence = vec!["* connect to 192.0.2.9:25: connection refused".into()];
            r
        };
        let dead = TargetReport::new(
            "192.0.2.9".into(),
            None,
            vec![],
            vec![refused("smtp.vrfy.disabled"), refused("smtp.banner.fqdn")],
        );
        let html = render(vec![dead], &RenderOptions::default());
        assert!(html.contains("Server unreachable."));
        assert!(html.contains("<code>port 25: cannot connect: connection refused</code>"));
        assert!(
            !html.contains("pre class=\"evidence\""),
            "compact: no evidence blocks"
        );
    }

    #[test]
    fn points_lost_follow_the_score() {
        let target = TargetReport::new(
            "t".into(),
            None,
            vec![],
            vec![
                result("a", Status::Fail, "x"),
                result("b", Status::Pass, "x"),
                result("c", Status::Skip, "x"),
            ],
        );
        assert_eq!(points_lost(&target, &target.results[0], 20), 10.0);
        assert_eq!(points_lost(&target, &target.results[1], 20), 0.0);
    }
}
