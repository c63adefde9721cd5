//! The report formats: those of `--format` and the file options, and `batch`'s own two.

use std::fmt;
use std::str::FromStr;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
