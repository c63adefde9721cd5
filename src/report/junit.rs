//! The JUnit XML report (SPEC "JUnit"), for CI servers' test views.
//!
//! One `<testsuite>` per target, named after it (after its student in `batch`), its `time` the
//! target's wall time (not the sum of its checks, which ran side by side); one `<testcase>`
//! per result, named `<id> @ <endpoint>` (`dns` for DNS results) with the category as `classname`
//! and the duration.
//! `fail` becomes `<failure>` and `error` `<error>` (message = the result's message, type = its
//! severity), `skip` becomes `<skipped>`; `warn` passes. Every test case's `<system-out>` holds
//! `STATUS: message`, the evidence one line each and `fix: ...`; failures and errors repeat the
//! evidence and fix as their body, which is what Jenkins and GitLab show first. junit-report has
//! no `<properties>`, so the score goes in the suite's `<system-out>`.
//!
//! Server text can hold anything; XML 1.0 cannot, so control characters are written escaped
//! (`\u{1b}`) and a `]]>` is split across two CDATA sections.

use std::io::{self, Write};

use junit_report::{ReportBuilder, TestCase, TestSuite};
use time::{Duration, OffsetDateTime};

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
        // The run's start, so the same report always gives the same XML.
        let timestamp = report.started_at;
        let suites = report.targets.iter().map(|target| suite(target, timestamp));
        let junit = ReportBuilder::new().add_testsuites(suites).build();
        let mut xml = Vec::new();
        junit.write_xml(&mut xml).map_err(io::Error::other)?;
        let xml = String::from_utf8(xml).map_err(io::Error::other)?;
        let walls: Vec<Option<u64>> = report.targets.iter().map(|t| t.duration_ms).collect();
        let xml = with_suite_times(&xml, &walls);
        out.write_all(indent(&xml).as_bytes())?;
        out.write_all(b"\n")
    }
}

/// Sets each `<testsuite>`'s `time` to its target's wall time, in suite order, where the report
/// has one. junit-report writes the sum of the test cases' times, which overstates a target
/// whose checks ran side by side (and `batch`'s students run in parallel too); a target without
/// a wall time (a bad roster row, an older report) keeps the sum.
fn with_suite_times(xml: &str, walls: &[Option<u64>]) -> String {
    const OPEN: &str = "<testsuite ";
    const TIME: &str = " time=\"";
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    let mut walls = walls.iter();
    while let Some(at) = rest.find(OPEN) {
        let tag_end = rest[at..].find('>').map_or(rest.len(), |end| at + end);
        out.push_str(&rest[..at]);
        let tag = &rest[at..tag_end];
        // Attribute values are escaped, so the first `>` ends the tag and ` time="` is ours.
        match (walls.next().copied().flatten(), tag.find(TIME)) {
            (Some(ms), Some(time_at)) => {
                let value_start = time_at + TIME.len();
                let value_end = tag[value_start..]
                    .find('"')
                    .map_or(tag.len(), |end| value_start + end);
                out.push_str(&tag[..value_start]);
                out.push_str(
                    &Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
                        .as_seconds_f64()
                        .to_string(),
                );
                out.push_str(&tag[value_end..]);
            }
            _ => out.push_str(tag),
        }
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out
}

/// One element per line, indented by depth: junit-report writes everything on one line, which
/// is hard to read in a CI artifact and to diff. Whitespace goes only between two tags, never
/// next to text or CDATA, so no element's content changes. (quick-xml escapes `<` and `>` in
/// attribute values, so a `>` outside CDATA always closes a tag.)
fn indent(xml: &str) -> String {
    const CDATA: &str = "<![CDATA[";
    let mut out = String::with_capacity(xml.len() + xml.len() / 8);
    let mut depth = 0usize;
    let mut after_tag = false;
    let mut rest = xml;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with(CDATA) {
            let end = rest.find("]]>").map_or(rest.len(), |at| at + 3);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            after_tag = false;
        } else if c == '<' {
            let end = rest.find('>').map_or(rest.len(), |at| at + 1);
            let tag = &rest[..end];
            let closing = tag.starts_with("</");
            if closing {
                depth = depth.saturating_sub(1);
            }
            if after_tag {
                out.push('\n');
                out.extend(std::iter::repeat_n("  ", depth));
            }
            out.push_str(tag);
            if !closing && !tag.ends_with("/>") && !tag.starts_with("<?") {
                depth += 1;
            }
            rest = &rest[end..];
            after_tag = true;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            after_tag = false;
        }
    }
    out
}

fn suite(target: &TargetReport, timestamp: OffsetDateTime) -> TestSuite {
    // In batch a suite is a student: CI views list suites by name.
    let mut suite = TestSuite::new(&xml_safe(target.display_name()));
    suite.set_timestamp(timestamp);
    suite.add_testcases(target.results.iter().map(testcase));

    let counts: Vec<String> = SUMMARY_ORDER
        .into_iter()
        .map(|status| format!("{} {}", target.summary.count(status), status))
        .collect();
    let mut about = Vec::new();
    if let Some(name) = &target.name {
        about.push(format!("student: {name}"));
    }
    about.push(format!("target: {}", target.target));
    if let Some(domain) = &target.domain {
        about.push(format!("domain: {domain}"));
    }
    about.push(format!("addresses: {}", target.addresses.join(", ")));
    about.push(format!("score: {}", score_label(target.score)));
    about.push(format!("summary: {}", counts.join(", ")));
    suite.set_system_out(&cdata_safe(&about.join("\n")));
    suite
}

fn testcase(result: &CheckResult) -> TestCase {
    let name = xml_safe(&format!(
        "{} @ {}",
        result.id,
        result
            .endpoint
            .map_or_else(|| super::no_endpoint(result).to_owned(), |e| e.to_string())
    ));
    let time = Duration::milliseconds(i64::try_from(result.duration_ms).unwrap_or(i64::MAX));
    let severity = result.severity.as_str();
    let message = xml_safe(&result.message);

    // The evidence and fix, the body of a failure or error.
    let mut details: Vec<String> = result.evidence.clone();
    if let Some(fix) = &result.fix {
        details.push(format!("fix: {fix}"));
    }
    let details = cdata_safe(&details.join("\n"));

    let mut case = match result.status {
        Status::Pass | Status::Warn => TestCase::success(&name, time),
        Status::Fail => TestCase::failure(&name, time, severity, &message),
        Status::Error => TestCase::error(&name, time, severity, &message),
        Status::Skip => TestCase::skipped_with_cause(&name, severity, &message),
    };
    case.time = time;
    if !details.is_empty() {
        match &mut case.result {
            junit_report::TestResult::Failure { cause, .. }
            | junit_report::TestResult::Error { cause, .. } => *cause = Some(details.clone()),
            _ => {}
        }
    }
    case.set_classname(result.category.as_str());

    let tag = result.status.as_str().to_uppercase();
    let out = if details.is_empty() {
        format!("{tag}: {}", cdata_safe(&result.message))
    } else {
        format!("{tag}: {}\n{details}", cdata_safe(&result.message))
    };
    case.set_system_out(&out);
    case
}

/// Text that XML 1.0 can carry: control characters (other than the newlines we put between
/// lines) escaped, the two non-characters replaced.
fn xml_safe(text: &str) -> String {
    printable(text).replace(['\u{fffe}', '\u{ffff}'], "\u{fffd}")
}

/// [`xml_safe`] per line, for CDATA content: a `]]>` would end the section, so it is split as
/// `]]` + `>` across two sections (the reader joins them back).
fn cdata_safe(text: &str) -> String {
    text.split('\n')
        .map(xml_safe)
        .collect::<Vec<_>>()
        .join("\n")
        .replace("]]>", "]]]]><![CDATA[>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_times_are_the_wall_times_where_known() {
        let xml = "<testsuites><testsuite id=\"0\" name=\"a &gt; b\" time=\"3.5\"><testcase name=\"x\" time=\"1\"/></testsuite><testsuite id=\"1\" name=\"c\" time=\"2\"/></testsuites>";
        assert_eq!(
            with_suite_times(xml, &[Some(1250), None]),
            "<testsuites><testsuite id=\"0\" name=\"a &gt; b\" time=\"1.25\"><testcase name=\"x\" time=\"1\"/></testsuite><testsuite id=\"1\" name=\"c\" time=\"2\"/></testsuites>"
        );
        assert_eq!(with_suite_times(xml, &[]), xml);
    }

    #[test]
    fn indent_puts_whitespace_only_between_tags() {
        let xml = "<?xml version=\"1.0\"?><a><b x=\"&gt;\"><c/><d><![CDATA[t<e>]]></d>text</b></a>";
        assert_eq!(
            indent(xml),
            "<?xml version=\"1.0\"?>\n<a>\n  <b x=\"&gt;\">\n    <c/>\n    <d><![CDATA[t<e>]]></d>text</b>\n</a>"
        );
    }

    #[test]
    fn cdata_and_control_characters_are_made_safe() {
        assert_eq!(
            cdata_safe("S: a]]>b\nS: \u{1b}[0m"),
            "S: a]]]]><![CDATA[>b\nS: \\u{1b}[0m"
        );
        assert_eq!(xml_safe("a\u{ffff}b\u{0}"), "a\u{fffd}b\\u{0}");
    }
}
