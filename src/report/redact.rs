//! Secrets scrubbed from every format, once: [`Redacting`] renders a copy of the report in
//! which each secret, and its base64 form (how `AUTH LOGIN` sends it), is `<redacted>`.

use std::io::{self, Write};

use base64::Engine as _;

use super::{RenderOptions, Reporter};
use crate::outcome::{CheckResult, Report, TargetReport};

/// Scrubs the secrets from a copy of the report, then hands it to the real format.
pub(super) struct Redacting(pub(super) Box<dyn Reporter>);

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
            started_at: _,
            duration_ms: _,
            targets,
        } = &mut report;
        for text in [schema, &mut tool.name, &mut tool.version] {
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
                duration_ms: _,
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
                    endpoint: _,
                    status: _,
                    message,
                    evidence,
                    fix,
                    duration_ms: _,
                } = result;
                [id, title, message]
                    .into_iter()
                    .chain(evidence.iter_mut())
                    .chain(fix.iter_mut().map(|fix| &mut fix.text))
                    .for_each(|text| self.in_place(text));
            }
        }
        report
    }
}

/// Standard base64 with padding (RFC 4648 §4), enough for [`Redactor`].
fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Tool;
    use crate::report::tests::result;

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
        let mut r = result(Some("192.0.2.1:25/smtp"));
        r.message = "s3cret".into();
        r.evidence = vec!["C: s3cret".into()];
        r.fix = Some("s3cret".into());
        let report = Report {
            schema: "s".into(),
            tool: Tool::this(),
            started_at: time::OffsetDateTime::UNIX_EPOCH,
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
        assert_eq!(json.matches(REDACTED).count(), 6);
    }
}
