//! Reporters: turn a finished [`Report`] into what a person, a script or a CI server reads.
//!
//! One file per format, each a unit struct implementing [`Reporter`], chosen in one `match` in
//! [`reporter`] (the lychee formatter pattern): adding a format is one more file, one more
//! [`Format`] variant and one more arm. Reporters only read the [`crate::outcome`] model; they
//! never know a protocol or open a socket.
//!
//! Secrets are scrubbed here, once, for every format: [`reporter`] wraps each format in a
//! [`redact::Redacting`] reporter that renders a copy of the report in which every occurrence of each
//! [`RenderOptions::secrets`] string has become `<redacted>`. The transcripts already redact
//! credentials at the source; this is the second line of defence.
//!
//! The formats people read also speak French (`--lang fr`): their chrome goes through [`Lang`],
//! and a [`lang::Localizing`] step swaps each result's title and catalog fix for the check's French
//! text when it has one. The machine formats (JSON, CSV) stay in English.

mod class;
mod csv;
mod format;
mod html;
mod json;
mod junit;
mod lang;
mod markdown;
mod redact;
mod text;
mod view;

use std::io::{self, Write};

pub use format::{Format, UnknownFormat};
use lang::Localizing;
pub use lang::{Lang, check_texts};
pub use redact::REDACTED;
use redact::Redacting;
pub use text::terminal_width;
pub(crate) use view::*;
pub use view::{badness, grade, has_failures, worst_status};

use crate::outcome::Report;

/// How to render, as decided by the command line; the same for every format.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Columns the text report is laid out for, held to 60–160 ([`terminal_width`] for a
    /// terminal; 80 by default).
    pub width: usize,
}

impl Default for RenderOptions {
    fn default() -> RenderOptions {
        RenderOptions {
            color: false,
            verbose: false,
            quiet: false,
            secrets: Vec::new(),
            lang: Lang::default(),
            scale: None,
            width: text::DEFAULT_WIDTH,
        }
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use crate::outcome::{Category, CheckResult, Severity, Status};

    pub(super) fn result(endpoint: Option<&str>) -> CheckResult {
        CheckResult {
            id: "smtp.vrfy.disabled".into(),
            title: "VRFY does not reveal mailboxes".into(),
            category: Category::Smtp,
            severity: Severity::Medium,
            endpoint: endpoint.map(|e| e.parse().unwrap()),
            status: Status::Pass,
            message: "m".into(),
            evidence: vec![],
            fix: None,
            duration_ms: 1,
        }
    }
}
