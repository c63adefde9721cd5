//! Scenario diagnostics: what went wrong, where, and what to do about it.
//!
//! A [`ScenarioError`] holds one or more [`Diagnostic`]s and renders them the way rustc and Hurl
//! do, so that a person can fix a scenario file without reading our source:
//!
//! ```text
//! error: unknown check `smtp.vrfy.disable`
//!  --> my-site.yaml:4:5
//!   |
//! 4 |   - smtp.vrfy.disable
//!   |     ^^^^^^^^^^^^^^^^^ not in the check catalog
//!   |
//!   = help: did you mean `smtp.vrfy.disabled`?
//! ```

use std::fmt;

use marked_yaml::types::MarkedScalarNode;
use marked_yaml::{LoadError, Marker, Node};

/// Everything wrong with a scenario (or with the `--only`/`--skip` globs), each problem with its
/// own location and hint. Rendered by `Display`; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    diagnostics: Vec<Diagnostic>,
    /// Problems found past [`MAX_SHOWN`], counted and not kept: a file with a million bad lines
    /// costs neither a million diagnostics in memory nor a million on the screen.
    omitted: usize,
}

/// The most problems an error keeps and shows; the rest are counted ("... and 7 more").
pub const MAX_SHOWN: usize = 20;

impl ScenarioError {
    pub(crate) fn new(mut diagnostics: Vec<Diagnostic>) -> ScenarioError {
        debug_assert!(
            !diagnostics.is_empty(),
            "a ScenarioError reports at least one problem"
        );
        let omitted = diagnostics.len().saturating_sub(MAX_SHOWN);
        diagnostics.truncate(MAX_SHOWN);
        ScenarioError {
            diagnostics,
            omitted,
        }
    }

    /// `count` more problems than those kept were found.
    pub(crate) fn with_omitted(mut self, count: usize) -> ScenarioError {
        self.omitted += count;
        self
    }

    /// How many problems were found beyond those kept.
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    pub(crate) fn single(diagnostic: Diagnostic) -> ScenarioError {
        ScenarioError::new(vec![diagnostic])
    }

    /// The problems, in the order they appear in the file.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.diagnostics.iter().enumerate() {
            if index > 0 {
                f.write_str("\n\n")?;
            }
            diagnostic.fmt(f)?;
        }
        if self.omitted > 0 {
            let problems = if self.omitted == 1 {
                "problem"
            } else {
                "problems"
            };
            write!(
                f,
                "\n\n... and {} more {problems} (only the first {MAX_SHOWN} are shown: fix these and run again)",
                self.omitted
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// One problem: a message, where it is (when it is in a file) and hints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, as a lowercase fragment (`unknown check `smtp.vrfy.disable``).
    pub message: String,
    pub location: Option<Location>,
    /// A few words printed after the carets (`not in the check catalog`).
    pub label: Option<String>,
    /// `help:` and `note:` lines, in order.
    pub footer: Vec<(FooterKind, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FooterKind {
    /// What to do: `did you mean ...?`, `write ... instead`.
    Help,
    /// Context: `expected one of: ...`.
    Note,
}

impl FooterKind {
    fn as_str(self) -> &'static str {
        match self {
            FooterKind::Help => "help",
            FooterKind::Note => "note",
        }
    }
}

/// A place in a file, with the line's text so the error renders without the file at hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it (or `scenarios/NAME.yaml` for a built-in profile).
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The line, without its line break; a long line only around `column`, with `…` where it
    /// is cut (a one-line file of a megabyte must not be copied into every diagnostic).
    pub source_line: String,
    /// How many characters to underline from `column` (at least 1).
    pub width: usize,
    /// How many characters of the line `source_line` starts after (less its `…`): `column`
    /// is at `column - shift` in `source_line`.
    pub shift: usize,
}

/// The most characters of a line a diagnostic keeps.
const MAX_LINE_CHARS: usize = 160;

impl Diagnostic {
    pub(crate) fn new(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            location: None,
            label: None,
            footer: Vec::new(),
        }
    }

    pub(crate) fn at(mut self, location: Option<Location>) -> Diagnostic {
        self.location = location;
        self
    }

    pub(crate) fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn help(mut self, text: impl Into<String>) -> Diagnostic {
        self.footer.push((FooterKind::Help, text.into()));
        self
    }

    pub(crate) fn note(mut self, text: impl Into<String>) -> Diagnostic {
        self.footer.push((FooterKind::Note, text.into()));
        self
    }

    /// `help: did you mean `x`?` when there is a close candidate, else `note: expected one of`.
    pub(crate) fn suggest(self, suggestion: Option<&str>, expected: &[&str]) -> Diagnostic {
        match suggestion {
            Some(close) => self.help(format!("did you mean `{close}`?")),
            None => self.note(format!("expected one of: {}", expected.join(", "))),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = vec![format!("error: {}", self.message)];
        // The gutter is as wide as the line number, as in rustc; hints without a location are
        // indented by two spaces.
        let gutter = match &self.location {
            Some(location) => " ".repeat(location.line.to_string().len()),
            None => " ".to_string(),
        };
        if let Some(location) = &self.location {
            let (text, caret_offset, caret_width) = location.display();
            lines.push(format!(
                "{gutter}--> {}:{}:{}",
                location.file, location.line, location.column
            ));
            lines.push(format!("{gutter} |"));
            lines.push(format!("{} | {text}", location.line).trim_end().to_string());
            let label = self
                .label
                .as_deref()
                .map(|l| format!(" {l}"))
                .unwrap_or_default();
            lines.push(format!(
                "{gutter} | {}{}{label}",
                " ".repeat(caret_offset),
                "^".repeat(caret_width)
            ));
            if !self.footer.is_empty() {
                lines.push(format!("{gutter} |"));
            }
        }
        for (kind, text) in &self.footer {
            lines.push(format!("{gutter} = {}: {text}", kind.as_str()));
        }
        f.write_str(&lines.join("\n"))
    }
}

impl Location {
    /// The line as shown (tabs as four spaces, like rustc), and the caret's offset and width in
    /// that shown line.
    fn display(&self) -> (String, usize, usize) {
        let shown_width = |c: char| if c == '\t' { 4 } else { 1 };
        let text: String = self
            .source_line
            .chars()
            .map(|c| {
                if c == '\t' {
                    "    ".to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
        // Past the end of the line (a YAML error at the end of input), the caret lands just
        // after the last character.
        let before: usize = self
            .source_line
            .chars()
            .take(self.column - 1 - self.shift)
            .map(shown_width)
            .sum();
        let width: usize = self
            .source_line
            .chars()
            .skip(self.column - 1 - self.shift)
            .take(self.width)
            .map(shown_width)
            .sum();
        (text, before, width.max(1))
    }
}

/// A scenario's text and the name to show for it; turns YAML markers into [`Location`]s.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// The location of a marker, underlining the token that starts there.
    pub fn locate(&self, marker: &Marker) -> Location {
        self.locate_line_column(marker.line(), marker.column())
    }

    /// The location of a marker when the node has one.
    pub fn at(&self, marker: Option<&Marker>) -> Option<Location> {
        marker.map(|marker| self.locate(marker))
    }

    /// Where a node starts. Block mappings carry odd start marks in marked-yaml, so a mapping
    /// is located by its first key.
    pub fn node_at(&self, node: &Node) -> Option<Location> {
        match node {
            Node::Mapping(map) => match map.keys().next() {
                Some(key) => self.at(key.span().start()),
                None => self.at(map.span().start()),
            },
            other => self.at(other.span().start()),
        }
    }

    /// Where the value of `key` is; at the key when the value is empty (an empty value's mark
    /// is on the next line).
    pub fn value_at(&self, key: &MarkedScalarNode, value: &Node) -> Option<Location> {
        match value {
            Node::Scalar(scalar) if scalar.is_empty() && scalar.may_coerce() => {
                self.at(key.span().start())
            }
            other => self.node_at(other),
        }
    }

    pub fn locate_line_column(&self, line: usize, column: usize) -> Location {
        let source_line = self
            .text
            .split('\n')
            .nth(line.saturating_sub(1))
            .unwrap_or("")
            .trim_end_matches('\r');
        let column = column.max(1);
        let (shown, shift) = window(source_line, column);
        Location {
            file: self.file.to_string(),
            line: line.max(1),
            column,
            width: token_width(&shown, column - shift),
            source_line: shown,
            shift,
        }
    }
}

/// The part of `line` a diagnostic at `column` shows: all of it when short, else
/// [`MAX_LINE_CHARS`] characters from a little before `column`, with `…` at a cut. Returns the
/// text and its shift (see [`Location::shift`]).
fn window(line: &str, column: usize) -> (String, usize) {
    if line.len() <= MAX_LINE_CHARS {
        return (line.to_string(), 0);
    }
    let start = column.saturating_sub(MAX_LINE_CHARS / 4 + 1);
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    let mut chars = line.chars().skip(start);
    shown.extend(chars.by_ref().take(MAX_LINE_CHARS));
    if chars.next().is_some() {
        shown.push('…');
    }
    // With a leading `…`, the kept text starts one character later in `shown`.
    let shift = if start > 0 { start - 1 } else { 0 };
    (shown, shift)
}

/// What kind of YAML file is read (a scenario, a roster), for the words of its YAML-level errors.
pub(crate) struct YamlKind<'a> {
    /// `scenario`, `roster`.
    pub noun: &'a str,
    /// The keys an example mapping would start with: `` `name:` and `checks:` ``.
    pub example_keys: &'a str,
    /// Every top-level key, for "expected one of".
    pub keys: &'a [&'a str],
    /// What to do instead of putting a second document in the file.
    pub split_help: &'a str,
}

impl Source<'_> {
    fn locate_marker(&self, marker: Option<&Marker>) -> Option<Location> {
        marker.map(|marker| self.locate(marker))
    }

    /// marked-yaml reads the first YAML document only; a second one would be ignored silently,
    /// so it is an error, at the line that starts it.
    pub(crate) fn second_document(&self, kind: &YamlKind<'_>) -> Option<Diagnostic> {
        let mut content_seen = false;
        for (index, line) in self.text.lines().enumerate() {
            let starts_document = line == "---" || line.starts_with("--- ") || line == "...";
            if starts_document && content_seen {
                let diagnostic =
                    Diagnostic::new(format!("a {} file holds one YAML document", kind.noun))
                        .at(Some(self.locate_line_column(index + 1, 1)))
                        .label("another document starts here")
                        .help(kind.split_help);
                return Some(diagnostic);
            }
            let trimmed = line.trim_start();
            content_seen |= !trimmed.is_empty() && !trimmed.starts_with('#') && !starts_document;
        }
        None
    }

    /// A YAML-level problem (syntax, duplicate key, wrong top level) as a located diagnostic
    /// with a hint for the usual causes.
    pub(crate) fn yaml_error(&self, error: LoadError, kind: &YamlKind<'_>) -> Diagnostic {
        let noun = kind.noun;
        match error {
            LoadError::ScanError(marker, scan) => {
                let info = scan.info();
                let diagnostic = Diagnostic::new(format!("invalid YAML: {info}"));
                let diagnostic = match self.end_of_input(&marker) {
                    Some(end) => diagnostic.at(Some(end)).label("the file ends here"),
                    None => diagnostic.at(self.locate_marker(Some(&marker))),
                };
                if info.contains("flow mapping") {
                    diagnostic.help("a `{` above is not closed: look for a missing `}` or `,`")
                } else if info.contains("flow sequence") {
                    diagnostic.help("a `[` above is not closed: look for a missing `]` or `,`")
                } else if info.contains("anchor") || info.contains("alias") {
                    diagnostic.help(
                        "a value that starts with `*` is a YAML alias: quote it, e.g. `- \"*.disabled\"`",
                    )
                } else if info.contains("tab") {
                    diagnostic.help("indent with spaces: YAML does not allow tabs there")
                } else if info.contains("mapping values are not allowed") {
                    diagnostic.help(
                        "check this line's indentation; a value that contains `: ` needs quotes",
                    )
                } else {
                    diagnostic
                }
            }
            LoadError::DuplicateKey(duplicate) => {
                let first = duplicate.prev_key.span().start().map_or(0, Marker::line);
                Diagnostic::new(format!("duplicate key `{}`", duplicate.key.as_str()))
                    .at(self.locate_marker(duplicate.key.span().start()))
                    .label("given again here")
                    .note(format!("first given on line {first}"))
                    .help("keep one of them")
            }
            LoadError::TopLevelMustBeMapping(marker) => Diagnostic::new(format!(
                "a {noun} must be a mapping of keys such as {}",
                kind.example_keys
            ))
            .at(self.locate_marker(Some(&marker)))
            .label("not a `key: value` line")
            .note(format!("expected one of: {}", kind.keys.join(", "))),
            LoadError::TopLevelMustBeSequence(marker) => {
                // Only asked for with `toplevel_sequence()`, which we never do.
                Diagnostic::new("unexpected YAML at top level")
                    .at(self.locate_marker(Some(&marker)))
            }
            LoadError::UnexpectedAnchor(marker) => Diagnostic::new(format!(
                "YAML anchors and aliases are not supported in {noun}s"
            ))
            .at(self.locate_marker(Some(&marker)))
            .help("if the value starts with `&` or `*`, quote it"),
            LoadError::UnexpectedTag(marker) => Diagnostic::new(format!(
                "YAML tags such as `!!str` are not supported in {noun}s"
            ))
            .at(self.locate_marker(Some(&marker)))
            .help("if the value starts with `!`, quote it"),
            LoadError::MappingKeyMustBeScalar(marker) => {
                Diagnostic::new("a key must be a word, not a list or a mapping")
                    .at(self.locate_marker(Some(&marker)))
            }
        }
    }

    /// When the YAML parser stops at the end of the input, the place to show is the end of the
    /// last line that has something on it, not the empty line after it.
    fn end_of_input(&self, marker: &Marker) -> Option<Location> {
        let lines: Vec<&str> = self.text.lines().collect();
        let from = marker.line().saturating_sub(1);
        if lines.iter().skip(from).any(|line| !line.trim().is_empty()) {
            return None;
        }
        let (index, line) = lines
            .iter()
            .enumerate()
            .take(from)
            .rfind(|(_, line)| !line.trim().is_empty())?;
        let end = line.trim_end().chars().count() + 1;
        Some(self.locate_line_column(index + 1, end))
    }
}

/// The length in characters of the YAML token starting at `column` (1-based) of `line`: a quoted
/// string with its quotes, or a plain scalar up to what ends it (`: `, `,`, `}`, `]`, ` #`).
fn token_width(line: &str, column: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(column - 1).collect();
    let Some(&first) = rest.first() else { return 1 };
    // A list or mapping: mark where it opens.
    if matches!(first, '[' | '{') || (first == '-' && rest.get(1).is_none_or(|c| c.is_whitespace()))
    {
        return 1;
    }
    if first == '"' || first == '\'' {
        let mut index = 1;
        while index < rest.len() {
            match rest[index] {
                '\\' if first == '"' => index += 2,
                // '' is an escaped quote inside a single-quoted string.
                '\'' if first == '\'' && rest.get(index + 1) == Some(&'\'') => index += 2,
                c if c == first => return index + 1,
                _ => index += 1,
            }
        }
        return rest.len();
    }
    let mut end = 0;
    while end < rest.len() {
        let c = rest[end];
        let next = rest.get(end + 1).copied();
        let ends = matches!(c, ',' | '}' | ']' | '{' | '[')
            || (c == ':' && next.is_none_or(char::is_whitespace))
            || (c == '#' && end > 0 && rest[end - 1].is_whitespace());
        if ends {
            break;
        }
        end += 1;
    }
    let token: String = rest[..end].iter().collect();
    token.trim_end().chars().count().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_width_stops_where_yaml_does() {
        assert_eq!(token_width("  - smtp.vrfy.disable", 5), 17);
        assert_eq!(
            token_width("  - smtp.vrfy.disabled: { severity: hgh }", 5),
            18
        );
        assert_eq!(
            token_width("  - smtp.vrfy.disabled: { severity: hgh }", 37),
            3
        );
        assert_eq!(token_width("name: 'it''s' # comment", 7), 7);
        assert_eq!(token_width("name: \"a\\\"b\"", 7), 6);
        assert_eq!(token_width("description: two words # note", 14), 9);
        assert_eq!(token_width("", 1), 1);
        assert_eq!(token_width("  - relay_domain: x", 3), 1);
        assert_eq!(token_width("name: [a, b]", 7), 1);
        assert_eq!(token_width("- -1", 3), 2);
    }

    #[test]
    fn renders_like_rustc() {
        let source = Source {
            file: "x.yaml",
            text: "checks:\n  - smtp.vrfy.disable\n",
        };
        let diagnostic = Diagnostic::new("unknown check `smtp.vrfy.disable`")
            .at(Some(source.locate_line_column(2, 5)))
            .label("not in the check catalog")
            .help("did you mean `smtp.vrfy.disabled`?");
        assert_eq!(
            diagnostic.to_string(),
            "error: unknown check `smtp.vrfy.disable`
 --> x.yaml:2:5
  |
2 |   - smtp.vrfy.disable
  |     ^^^^^^^^^^^^^^^^^ not in the check catalog
  |
  = help: did you mean `smtp.vrfy.disabled`?"
        );
    }

    #[test]
    fn renders_without_location_and_past_the_end_of_a_line() {
        let diagnostic = Diagnostic::new("unknown profile `x`").note("expected one of: a, b");
        assert_eq!(
            diagnostic.to_string(),
            "error: unknown profile `x`\n  = note: expected one of: a, b"
        );

        let source = Source {
            file: "x.yaml",
            text: "a:\tb",
        };
        let shown = Diagnostic::new("oops")
            .at(Some(source.locate_line_column(1, 5)))
            .to_string();
        assert_eq!(
            shown,
            "error: oops\n --> x.yaml:1:5\n  |\n1 | a:    b\n  |        ^"
        );
    }
}
