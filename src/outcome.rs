//! The result model: what a run found, as plain data.
//!
//! Reporters read these types and nothing else; checks produce [`CheckResult`]s; the runner
//! gathers them into a [`TargetReport`] per target and one [`Report`] per run. Nothing here knows
//! a protocol or a socket.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The verdict of one check on one endpoint (SPEC "Results").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
    Error,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Pass,
        Status::Fail,
        Status::Warn,
        Status::Skip,
        Status::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }

    /// Whether this status makes the run exit 1 (SPEC "Exit codes").
    pub fn is_failing(self) -> bool {
        matches!(self, Status::Fail | Status::Error)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a check weighs in the score (SPEC "Score of a target").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn weight(self) -> u32 {
        match self {
            Severity::Critical => 5,
            Severity::High => 3,
            Severity::Medium => 2,
            Severity::Low => 1,
            Severity::Info => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|sev| sev.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The family a check belongs to (SPEC "Results": `category`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Smtp,
    Tls,
    Imap,
    Pop3,
    Dns,
    E2e,
    Custom,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Smtp => "smtp",
            Category::Tls => "tls",
            Category::Imap => "imap",
            Category::Pop3 => "pop3",
            Category::Dns => "dns",
            Category::E2e => "e2e",
            Category::Custom => "custom",
        }
    }

    /// Heading used by human-readable reports.
    pub fn heading(self) -> &'static str {
        match self {
            Category::Smtp => "SMTP",
            Category::Tls => "TLS",
            Category::Imap => "IMAP",
            Category::Pop3 => "POP3",
            Category::Dns => "DNS",
            Category::E2e => "End to end",
            Category::Custom => "Custom",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check's verdict on one endpoint (or on the target's DNS, where `endpoint` is `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub category: Category,
    pub severity: Severity,
    /// `host:port/proto`, e.g. `127.0.0.10:587/smtp+starttls`; `None` for DNS checks.
    pub endpoint: Option<String>,
    pub status: Status,
    /// One line saying what was observed.
    pub message: String,
    /// Transcript lines (`C: `/`S: ` prefixed) or DNS answers that prove the verdict, with
    /// credentials already redacted.
    pub evidence: Vec<String>,
    /// How to fix a `fail`/`warn`/`error`; `None` on `pass` and `skip`.
    pub fix: Option<String>,
    pub duration_ms: u64,
}

/// Counts of results by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub error: usize,
}

impl Summary {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Summary {
        let mut summary = Summary::default();
        for result in results {
            *summary.count_mut(result.status) += 1;
        }
        summary
    }

    pub fn count(&self, status: Status) -> usize {
        match status {
            Status::Pass => self.pass,
            Status::Fail => self.fail,
            Status::Warn => self.warn,
            Status::Skip => self.skip,
            Status::Error => self.error,
        }
    }

    fn count_mut(&mut self, status: Status) -> &mut usize {
        match status {
            Status::Pass => &mut self.pass,
            Status::Fail => &mut self.fail,
            Status::Warn => &mut self.warn,
            Status::Skip => &mut self.skip,
            Status::Error => &mut self.error,
        }
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.warn + self.skip + self.error
    }
}

/// SPEC score: a pass earns the severity weight, a warn half of it, fail and error nothing,
/// skips are left out; `100 * earned / possible` rounded to one decimal. `None` when nothing
/// weighed anything (every result skipped or `info`).
pub fn score<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Option<f64> {
    let (mut earned, mut possible) = (0u64, 0u64);
    for result in results {
        let weight = u64::from(result.severity.weight()) * 2; // doubled so a half stays integral
        match result.status {
            Status::Skip => continue,
            Status::Pass => earned += weight,
            Status::Warn => earned += weight / 2,
            Status::Fail | Status::Error => {}
        }
        possible += weight;
    }
    (possible > 0).then(|| (1000.0 * earned as f64 / possible as f64).round() / 10.0)
}

/// Everything found about one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    /// Who the target belongs to, for people (`batch`: the student's name from the roster).
    /// Absent from the JSON when there is none, as in `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// As the user gave it.
    pub target: String,
    /// The mail domain the DNS checks used, and how it was chosen.
    pub domain: Option<String>,
    pub addresses: Vec<String>,
    /// `None` when no result weighed anything.
    pub score: Option<f64>,
    pub summary: Summary,
    pub results: Vec<CheckResult>,
    /// Why nothing could be checked (the target does not resolve, or is no host name); every
    /// result then says so too. Absent from the JSON when the target was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The time the target was given (`--target-budget`), in milliseconds: what had not
    /// finished by then is `error` "target budget exhausted". Absent for a target that was
    /// never run (a bad roster row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_ms: Option<u64>,
}

impl TargetReport {
    pub fn new(
        target: String,
        domain: Option<String>,
        addresses: Vec<String>,
        results: Vec<CheckResult>,
    ) -> TargetReport {
        TargetReport {
            score: score(&results),
            summary: Summary::of(&results),
            name: None,
            target,
            domain,
            addresses,
            results,
            error: None,
            budget_ms: None,
        }
    }

    /// The same report under a display name (a student's).
    pub fn with_name(mut self, name: impl Into<String>) -> TargetReport {
        self.name = Some(name.into());
        self
    }

    /// The display name when there is one, else the target as given.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.target)
    }

    /// Whether the target's server told nothing: no result on a port has the server saying
    /// anything in its evidence (an `S:` line), and some could not be determined. A dead
    /// address, a tarpit, a name that does not resolve. Verdicts do not decide it: a closed
    /// optional port may pass (`imap.starttls`) or fail (`smtp.smtps`), and DNS may be right
    /// while the server is down.
    pub fn is_unreachable(&self) -> bool {
        let answered = self
            .results
            .iter()
            .filter(|r| r.endpoint.is_some())
            .any(|r| r.evidence.iter().any(|line| line.starts_with("S:")));
        !answered && self.summary.error > 0
    }

    /// Whether this target makes the run exit 1: a `fail` or `error` at or above
    /// `failing_severity`, or a score below `min_score`.
    pub fn is_failing(&self, failing_severity: Severity, min_score: Option<f64>) -> bool {
        let failed = self
            .results
            .iter()
            .any(|r| r.status.is_failing() && r.severity >= failing_severity);
        failed || self.error.is_some() || self.below_min_score(min_score).is_some()
    }

    /// When the score is below `--min-score`, what to say about it: `score 50.0 < --min-score
    /// 90` (a target without a score has not met any minimum).
    pub fn below_min_score(&self, min_score: Option<f64>) -> Option<String> {
        let min = min_score?;
        match self.score {
            Some(score) if score < min => Some(format!("score {score:.1} < --min-score {min}")),
            Some(_) => None,
            None => Some(format!(
                "no score (no result weighed anything) < --min-score {min}"
            )),
        }
    }
}

/// One run of mailcheck over one or more targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    pub targets: Vec<TargetReport>,
}

pub const REPORT_SCHEMA: &str = "mailcheck/report/v1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(severity: Severity, status: Status) -> CheckResult {
        CheckResult {
            id: "x".into(),
            title: "x".into(),
            category: Category::Smtp,
            severity,
            endpoint: None,
            status,
            message: String::new(),
            evidence: vec![],
            fix: None,
            duration_ms: 0,
        }
    }

    #[test]
    fn score_follows_the_spec_weights() {
        let results = [
            result(Severity::Critical, Status::Pass), // 5 of 5
            result(Severity::High, Status::Warn),     // 1.5 of 3
            result(Severity::Medium, Status::Fail),   // 0 of 2
            result(Severity::Low, Status::Error),     // 0 of 1
            result(Severity::High, Status::Skip),     // left out
            result(Severity::Info, Status::Fail),     // weighs nothing
        ];
        // 6.5 / 11 = 59.09...
        assert_eq!(score(&results), Some(59.1));
    }

    #[test]
    fn score_is_none_without_weighted_results() {
        assert_eq!(score(&[result(Severity::High, Status::Skip)]), None);
        assert_eq!(score(&[result(Severity::Info, Status::Pass)]), None);
    }

    #[test]
    fn unreachable_means_no_port_told_anything() {
        let on_port = |status, evidence: &[&str]| {
            let mut r = result(Severity::High, status);
            r.endpoint = Some("192.0.2.1:25/smtp".into());
            r.evidence = evidence.iter().map(|l| (*l).to_string()).collect();
            r
        };
        let target =
            |results: Vec<CheckResult>| TargetReport::new("t".into(), None, vec![], results);
        let refused = ["* connect to 192.0.2.1:25: connection refused"];
        // A dead server: errors, a closed port that passes or fails, DNS passing.
        assert!(
            target(vec![
                on_port(Status::Error, &refused),
                on_port(Status::Pass, &refused),
                on_port(Status::Fail, &refused),
                result(Severity::High, Status::Pass),
            ])
            .is_unreachable()
        );
        // A server that said anything is reachable, however bad.
        let spoke = ["S: 220 mail.example.test ESMTP"];
        assert!(
            !target(vec![
                on_port(Status::Error, &refused),
                on_port(Status::Fail, &spoke)
            ])
            .is_unreachable()
        );
        // A bad roster row: only errors, without endpoint.
        assert!(target(vec![result(Severity::High, Status::Error)]).is_unreachable());
        assert!(!target(vec![on_port(Status::Skip, &refused)]).is_unreachable());
        assert!(!target(vec![]).is_unreachable());
    }

    #[test]
    fn the_name_is_optional_in_json() {
        let plain = TargetReport::new("mail.example.com".into(), None, vec![], vec![]);
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json.get("name").is_none(), "{json}");
        assert_eq!(plain.display_name(), "mail.example.com");
        let named = plain.with_name("Alice Martin");
        let json = serde_json::to_value(&named).unwrap();
        assert_eq!(json["name"], "Alice Martin");
        assert_eq!(named.display_name(), "Alice Martin");
    }

    #[test]
    fn failing_respects_severity_threshold_and_min_score() {
        let report = TargetReport::new(
            "t".into(),
            None,
            vec![],
            vec![
                result(Severity::Low, Status::Fail),
                result(Severity::High, Status::Pass),
            ],
        );
        assert!(report.is_failing(Severity::Low, None));
        assert!(!report.is_failing(Severity::Medium, None));
        assert!(report.is_failing(Severity::Medium, Some(90.0)));
        assert!(!report.is_failing(Severity::Medium, Some(75.0)));
        assert_eq!(
            report.below_min_score(Some(90.0)).as_deref(),
            Some("score 75.0 < --min-score 90")
        );
        assert_eq!(report.below_min_score(Some(75.0)), None);
        assert_eq!(report.below_min_score(None), None);
        let mut unchecked = TargetReport::new("t".into(), None, vec![], vec![]);
        assert!(!unchecked.is_failing(Severity::Low, None));
        unchecked.error = Some("t does not exist in DNS (NXDOMAIN)".into());
        assert!(unchecked.is_failing(Severity::Low, None));
    }
}
