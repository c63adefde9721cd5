//! `dns.mta-sts` and `dns.tls-rpt` on every MTA-STS/TLS-RPT case of the lab (docker/README.md,
//! lab v2): the policies are served by the lab's nginx on 127.0.100.80:443 with lab-CA
//! certificates, the records by its NSD. Also the certificate policy of port 25 under MTA-STS
//! `enforce`, and curl's view of the same policy as an independent witness.

mod common;

use std::collections::BTreeMap;

use common::{ca_file, json, mailcheck, stderr};
use serde_json::Value;

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";
const POLICY_SERVER: &str = "127.0.100.80:443";

fn require_lab() {
    common::require_lab(&[POLICY_SERVER]);
}

fn run(target: &str, extra: &[&str]) -> Value {
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
        "5",
        "--format",
        "json",
    ];
    if !extra.contains(&"--only") {
        args.extend_from_slice(&["--only", "dns.mta-sts", "--only", "dns.tls-rpt"]);
    }
    args.extend_from_slice(extra);
    let output = mailcheck(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "mailcheck failed to run: {}",
        stderr(&output)
    );
    json(&output)
}

/// `id @ port` → result.
fn results(report: &Value) -> BTreeMap<String, Value> {
    common::results_by_port(report)
}

fn evidence(result: &Value) -> Vec<String> {
    result["evidence"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| l.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the status and a part of the message of one result.
fn expect(all: &BTreeMap<String, Value>, key: &str, status: &str, says: &str) {
    let result = all
        .get(key)
        .unwrap_or_else(|| panic!("{key}: missing from {:#?}", all.keys()));
    let message = result["message"].as_str().unwrap_or("");
    assert_eq!(result["status"], status, "{key}: {result:#}");
    assert!(message.contains(says), "{key}: {message:?} lacks {says:?}");
}

#[test]
fn every_lab_case_gets_the_spec_verdict() {
    require_lab();
    for (domain, sts, sts_says, rpt, rpt_says) in [
        (
            "ref.test",
            "pass",
            "MTA-STS policy in enforce mode",
            "pass",
            "TLS-RPT reports go to mailto:tlsrpt@ref.test",
        ),
        (
            "weak.test",
            "fail",
            "the version tag is case-sensitive",
            "fail",
            "write `mailto:tlsrpt@weak.test`",
        ),
        (
            "dane.test",
            "warn",
            "testing mode",
            "warn",
            "no TLS-RPT record",
        ),
        (
            "stsmiss.test",
            "fail",
            "MX mail.ref.test not matched",
            "warn",
            "no TLS-RPT record",
        ),
        (
            "bogus.test",
            "warn",
            "no MTA-STS policy",
            "warn",
            "no TLS-RPT record",
        ),
    ] {
        let report = run(domain, &[]);
        let all = results(&report);
        assert_eq!(all.len(), 2, "{domain}: {:#?}", all.keys());
        expect(&all, "dns.mta-sts @ dns", sts, sts_says);
        expect(&all, "dns.tls-rpt @ dns", rpt, rpt_says);
    }
}

#[test]
fn the_reference_policy_exchange_is_in_the_evidence() {
    require_lab();
    let report = run("ref.test", &[]);
    let all = results(&report);
    let lines = evidence(&all["dns.mta-sts @ dns"]);
    for line in [
        "* fetching https://mta-sts.ref.test/.well-known/mta-sts.txt",
        "* connecting to 127.0.100.80:443",
        "C: GET /.well-known/mta-sts.txt HTTP/1.1",
        "S: HTTP/1.1 200 OK",
        "S: | mode: enforce",
        "S: | mx: mail.ref.test",
        "* MX mail.ref.test matches `mx: mail.ref.test`",
    ] {
        assert!(lines.iter().any(|l| l == line), "{line}: {lines:#?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("A: _mta-sts.ref.test. TXT") && l.contains("v=STSv1; id=")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("S: Content-Type: text/plain")),
        "{lines:#?}"
    );

    // curl, told the same address and CA, fetches the same body.
    let curl = std::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "5",
            "--resolve",
            "mta-sts.ref.test:443:127.0.100.80",
            "--cacert",
            &ca_file(),
            "https://mta-sts.ref.test/.well-known/mta-sts.txt",
        ])
        .output()
        .expect("curl runs");
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    let body: Vec<String> = String::from_utf8_lossy(&curl.stdout)
        .lines()
        .map(|l| format!("S: | {}", l.trim_end_matches('\r')))
        .collect();
    let shown: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("S: | "))
        .cloned()
        .collect();
    assert_eq!(shown, body);
}

#[test]
fn without_the_lab_ca_the_policy_certificate_does_not_verify() {
    require_lab();
    let output = mailcheck(&[
        "run",
        "ref.test",
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--only",
        "dns.mta-sts",
        "--timeout",
        "5",
        "--format",
        "json",
    ]);
    let report = json(&output);
    let all = results(&report);
    expect(
        &all,
        "dns.mta-sts @ dns",
        "fail",
        "the certificate of mta-sts.ref.test does not verify",
    );
}

#[test]
fn mta_sts_enforce_makes_port_25_certificate_checks_strict() {
    require_lab();
    // mail.dane.test is the reference server, whose certificate does not name mail.dane.test.
    // Under dane.test's own policy (testing) a mismatch on 25 is a warning; under ref.test's
    // (enforce) senders verify, so it fails and says why.
    let only = ["--only", "tls.cert.hostname", "--only", "dns.mta-sts"];
    let testing = run("mail.dane.test", &only);
    let all = results(&testing);
    expect(&all, "dns.mta-sts @ dns", "warn", "testing mode");
    expect(&all, "tls.cert.hostname @ 25", "warn", "opportunistic TLS");

    let mut args = only.to_vec();
    args.extend(["--domain", "ref.test"]);
    let enforce = run("mail.dane.test", &args);
    let all = results(&enforce);
    expect(&all, "dns.mta-sts @ dns", "pass", "enforce mode");
    expect(
        &all,
        "tls.cert.hostname @ 25",
        "fail",
        "under the MTA-STS policy of ref.test in enforce mode",
    );
    // Submission ports fail either way (clients verify).
    expect(&all, "tls.cert.hostname @ 587", "fail", "");

    // The reference host under its own enforce policy: a good certificate still passes.
    let reference = run("mail.ref.test", &only);
    expect(&results(&reference), "tls.cert.hostname @ 25", "pass", "");
}
