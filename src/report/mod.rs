//! Reporters: turn a finished [`Report`] into what a person, a script or a CI server reads.
//!
//! One file per format, each a unit struct implementing [`Reporter`], chosen in one `match` in
//! [`reporter`] (the lychee formatter pattern): adding a format is one more file, one more
//! [`Format`] variant and one more arm. Reporters only read the [`crate::outcome`] model; they
//! never know a protocol or open a socket.
//!
//! Secrets are scrubbed here, once, for every format: [`reporter`] wraps each format in a
//! [`Redacting`] reporter that renders a copy of the report in which every occurrence of each
//! [`RenderOptions::secrets`] string has become `<redacted>`. The transcripts already redact
//! credentials at the source; this is the second line of defence.
//!
//! The formats people read also speak French (`--lang fr`): their chrome goes through [`Lang`],
//! and a [`Localizing`] step swaps each result's title and catalog fix for the check's French
//! text when it has one. The machine formats (JSON, CSV) stay in English.

mod class;
mod csv;
mod html;
mod json;
mod junit;
mod markdown;
mod text;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use crate::check::CheckInfo;
use crate::outcome::{Category, CheckResult, Report, Severity, Status, Summary, TargetReport};

/// An output format: those of `--format` and of the `--json`/`--junit`/`--markdown`/`--html`
/// file options, plus the two of `batch` ([`Format::Class`], [`Format::Csv`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Json,
    Junit,
    Markdown,
    /// One self-contained page: a class matrix (several targets) and a section per target.
    Html,
    /// The class summary of `batch`: one line per target with its grade and worst failures.
    Class,
    /// The grade sheet of `batch --csv`: one row per target, one column per check id.
    Csv,
}

impl Format {
    /// The formats `--format` accepts (and [`FromStr`] parses).
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Json,
        Format::Junit,
        Format::Markdown,
        Format::Html,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Class => "class",
            Format::Csv => "csv",
        }
    }

    /// Whether people read it (and `--lang` applies); JSON and CSV are for programs.
    pub fn is_for_people(self) -> bool {
        !matches!(self, Format::Json | Format::Csv)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not one of [`Format::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = Format::ALL.iter().map(|format| format.as_str()).collect();
        write!(
            f,
            "unknown report format `{}` (expected one of: {})",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// The language of the texts people read (`--lang`). Ids, field names and the JSON stay in
/// English; server replies and messages are shown as observed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    /// Picks the text in this language: `lang.tr("score", "note")`. Keeping both side by side at
    /// the place of use makes a missing or stale translation visible in review.
    pub fn tr(self, en: &'static str, fr: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }

    /// A status as a word (`pass`, `réussi`).
    pub fn status(self, status: Status) -> &'static str {
        match status {
            Status::Pass => self.tr("pass", "réussi"),
            Status::Fail => self.tr("fail", "échec"),
            Status::Warn => self.tr("warn", "à améliorer"),
            Status::Skip => self.tr("skip", "non applicable"),
            Status::Error => self.tr("error", "erreur"),
        }
    }

    /// `3 pass, 1 fail, 0 warn, 2 skip, 0 error` in this language.
    pub fn counts(self, summary: &Summary) -> String {
        SUMMARY_ORDER
            .into_iter()
            .map(|status| self.count(summary.count(status), status))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `3 pass`, `3 réussis`: a count of results with that status.
    pub fn count(self, count: usize, status: Status) -> String {
        let word = match (self, status) {
            (Lang::En, _) => status.as_str(),
            (Lang::Fr, Status::Pass) => plural(count, "réussi", "réussis"),
            (Lang::Fr, Status::Fail) => plural(count, "échec", "échecs"),
            (Lang::Fr, Status::Warn) => "à améliorer",
            (Lang::Fr, Status::Skip) => plural(count, "non applicable", "non applicables"),
            (Lang::Fr, Status::Error) => plural(count, "erreur", "erreurs"),
        };
        format!("{count} {word}")
    }

    /// A category's heading.
    pub fn category(self, category: Category) -> &'static str {
        match category {
            Category::E2e => self.tr("End to end", "De bout en bout"),
            Category::Custom => self.tr("Custom", "Personnalisés"),
            other => other.heading(),
        }
    }

    pub fn severity(self, severity: Severity) -> &'static str {
        match severity {
            Severity::Critical => self.tr("critical", "critique"),
            Severity::High => self.tr("high", "élevée"),
            Severity::Medium => self.tr("medium", "moyenne"),
            Severity::Low => self.tr("low", "faible"),
            Severity::Info => self.tr("info", "info"),
        }
    }

    /// The `lang` attribute of an HTML page.
    pub fn code(self) -> &'static str {
        self.tr("en", "fr")
    }
}

/// French plural: singular for 0 and 1.
fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count > 1 { many } else { one }
}

/// How to render, as decided by the command line; the same for every format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Emit ANSI colours (text only). The caller decides: `--no-color`, `NO_COLOR`, a tty.
    pub color: bool,
    /// Show every result's evidence in full (text only).
    pub verbose: bool,
    /// Show only failing results and the summary lines (text only).
    pub quiet: bool,
    /// Strings that must never appear in any output (passwords); empty strings are ignored.
    pub secrets: Vec<String>,
    /// The language of the formats people read.
    pub lang: Lang,
    /// Grades are shown out of this many points (`--scale 20`); `None`: only the score /100.
    pub scale: Option<u16>,
}

/// One output format.
pub trait Reporter {
    fn render(
        &self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()>;
}

/// The reporter for `format`, with secret scrubbing (and, for people, `--lang`) built in.
pub fn reporter(format: Format) -> Box<dyn Reporter> {
    let inner: Box<dyn Reporter> = match format {
        Format::Text => Box::new(text::Text),
        Format::Json => Box::new(json::Json),
        Format::Junit => Box::new(junit::Junit),
        Format::Markdown => Box::new(markdown::Markdown),
        Format::Html => Box::new(html::Html),
        Format::Class => Box::new(class::Class),
        Format::Csv => Box::new(csv::Csv),
    };
    let inner = if format.is_for_people() {
        Box::new(Localizing(inner))
    } else {
        inner
    };
    Box::new(Redacting(inner))
}

/// Renders into a string, for tests and for callers that post-process the output.
pub fn render_to_string(format: Format, report: &Report, options: &RenderOptions) -> String {
    let mut buffer = Vec::new();
    // Every reporter writes UTF-8 and fails only when its sink does; a Vec never does.
    reporter(format)
        .render(report, options, &mut buffer)
        .expect("rendering into memory cannot fail");
    String::from_utf8_lossy(&buffer).into_owned()
}

/// Scrubs the secrets from a copy of the report, then hands it to the real format.
struct Redacting(Box<dyn Reporter>);

impl Reporter for Redacting {
    fn render(
        &self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let redactor = Redactor::new(&options.secrets);
        if redactor.is_empty() {
            return self.0.render(report, options, out);
        }
        self.0.render(&redactor.report(report), options, out)
    }
}

/// Hands the real format a copy of the report whose titles and catalog fixes are in
/// [`RenderOptions::lang`], where the check has a text in that language.
struct Localizing(Box<dyn Reporter>);

impl Reporter for Localizing {
    fn render(
        &self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if options.lang == Lang::En {
            return self.0.render(report, options, out);
        }
        self.0
            .render(&localized(report, options.lang), options, out)
    }
}

/// A copy of `report` with each result's title, and its fix when it is the catalog's generic
/// one, in `lang`. A fix a check wrote for this very server stays as written: it says more.
fn localized(report: &Report, lang: Lang) -> Report {
    let mut report = report.clone();
    for result in report.targets.iter_mut().flat_map(|t| &mut t.results) {
        let Some(info) = crate::check::find(&result.id).map(|check| check.info()) else {
            continue;
        };
        let (title, fix) = check_texts(info, lang);
        result.title = title.to_owned();
        if result.fix.as_deref() == Some(info.fix) {
            result.fix = Some(fix.to_owned());
        }
    }
    report
}

/// A check's title and generic fix in `lang`; English where the check has no translation.
pub fn check_texts(info: &CheckInfo, lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => (info.title, info.fix),
        Lang::Fr => (
            info.title_fr.unwrap_or(info.title),
            info.fix_fr.unwrap_or(info.fix),
        ),
    }
}

/// What replaces a secret in every output.
pub const REDACTED: &str = "<redacted>";

/// Replaces secrets in strings. Besides each secret itself it looks for the secret's base64
/// form, because that is how SMTP `AUTH LOGIN` sends a password over the wire.
struct Redactor {
    /// Longest first, so that a secret containing another one is replaced whole.
    needles: Vec<String>,
}

impl Redactor {
    fn new(secrets: &[String]) -> Redactor {
        let mut needles: Vec<String> = secrets
            .iter()
            .filter(|secret| !secret.is_empty())
            .flat_map(|secret| [secret.clone(), base64(secret.as_bytes())])
            .collect();
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        Redactor { needles }
    }

    fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// One left-to-right pass, so a replacement is never searched again (a secret such as `red`
    /// must not eat into an earlier `<redacted>`).
    fn text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        'scan: while let Some(c) = rest.chars().next() {
            for needle in &self.needles {
                if let Some(after) = rest.strip_prefix(needle.as_str()) {
                    out.push_str(REDACTED);
                    rest = after;
                    continue 'scan;
                }
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    fn in_place(&self, text: &mut String) {
        if self
            .needles
            .iter()
            .any(|needle| text.contains(needle.as_str()))
        {
            *text = self.text(text);
        }
    }

    /// A copy of `report` with every string scrubbed: destructured in full so that a field added
    /// to the model later cannot slip past without a compile error here.
    fn report(&self, report: &Report) -> Report {
        let mut report = report.clone();
        let Report {
            schema,
            tool,
            started_at,
            duration_ms: _,
            targets,
        } = &mut report;
        for text in [schema, &mut tool.name, &mut tool.version, started_at] {
            self.in_place(text);
        }
        for target in targets {
            let TargetReport {
                name,
                target,
                domain,
                addresses,
                score: _,
                summary: _,
                results,
                error,
                budget_ms: _,
            } = target;
            self.in_place(target);
            name.iter_mut()
                .chain(domain.iter_mut())
                .chain(error.iter_mut())
                .chain(addresses)
                .for_each(|text| self.in_place(text));
            for result in results {
                let CheckResult {
                    id,
                    title,
                    category: _,
                    severity: _,
                    endpoint,
                    status: _,
                    message,
                    evidence,
                    fix,
                    duration_ms: _,
                } = result;
                [id, title, message]
                    .into_iter()
                    .chain(endpoint.iter_mut())
                    .chain(evidence.iter_mut())
                    .chain(fix.iter_mut())
                    .for_each(|text| self.in_place(text));
            }
        }
        report
    }
}

/// Standard base64 with padding (RFC 4648 §4), enough for [`Redactor`].
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// Helpers shared by the human-readable formats (text, Markdown).

/// How an endpoint is shown to people: `25/smtp` when every endpoint of the target is on the same
/// host (the header already names it), the full `host:port/proto` otherwise, `dns` for DNS.
pub(crate) struct EndpointLabels {
    single_host: bool,
}

impl EndpointLabels {
    pub(crate) fn of(target: &TargetReport) -> EndpointLabels {
        let mut hosts = target
            .results
            .iter()
            .filter_map(|r| r.endpoint.as_deref().map(split_host));
        let single_host = match hosts.next() {
            Some((first, _)) => hosts.all(|(host, _)| host == first),
            None => true,
        };
        EndpointLabels { single_host }
    }

    pub(crate) fn label<'a>(&self, result: &'a CheckResult) -> &'a str {
        match result.endpoint.as_deref() {
            None => no_endpoint(result),
            Some(endpoint) if self.single_host => split_host(endpoint).1,
            Some(endpoint) => endpoint,
        }
    }
}

/// What stands for the endpoint of a result that has none: `dns` for DNS checks (SPEC), the
/// category otherwise (a target-level check such as `e2e.dkim`).
pub(crate) fn no_endpoint(result: &CheckResult) -> &'static str {
    result.category.as_str()
}

/// `203.0.113.10:25/smtp` → (`203.0.113.10`, `25/smtp`); `[2001:db8::1]:25/smtp` →
/// (`[2001:db8::1]`, `25/smtp`). Anything else is all host, so it is shown in full.
fn split_host(endpoint: &str) -> (&str, &str) {
    let address = endpoint
        .split_once('/')
        .map_or(endpoint, |(address, _)| address);
    match address.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, &endpoint[host.len() + 1..])
        }
        _ => (endpoint, endpoint),
    }
}

/// `87.5/100`, or `n/a` when nothing weighed anything.
pub(crate) fn score_label(score: Option<f64>) -> String {
    match score {
        Some(score) => format!("{score:.1}/100"),
        None => "n/a".to_owned(),
    }
}

/// Whether a target had any `fail` or `error` (whatever their severity: the failing threshold
/// is the CLI's business).
pub fn has_failures(target: &TargetReport) -> bool {
    target.results.iter().any(|r| r.status.is_failing())
}

/// Control characters from a hostile server (escape sequences, carriage returns) are shown
/// escaped, so they can neither drive a terminal nor break a line-based layout.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// The order human-readable reports show categories in, whatever order the checks ran in.
pub(crate) const CATEGORY_ORDER: [Category; 7] = [
    Category::Smtp,
    Category::Tls,
    Category::Imap,
    Category::Pop3,
    Category::Dns,
    Category::E2e,
    Category::Custom,
];

pub(crate) fn category_rank(category: Category) -> usize {
    CATEGORY_ORDER
        .iter()
        .position(|&c| c == category)
        .unwrap_or(CATEGORY_ORDER.len())
}

/// A score on the `scale` (`--scale 20`: 87.5 → 17.5), one decimal; `None` without a score.
pub fn grade(score: Option<f64>, scale: u16) -> Option<f64> {
    score.map(|score| (score * f64::from(scale) / 10.0).round() / 10.0)
}

/// `17.5/20`, or `87.5/100` without a scale, or `n/a`.
pub(crate) fn grade_label(score: Option<f64>, scale: Option<u16>) -> String {
    let scale = scale.unwrap_or(100);
    match grade(score, scale) {
        Some(grade) => format!("{grade:.1}/{scale}"),
        None => "n/a".to_owned(),
    }
}

/// How bad a status is, for summing up a check over several endpoints: the worst shows. A
/// proven fault outranks "could not tell", which outranks a warning; a skip only shows when
/// nothing else does.
pub fn badness(status: Status) -> u8 {
    match status {
        Status::Skip => 0,
        Status::Pass => 1,
        Status::Warn => 2,
        Status::Error => 3,
        Status::Fail => 4,
    }
}

/// The worst status of check `id` over the target's endpoints; `None` when it did not run.
pub fn worst_status(target: &TargetReport, id: &str) -> Option<Status> {
    target
        .results
        .iter()
        .filter(|r| r.id == id)
        .map(|r| r.status)
        .max_by_key(|&status| badness(status))
}

/// The check ids of a class, as matrix columns: in catalog order (the order of `list` and of
/// every report), then ids the catalog does not know (custom checks) in order of appearance.
pub(crate) fn check_columns(report: &Report) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for result in report.targets.iter().flat_map(|t| &t.results) {
        if !ids.contains(&result.id.as_str()) {
            ids.push(&result.id);
        }
    }
    let rank = |id: &str| {
        crate::check::CATALOG
            .iter()
            .position(|check| check.info().id == id)
            .unwrap_or(usize::MAX)
    };
    // A stable sort keeps unknown ids in their order of appearance.
    ids.sort_by_key(|id| rank(id));
    ids
}

/// A target's failing results (`fail`, then `error`), most severe first, one per check id: what
/// a class summary names as "worst failures".
pub(crate) fn worst_failures(target: &TargetReport) -> Vec<&CheckResult> {
    let mut failing: Vec<&CheckResult> = target
        .results
        .iter()
        .filter(|r| r.status.is_failing())
        .collect();
    failing.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.severity),
            std::cmp::Reverse(badness(r.status)),
        )
    });
    let mut seen = Vec::new();
    failing.retain(|r| {
        let first = !seen.contains(&r.id.as_str());
        seen.push(r.id.as_str());
        first
    });
    failing
}

/// Why a target told nothing ([`TargetReport::is_unreachable`]): the first `error` on a port
/// (`port 25: cannot connect: connection refused`), or any first error.
pub(crate) fn unreachable_why(target: &TargetReport) -> Option<String> {
    let errors = || target.results.iter().filter(|r| r.status == Status::Error);
    errors()
        .find(|r| r.endpoint.is_some())
        .or_else(|| errors().next())
        .map(|r| printable(&r.message).into_owned())
}

/// Statuses in the order summaries list them.
pub(crate) const SUMMARY_ORDER: [Status; 5] = [
    Status::Pass,
    Status::Fail,
    Status::Warn,
    Status::Skip,
    Status::Error,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Severity, Tool};

    fn result(endpoint: Option<&str>) -> CheckResult {
        CheckResult {
            id: "smtp.vrfy.disabled".into(),
            title: "VRFY does not reveal mailboxes".into(),
            category: Category::Smtp,
            severity: Severity::Medium,
            endpoint: endpoint.map(Into::into),
            status: Status::Pass,
            message: "m".into(),
            evidence: vec![],
            fix: None,
            duration_ms: 1,
        }
    }

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        let error = "xml".parse::<Format>().unwrap_err().to_string();
        assert_eq!(
            error,
            "unknown report format `xml` (expected one of: text, json, junit, markdown, html)"
        );
        assert!(
            "csv".parse::<Format>().is_err(),
            "csv is batch's --csv, not a --format"
        );
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn redactor_replaces_secrets_and_their_base64_longest_first() {
        let redactor = Redactor::new(&[
            "hunter2".into(),
            "hunter2-long".into(),
            "red".into(),
            String::new(),
        ]);
        assert_eq!(
            redactor.text("pw hunter2-long, hunter2, aHVudGVyMg== red"),
            "pw <redacted>, <redacted>, <redacted> <redacted>"
        );
        assert_eq!(redactor.text("héllo wörld"), "héllo wörld");
        assert!(Redactor::new(&[String::new()]).is_empty());
    }

    #[test]
    fn redactor_scrubs_every_string_of_a_report() {
        let mut r = result(Some("s3cret:25/smtp"));
        r.message = "s3cret".into();
        r.evidence = vec!["C: s3cret".into()];
        r.fix = Some("s3cret".into());
        let report = Report {
            schema: "s".into(),
            tool: Tool::this(),
            started_at: "t".into(),
            duration_ms: 0,
            targets: vec![TargetReport::new(
                "s3cret".into(),
                Some("s3cret".into()),
                vec!["s3cret".into()],
                vec![r],
            )],
        };
        let scrubbed = Redactor::new(&["s3cret".into()]).report(&report);
        let json = serde_json::to_string(&scrubbed).unwrap();
        assert!(!json.contains("s3cret"), "{json}");
        assert_eq!(json.matches(REDACTED).count(), 7);
    }

    #[test]
    fn endpoints_are_shortened_only_on_a_single_host() {
        let one = TargetReport::new(
            "t".into(),
            None,
            vec![],
            vec![
                result(Some("203.0.113.10:25/smtp")),
                result(Some("203.0.113.10:587/smtp+starttls")),
                result(None),
                CheckResult {
                    category: Category::Dns,
                    ..result(None)
                },
            ],
        );
        let labels = EndpointLabels::of(&one);
        let shown: Vec<&str> = one.results.iter().map(|r| labels.label(r)).collect();
        // A result without endpoint shows its category: `dns` for DNS checks.
        assert_eq!(shown, ["25/smtp", "587/smtp+starttls", "smtp", "dns"]);

        let two = TargetReport::new(
            "t".into(),
            None,
            vec![],
            vec![
                result(Some("203.0.113.10:25/smtp")),
                result(Some("[2001:db8::10]:25/smtp")),
            ],
        );
        let labels = EndpointLabels::of(&two);
        let shown: Vec<&str> = two.results.iter().map(|r| labels.label(r)).collect();
        assert_eq!(shown, ["203.0.113.10:25/smtp", "[2001:db8::10]:25/smtp"]);
        assert_eq!(
            split_host("[2001:db8::10]:25/smtp"),
            ("[2001:db8::10]", "25/smtp")
        );
        assert_eq!(split_host("weird"), ("weird", "weird"));
    }

    #[test]
    fn grades_follow_the_scale() {
        assert_eq!(grade(Some(87.5), 20), Some(17.5));
        assert_eq!(grade(Some(24.5), 20), Some(4.9));
        assert_eq!(grade(Some(100.0), 20), Some(20.0));
        assert_eq!(grade(Some(59.1), 100), Some(59.1));
        assert_eq!(grade(None, 20), None);
        assert_eq!(grade_label(Some(87.5), Some(20)), "17.5/20");
        assert_eq!(grade_label(Some(87.5), None), "87.5/100");
        assert_eq!(grade_label(None, Some(20)), "n/a");
    }

    #[test]
    fn the_worst_status_shows_and_failures_are_ranked() {
        let mut a = result(Some("203.0.113.10:25/smtp"));
        a.status = Status::Pass;
        let mut b = result(Some("203.0.113.10:587/smtp"));
        b.status = Status::Error;
        let mut c = result(Some("203.0.113.10:465/smtps"));
        c.status = Status::Fail;
        let mut d = result(None);
        d.id = "smtp.relay.refused".into();
        d.severity = Severity::Critical;
        d.status = Status::Error;
        let target = TargetReport::new("t".into(), None, vec![], vec![a.clone(), b, c, d]);
        assert_eq!(
            worst_status(&target, "smtp.vrfy.disabled"),
            Some(Status::Fail)
        );
        assert_eq!(worst_status(&target, "smtp.expn.disabled"), None);
        let worst: Vec<(&str, Status)> = worst_failures(&target)
            .iter()
            .map(|r| (r.id.as_str(), r.status))
            .collect();
        assert_eq!(
            worst,
            [
                ("smtp.relay.refused", Status::Error),
                ("smtp.vrfy.disabled", Status::Fail)
            ]
        );
        let mut skip = a;
        skip.status = Status::Skip;
        let only_skip = TargetReport::new("t".into(), None, vec![], vec![skip]);
        assert_eq!(
            worst_status(&only_skip, "smtp.vrfy.disabled"),
            Some(Status::Skip)
        );
    }

    #[test]
    fn french_counts_agree_in_number() {
        let summary = Summary {
            pass: 2,
            fail: 1,
            warn: 0,
            skip: 3,
            error: 1,
        };
        assert_eq!(
            Lang::Fr.counts(&summary),
            "2 réussis, 1 échec, 0 à améliorer, 3 non applicables, 1 erreur"
        );
        assert_eq!(
            Lang::En.counts(&summary),
            "2 pass, 1 fail, 0 warn, 3 skip, 1 error"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            printable("S: 220 \u{1b}[31mhi\r"),
            "S: 220 \\u{1b}[31mhi\\r"
        );
        assert_eq!(printable("plain"), "plain");
    }
}
