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

mod json;
mod junit;
mod markdown;
mod text;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use crate::outcome::{Category, CheckResult, Report, Status, TargetReport};

/// An output format of `--format` and of the `--json`/`--junit`/`--markdown` file options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Json,
    Junit,
    Markdown,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Text, Format::Json, Format::Junit, Format::Markdown];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
        }
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

/// The reporter for `format`, with secret scrubbing built in.
pub fn reporter(format: Format) -> Box<dyn Reporter> {
    let inner: Box<dyn Reporter> = match format {
        Format::Text => Box::new(text::Text),
        Format::Json => Box::new(json::Json),
        Format::Junit => Box::new(junit::Junit),
        Format::Markdown => Box::new(markdown::Markdown),
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
                target,
                domain,
                addresses,
                score: _,
                summary: _,
                results,
            } = target;
            self.in_place(target);
            domain
                .iter_mut()
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
            None => "dns",
            Some(endpoint) if self.single_host => split_host(endpoint).1,
            Some(endpoint) => endpoint,
        }
    }
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
pub(crate) fn has_failures(target: &TargetReport) -> bool {
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
            "unknown report format `xml` (expected one of: text, json, junit, markdown)"
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
            ],
        );
        let labels = EndpointLabels::of(&one);
        let shown: Vec<&str> = one.results.iter().map(|r| labels.label(r)).collect();
        assert_eq!(shown, ["25/smtp", "587/smtp+starttls", "dns"]);

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
    fn control_characters_are_escaped() {
        assert_eq!(
            printable("S: 220 \u{1b}[31mhi\r"),
            "S: 220 \\u{1b}[31mhi\\r"
        );
        assert_eq!(printable("plain"), "plain");
    }
}
