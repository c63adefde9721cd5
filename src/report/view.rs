//! What the formats people read share: endpoint labels, scores and grades, the worst
//! results first, control characters made visible.

pub use crate::outcome::grade;
use crate::outcome::{Category, CheckResult, Report, Status, TargetReport};

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
            .filter_map(|r| r.endpoint.map(|e| e.address.ip()));
        let single_host = match hosts.next() {
            Some(first) => hosts.all(|host| host == first),
            None => true,
        };
        EndpointLabels { single_host }
    }

    pub(crate) fn label(&self, result: &CheckResult) -> String {
        match result.endpoint {
            None => no_endpoint(result).to_owned(),
            Some(endpoint) if self.single_host => endpoint.port_label(),
            Some(endpoint) => endpoint.to_string(),
        }
    }
}

/// What stands for the endpoint of a result that has none: `dns` for DNS checks (SPEC), the
/// category otherwise (a target-level check such as `e2e.dkim`).
pub(crate) fn no_endpoint(result: &CheckResult) -> &'static str {
    result.category.as_str()
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

/// Results that said the same thing (same check id, status, message and fix) on several
/// endpoints, as one entry each, in order of first appearance: a banner that passes on three
/// ports is one line, a certificate that fails on six ports one finding.
pub(crate) fn same_outcomes<'a>(results: &[&'a CheckResult]) -> Vec<Vec<&'a CheckResult>> {
    let mut entries: Vec<Vec<&CheckResult>> = Vec::new();
    for &result in results {
        let same = |entry: &&mut Vec<&CheckResult>| {
            let first = entry[0];
            first.id == result.id
                && first.status == result.status
                && first.message == result.message
                && first.fix == result.fix
        };
        match entries.iter_mut().find(same) {
            Some(entry) => entry.push(result),
            None => entries.push(vec![result]),
        }
    }
    entries
}

/// The segments of `raw` between backticks, `true` for those inside a pair (code); `None` when
/// the backticks do not pair up, so the text is shown as it is.
pub(crate) fn code_segments(raw: &str) -> Option<Vec<(bool, &str)>> {
    let segments: Vec<&str> = raw.split('`').collect();
    if segments.len() < 3 || segments.len().is_multiple_of(2) {
        return None;
    }
    Some(
        segments
            .into_iter()
            .enumerate()
            .map(|(i, segment)| (i % 2 == 1, segment))
            .collect(),
    )
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
    use crate::outcome::Severity;
    use crate::report::tests::result;

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
        let shown: Vec<String> = one.results.iter().map(|r| labels.label(r)).collect();
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
        let shown: Vec<String> = two.results.iter().map(|r| labels.label(r)).collect();
        assert_eq!(shown, ["203.0.113.10:25/smtp", "[2001:db8::10]:25/smtp"]);
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
    fn identical_outcomes_on_several_ports_are_one_entry() {
        let a = result(Some("203.0.113.10:25/smtp"));
        let b = result(Some("203.0.113.10:587/smtp+starttls"));
        let mut c = result(Some("203.0.113.10:465/smtps"));
        c.message = "other".into();
        let mut d = result(Some("203.0.113.10:2525/smtp"));
        d.id = "smtp.expn.disabled".into();
        let entries = same_outcomes(&[&a, &c, &b, &d]);
        let ports: Vec<Vec<u16>> = entries
            .iter()
            .map(|e| {
                e.iter()
                    .map(|r| r.endpoint.unwrap().address.port())
                    .collect()
            })
            .collect();
        assert_eq!(ports, [vec![25, 587], vec![465], vec![2525]]);
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
