//! The JUnit XML report (SPEC "JUnit"), for CI servers' test views, written with nextest's
//! `quick-junit` (which carries what CI consumers read and junit-report could not write: suite
//! `skipped` counts, `<properties>`, extra attributes such as `hostname`, a suite `time` of our
//! choosing, and indented output, so no hand-made XML post-processing is needed).
//!
//! One `<testsuite>` per target, named after it (after its student in `batch`), `hostname` the
//! target, its `time` the target's wall time (not the sum of its checks, which ran side by side),
//! the score, target, domain, addresses and summary as `<properties>` (and again in its
//! `<system-out>` for viewers that show no properties). One `<testcase>` per result, named
//! `<id> @ <endpoint>`, or `<id> @ <domain>` for a result without an endpoint (DNS, target-level
//! e2e checks) so names stay unique across targets, with the category as `classname` and the
//! duration.
//! `fail` becomes `<failure>` and `error` `<error>` (message = the result's message, type = its
//! severity), `skip` becomes `<skipped>`; `warn` passes. Every test case's `<system-out>` holds
//! `STATUS: message`, the evidence one line each and `fix: ...`; failures and errors repeat the
//! evidence and fix as their body, which is what Jenkins and GitLab show first.
//!
//! Server text can hold anything; XML 1.0 cannot, so control characters are written escaped
//! (`\u{1b}`) before the writer sees them (it would drop them).

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{RenderOptions, Reporter, SUMMARY_ORDER, printable, score_label};
use crate::outcome::{CheckResult, Report, Status, TargetReport};

pub(super) struct Junit;

impl Reporter for Junit {
    fn render(
        &self,
        report: &Report,
        _options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let mut junit = quick_junit::Report::new("mailcheck");
        // The run's start, so the same report always gives the same XML.
        let timestamp = chrono_time(report.started_at);
        junit.set_time(Duration::from_millis(report.duration_ms));
        junit.add_test_suites(report.targets.iter().map(|target| suite(target, timestamp)));
        junit.serialize(out).map_err(io::Error::other)
    }
}

/// The same instant for the writer, which takes chrono's type.
fn chrono_time(at: time::OffsetDateTime) -> chrono::DateTime<chrono::FixedOffset> {
    let utc =
        chrono::DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond()).unwrap_or_default();
    let offset = chrono::FixedOffset::east_opt(at.offset().whole_seconds())
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset"));
    utc.with_timezone(&offset)
}

fn suite(target: &TargetReport, timestamp: chrono::DateTime<chrono::FixedOffset>) -> TestSuite {
    // In batch a suite is a student: CI views list suites by name.
    let mut suite = TestSuite::new(xml_safe(target.display_name()));
    suite.set_timestamp(timestamp);
    // The target's wall time; one without (a bad roster row, an older report) has none.
    if let Some(ms) = target.duration_ms {
        suite.set_time(Duration::from_millis(ms));
    }
    suite
        .extra
        .insert("hostname".into(), xml_safe(&target.target).into());
    let domain = target.domain.as_deref().unwrap_or(&target.target);
    suite.add_test_cases(target.results.iter().map(|result| testcase(result, domain)));

    let counts: Vec<String> = SUMMARY_ORDER
        .into_iter()
        .map(|status| format!("{} {}", target.summary.count(status), status))
        .collect();
    let mut about = Vec::new();
    if let Some(name) = &target.name {
        about.push(("student", name.clone()));
    }
    about.push(("target", target.target.clone()));
    if let Some(domain) = &target.domain {
        about.push(("domain", domain.clone()));
    }
    about.push(("addresses", target.addresses.join(", ")));
    about.push(("score", score_label(target.score)));
    about.push(("summary", counts.join(", ")));
    suite.add_properties(
        about
            .iter()
            .map(|(name, value)| Property::new(*name, xml_safe(value))),
    );
    let text: Vec<String> = about
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    suite.set_system_out(lines_safe(&text.join("\n")));
    suite
}

/// The test case's name: `<id> @ <endpoint>`, or `<id> @ <domain>` without an endpoint.
pub(crate) fn case_name(result: &CheckResult, domain: &str) -> String {
    let place = result
        .endpoint
        .map_or_else(|| domain.to_owned(), |e| e.to_string());
    xml_safe(&format!("{} @ {place}", result.id))
}

fn testcase(result: &CheckResult, domain: &str) -> TestCase {
    let message = xml_safe(&result.message);

    // The evidence and fix, the body of a failure or error.
    let mut details: Vec<String> = result.evidence.clone();
    if let Some(fix) = &result.fix {
        details.push(format!("fix: {fix}"));
    }
    let details = lines_safe(&details.join("\n"));

    let status = match result.status {
        Status::Pass | Status::Warn => TestCaseStatus::success(),
        Status::Fail | Status::Error => {
            let kind = if result.status == Status::Fail {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut status = TestCaseStatus::non_success(kind);
            status.set_message(message.as_str());
            status.set_type(result.severity.as_str());
            if !details.is_empty() {
                status.set_description(details.as_str());
            }
            status
        }
        Status::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(message.as_str());
            status.set_type(result.severity.as_str());
            status
        }
    };
    let mut case = TestCase::new(case_name(result, domain), status);
    case.set_time(Duration::from_millis(result.duration_ms));
    case.set_classname(result.category.as_str());

    let tag = result.status.as_str().to_uppercase();
    let out = if details.is_empty() {
        format!("{tag}: {message}")
    } else {
        format!("{tag}: {message}\n{details}")
    };
    case.set_system_out(out);
    case
}

/// Text that XML 1.0 can carry: control characters (other than the newlines we put between
/// lines) escaped, the two non-characters replaced.
fn xml_safe(text: &str) -> String {
    printable(text).replace(['\u{fffe}', '\u{ffff}'], "\u{fffd}")
}

/// [`xml_safe`] per line, keeping the newlines we put between lines.
fn lines_safe(text: &str) -> String {
    text.split('\n')
        .map(xml_safe)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_not_dropped() {
        assert_eq!(
            lines_safe("S: a]]>b\nS: \u{1b}[0m"),
            "S: a]]>b\nS: \\u{1b}[0m"
        );
        assert_eq!(xml_safe("a\u{ffff}b\u{0}"), "a\u{fffd}b\\u{0}");
    }
}
