//! IPv6 endpoints on the lab (docker/README.md, lab v2 "IPv6"): `mail6.ref.test` has the
//! reference on both 127.0.100.10 and fd00:6d63:6b::10 (namespace `mailcheck-v6`), and
//! `dead6.ref.test` an AAAA where nothing answers. Each family gets its own endpoints and
//! results; `--bind` (IPv4) applies only to IPv4 peers; dns.ptr covers the IPv6 address.

mod common;

use common::{ca_file, json, mailcheck, stderr};
use serde_json::Value;

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";
const V6: &str = "fd00:6d63:6b::10";

fn require_lab() {
    common::require_lab(&["[fd00:6d63:6b::10]:25"]);
}

fn run(target: &str, extra: &[&str]) -> (Value, std::process::Output) {
    let ca = ca_file();
    let mut args = vec![
        "run",
        target,
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--ca-file",
        &ca,
        "--timeout",
        "3",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = mailcheck(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "mailcheck failed to run: {}",
        stderr(&output)
    );
    (json(&output), output)
}

/// (id, endpoint, status) of the endpoints of one address.
fn on(report: &Value, address: &str) -> Vec<(String, String, String)> {
    common::statuses(report)
        .into_iter()
        .filter(|(_, endpoint, _)| endpoint.starts_with(address))
        .collect()
}

#[test]
fn both_families_of_a_host_get_their_own_endpoints_and_results() {
    require_lab();
    let only = [
        "--only",
        "smtp.starttls",
        "--only",
        "tls.*",
        "--only",
        "imap.imaps",
        "--only",
        "pop3.pop3s",
        "--only",
        "dns.a",
        "--only",
        "dns.ptr",
    ];
    let (report, _) = run("mail6.ref.test", &only);
    let v4 = on(&report, "127.0.100.10:");
    let v6 = on(&report, &format!("[{V6}]:"));
    assert!(!v6.is_empty(), "{:#?}", common::statuses(&report));
    // The same checks on both, each with its own endpoint, and the same (good) outcome: the
    // IPv6 reference is the same configuration.
    let strip =
        |rows: &[(String, String, String)], prefix: &str| -> Vec<(String, String, String)> {
            rows.iter()
                .map(|(id, endpoint, status)| {
                    (
                        id.clone(),
                        endpoint.trim_start_matches(prefix).to_string(),
                        status.clone(),
                    )
                })
                .collect()
        };
    assert_eq!(
        strip(&v4, "127.0.100.10"),
        strip(&v6, &format!("[{V6}]")),
        "IPv4 and IPv6 differ"
    );
    for (id, endpoint, status) in &v6 {
        assert_eq!(status, "pass", "{id} {endpoint}");
    }
    assert!(
        v6.iter().any(|(id, endpoint, _)| id == "smtp.starttls"
            && endpoint == &format!("[{V6}]:25/smtp+starttls")),
        "{v6:#?}"
    );
    assert!(
        v6.iter().any(|(id, endpoint, _)| id == "tls.cert.hostname"
            && endpoint == &format!("[{V6}]:993/imaps")),
        "{v6:#?}"
    );
    // dns.a lists both; dns.ptr asks ip6.arpa and finds mail6.ref.test, confirmed by the AAAA.
    let results = common::results_by_port(&report);
    let a = results["dns.a @ dns"]["message"].as_str().unwrap();
    assert!(a.contains("127.0.100.10") && a.contains(V6), "{a}");
    let ptr = &results["dns.ptr @ dns"];
    let evidence: Vec<&str> = ptr["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        evidence.iter().any(|l| l.starts_with(
            "Q: 0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.6.0.0.3.6.d.6.0.0.d.f.ip6.arpa. PTR"
        )),
        "{evidence:#?}"
    );
    assert!(
        evidence
            .iter()
            .any(|l| l.ends_with("ip6.arpa. PTR mail6.ref.test.")),
        "{evidence:#?}"
    );
    // The IPv6 reference greets as mail.ref.test (the same configuration): dns.ptr says so.
    assert!(
        ptr["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{V6} → mail6.ref.test → {V6}"))
            || ptr["message"]
                .as_str()
                .unwrap()
                .contains(&format!("the PTR of {V6} is mail6.ref.test")),
        "{ptr:#}"
    );
}

#[test]
fn an_aaaa_that_answers_nothing_is_an_error_there_and_ipv4_stays_normal() {
    require_lab();
    let started = std::time::Instant::now();
    let (report, _) = run(
        "dead6.ref.test",
        &[
            "--only",
            "smtp.starttls",
            "--only",
            "tls.cert.trusted",
            "--only",
            "smtp.banner.fqdn",
        ],
    );
    let v4 = on(&report, "127.0.100.10:");
    let v6 = on(&report, "[fd00:6d63:6b::99]:");
    assert!(
        !v4.is_empty() && !v6.is_empty(),
        "{:#?}",
        common::statuses(&report)
    );
    for (id, endpoint, status) in &v4 {
        assert_eq!(status, "pass", "{id} {endpoint}");
    }
    for (id, endpoint, status) in &v6 {
        assert_eq!(status, "error", "{id} {endpoint}");
    }
    // A dead address costs about one timeout per port group, not one per check.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn every_report_format_shows_ipv6_endpoints() {
    require_lab();
    // dead6's IPv6 endpoints are errors, which every format shows with their endpoint (the
    // HTML page and the text list passes by title only).
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let html = dir.path().join("r.html");
    let markdown = dir.path().join("r.md");
    let files = [
        "--junit",
        junit.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--markdown",
        markdown.to_str().unwrap(),
    ];
    let (_, output) = run(
        "dead6.ref.test",
        &[&["--only", "smtp.starttls"][..], &files[..]].concat(),
    );
    let label = "[fd00:6d63:6b::99]:25/smtp+starttls";
    let json_text = String::from_utf8_lossy(&output.stdout);
    assert!(json_text.contains(label), "json: {json_text}");
    for file in [&junit, &html, &markdown] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains(label), "{}: {text}", file.display());
    }
    let ca = ca_file();
    let text = mailcheck(&[
        "run",
        "dead6.ref.test",
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--ca-file",
        &ca,
        "--timeout",
        "2",
        "--only",
        "smtp.starttls",
    ]);
    let text = common::stdout(&text);
    assert!(text.contains(label), "text: {text}");
}

#[test]
fn bind_is_given_once_per_family() {
    require_lab();
    // An IPv4 and an IPv6 source: each connection uses its own family's.
    let (report, _) = run(
        "mail6.ref.test",
        &["--bind", "fd00:6d63:6b::1", "--only", "smtp.starttls"],
    );
    let v6 = on(&report, &format!("[{V6}]:25"));
    assert_eq!(v6.len(), 1, "{:#?}", common::statuses(&report));
    assert_eq!(v6[0].2, "pass");
    assert_eq!(on(&report, "127.0.100.10:25")[0].2, "pass");
    // Two of one family is a usage error.
    let output = mailcheck(&[
        "run",
        "mail6.ref.test",
        "--bind",
        "127.0.100.2",
        "--bind",
        "127.0.100.3",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--bind takes one IPv4 address at most"),
        "{}",
        stderr(&output)
    );
}
