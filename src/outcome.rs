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

/// What was spoken on an endpoint: the protocol and how TLS came in (SPEC "Results":
/// `smtp`, `smtp+starttls`, `smtps`, and the same for `imap` and `pop3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Smtp,
    SmtpStarttls,
    Smtps,
    Imap,
    ImapStarttls,
    Imaps,
    Pop3,
    Pop3Starttls,
    Pop3s,
}

impl Transport {
    pub const ALL: [Transport; 9] = [
        Transport::Smtp,
        Transport::SmtpStarttls,
        Transport::Smtps,
        Transport::Imap,
        Transport::ImapStarttls,
        Transport::Imaps,
        Transport::Pop3,
        Transport::Pop3Starttls,
        Transport::Pop3s,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Smtp => "smtp",
            Transport::SmtpStarttls => "smtp+starttls",
            Transport::Smtps => "smtps",
            Transport::Imap => "imap",
            Transport::ImapStarttls => "imap+starttls",
            Transport::Imaps => "imaps",
            Transport::Pop3 => "pop3",
            Transport::Pop3Starttls => "pop3+starttls",
            Transport::Pop3s => "pop3s",
        }
    }
}

/// Where a result was observed: an address, a port and what was spoken there. On the wire it
/// is the string `203.0.113.10:587/smtp+starttls` (`[2001:db8::1]:25/smtp` for IPv6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub address: std::net::SocketAddr,
    pub transport: Transport,
}

impl Endpoint {
    /// `587/smtp+starttls`: the endpoint without its address, for a report that names the
    /// host once.
    pub fn port_label(&self) -> String {
        format!("{}/{}", self.address.port(), self.transport.as_str())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.transport.as_str())
    }
}

impl std::str::FromStr for Endpoint {
    type Err = String;

    fn from_str(text: &str) -> Result<Endpoint, String> {
        let bad = || format!("`{text}` is not an endpoint (address:port/protocol)");
        let (address, protocol) = text.rsplit_once('/').ok_or_else(bad)?;
        Ok(Endpoint {
            address: address.parse().map_err(|_| bad())?,
            transport: Transport::ALL
                .into_iter()
                .find(|t| t.as_str() == protocol)
                .ok_or_else(bad)?,
        })
    }
}

impl Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Endpoint, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How to fix a result, and whose text it is: the check's generic catalog fix (which
/// `--lang` may translate) or one the check wrote for this very server (kept as written: it
/// says more). The JSON holds only the text; a fix read back from JSON counts as the check's
/// own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub text: String,
    pub from_catalog: bool,
}

impl Fix {
    pub fn catalog(text: &str) -> Fix {
        Fix {
            text: text.to_owned(),
            from_catalog: true,
        }
    }

    pub fn own(text: impl Into<String>) -> Fix {
        Fix {
            text: text.into(),
            from_catalog: false,
        }
    }
}

impl std::ops::Deref for Fix {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl From<&str> for Fix {
    fn from(text: &str) -> Fix {
        Fix::own(text)
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Fix {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Fix {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Fix, D::Error> {
        String::deserialize(deserializer).map(Fix::own)
    }
}

/// One check's verdict on one endpoint (or on the target's DNS, where `endpoint` is `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub category: Category,
    pub severity: Severity,
    /// `address:port/proto` on the wire, e.g. `127.0.0.10:587/smtp+starttls`; `None` for DNS
    /// checks.
    pub endpoint: Option<Endpoint>,
    pub status: Status,
    /// One line saying what was observed.
    pub message: String,
    /// Transcript lines (`C: `/`S: ` prefixed) or DNS answers that prove the verdict, with
    /// credentials already redacted.
    pub evidence: Vec<String>,
    /// How to fix a `fail`/`warn`/`error`; `None` on `pass` and `skip`.
    pub fix: Option<Fix>,
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
    /// Wall time of the target's checks (JUnit's suite `time`); absent when the target was
    /// not checked (a bad roster row) or the report predates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
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
            duration_ms: None,
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

/// A class at a glance (`batch`): how many targets came out clean, with failures or
/// unreachable, and grade statistics over those that have a grade. Computed here once for
/// every format that shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassStats {
    pub count: usize,
    /// Reachable, and no `fail`/`error` result.
    pub clean: usize,
    /// Reachable, with a `fail` or `error` result.
    pub failing: usize,
    pub unreachable: usize,
    /// `None` when no target has a grade.
    pub grades: Option<GradeStats>,
}

/// Grades out of a scale: mean, median, lowest and highest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradeStats {
    pub scale: u16,
    pub mean: f64,
    pub median: f64,
    pub lowest: f64,
    pub highest: f64,
}

impl ClassStats {
    /// The statistics of `report`'s targets, grades out of `scale` (100: the score).
    pub fn of(report: &Report, scale: u16) -> ClassStats {
        let targets = &report.targets;
        let unreachable = targets.iter().filter(|t| t.is_unreachable()).count();
        let failing = targets
            .iter()
            .filter(|t| !t.is_unreachable() && t.results.iter().any(|r| r.status.is_failing()))
            .count();
        let mut grades: Vec<f64> = targets
            .iter()
            .filter_map(|t| grade(t.score, scale))
            .collect();
        grades.sort_by(f64::total_cmp);
        let grades = (!grades.is_empty()).then(|| {
            let middle = grades.len() / 2;
            GradeStats {
                scale,
                mean: grades.iter().sum::<f64>() / grades.len() as f64,
                median: if grades.len().is_multiple_of(2) {
                    (grades[middle - 1] + grades[middle]) / 2.0
                } else {
                    grades[middle]
                },
                lowest: grades[0],
                highest: grades[grades.len() - 1],
            }
        });
        ClassStats {
            count: targets.len(),
            clean: targets.len() - unreachable - failing,
            failing,
            unreachable,
            grades,
        }
    }
}

/// A score (out of 100) as a grade out of `scale`, to one decimal.
pub fn grade(score: Option<f64>, scale: u16) -> Option<f64> {
    score.map(|score| (score * f64::from(scale) / 10.0).round() / 10.0)
}

/// One run of mailcheck over one or more targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    /// RFC 3339 on the wire, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: time::OffsetDateTime,
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

    #[test]
    fn endpoints_are_the_same_strings_on_the_wire() {
        for text in [
            "203.0.113.10:587/smtp+starttls",
            "[2001:db8::1]:25/smtp",
            "127.0.0.1:993/imaps",
            "127.0.0.1:110/pop3",
        ] {
            let endpoint: Endpoint = text.parse().unwrap();
            assert_eq!(endpoint.to_string(), text);
            let json = serde_json::to_value(endpoint).unwrap();
            assert_eq!(json, text);
            assert_eq!(serde_json::from_value::<Endpoint>(json).unwrap(), endpoint);
        }
        let endpoint: Endpoint = "[2001:db8::1]:25/smtp".parse().unwrap();
        assert_eq!(endpoint.port_label(), "25/smtp");
        for bad in [
            "",
            "dns",
            "mail.example:25/smtp",
            "192.0.2.1/smtp",
            "192.0.2.1:25/http",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn started_at_is_rfc3339_on_the_wire() {
        let report = Report {
            schema: REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::macros::datetime!(2026-11-22 10:00:00.25 UTC),
            duration_ms: 0,
            targets: vec![],
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["started_at"], "2026-11-22T10:00:00.25Z");
        let back: Report = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, report);
        // Another offset is the same instant; a date without one is refused.
        let mut other = json.clone();
        other["started_at"] = "2026-11-22T11:30:00.25+01:30".into();
        let other: Report = serde_json::from_value(other).unwrap();
        assert_eq!(other.started_at, report.started_at);
        for bad in [
            "",
            "yesterday",
            "2026-13-22T10:00:00Z",
            "2026-11-22T10:00:00",
        ] {
            let mut broken = json.clone();
            broken["started_at"] = bad.into();
            assert!(serde_json::from_value::<Report>(broken).is_err(), "{bad}");
        }
    }

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
    fn class_statistics_are_computed_once_here() {
        let target = |statuses: &[Status]| {
            let results = statuses
                .iter()
                .map(|&status| {
                    let mut r = result(Severity::High, status);
                    r.endpoint = Some("192.0.2.1:25/smtp".parse().unwrap());
                    r.evidence = vec!["S: 220 hi".into()];
                    r
                })
                .collect();
            TargetReport::new("t".into(), None, vec![], results)
        };
        let mut dead = target(&[Status::Error]);
        dead.results[0].evidence.clear();
        let report = Report {
            schema: REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::OffsetDateTime::UNIX_EPOCH,
            duration_ms: 0,
            targets: vec![
                target(&[Status::Pass]),               // 20/20
                target(&[Status::Pass, Status::Fail]), // 10/20
                target(&[Status::Warn]),               // 10/20
                dead,                                  // 0/20, unreachable
            ],
        };
        let stats = ClassStats::of(&report, 20);
        assert_eq!(
            (stats.count, stats.clean, stats.failing, stats.unreachable),
            (4, 2, 1, 1)
        );
        let grades = stats.grades.unwrap();
        assert_eq!(
            (grades.mean, grades.median, grades.lowest, grades.highest),
            (10.0, 10.0, 0.0, 20.0)
        );
        let none = Report {
            targets: vec![],
            ..report
        };
        assert_eq!(ClassStats::of(&none, 20).grades, None);
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
            r.endpoint = Some("192.0.2.1:25/smtp".parse().unwrap());
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
