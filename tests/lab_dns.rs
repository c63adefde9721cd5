//! The `dns.*` checks against the lab's authoritative NSD (127.0.100.53, zones in docker/dns/):
//! the reference zone passes every check; the weak zones (`weak.test`, `sprawl.test`) have
//! their defects caught with the DNS answers as evidence; `nomail.test` takes no mail (null
//! MX); `dnsbl.test` is the lab's blocklist. A lab that cannot be reached fails these tests.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{json, mailcheck, stderr};
use serde_json::Value;

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";
const DNSBL: &str = "dnsbl.test";
/// The lab root's key: dns.dnssec and dns.tlsa validate the lab's private tree from it.
const TRUST_ANCHOR: &str = "/var/lib/mailcheck-lab/dns/trust-anchor.ds";
const DNS_CHECKS: [&str; 7] = [
    "dns.a",
    "dns.mx",
    "dns.ptr",
    "dns.spf",
    "dns.dkim",
    "dns.dmarc",
    "dns.rbl",
];

fn require_lab() {
    common::require_lab(&[]);
}

/// Runs the DNS checks on `target` through the lab's DNS and blocklist; the JSON report.
fn run_dns(target: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "run",
        target,
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--dnsbl",
        DNSBL,
        "--trust-anchor",
        TRUST_ANCHOR,
        "--timeout",
        "5",
        "--format",
        "json",
    ];
    if !extra.contains(&"--only") {
        // dns.dnssec, dns.tlsa (lab_dnssec.rs), dns.mta-sts and dns.tls-rpt (lab_mtasts.rs)
        // have their own cases and files.
        args.extend_from_slice(&[
            "--only",
            "dns.*",
            "--skip",
            "dns.mta-sts",
            "--skip",
            "dns.tls-rpt",
            "--skip",
            "dns.dnssec",
            "--skip",
            "dns.tlsa",
        ]);
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

/// id → the whole result, for the first target.
fn results(report: &Value) -> BTreeMap<String, Value> {
    report["targets"][0]["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

/// Asserts each check's status and that its message says what is expected; every result is
/// checked, none is missing or extra.
fn expect(report: &Value, expected: &[(&str, &str, &str)]) {
    let all = results(report);
    let mut wrong = Vec::new();
    for (id, status, says) in expected {
        match all.get(*id) {
            None => wrong.push(format!("{id}: missing")),
            Some(result) => {
                let message = result["message"].as_str().unwrap_or("");
                if result["status"] != *status || !message.contains(says) {
                    wrong.push(format!(
                        "{id}: expected {status} saying {says:?}, got {}: {message}\n  evidence: {}",
                        result["status"], result["evidence"]
                    ));
                }
                // Every DNS verdict but a skip shows the DNS answers behind it.
                let evidence = result["evidence"].as_array().unwrap();
                let answers = evidence
                    .iter()
                    .any(|l| l.as_str().unwrap().starts_with("A: "));
                if *status != "skip" && !answers {
                    wrong.push(format!("{id}: no DNS answer in its evidence: {evidence:?}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        all.len(),
        expected.len(),
        "unexpected results: {:?}",
        all.keys()
    );
}

fn evidence(report: &Value, id: &str) -> Vec<String> {
    results(report)[id]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_reference_zone_passes_every_dns_check() {
    require_lab();
    let report = run_dns("mail.ref.test", &[]);
    expect(
        &report,
        &[
            ("dns.a", "pass", "mail.ref.test → 127.0.100.10"),
            (
                "dns.mx",
                "pass",
                "ref.test MX → mail.ref.test (127.0.100.10)",
            ),
            (
                "dns.ptr",
                "pass",
                "127.0.100.10 → mail.ref.test → 127.0.100.10, and port 25 greets as mail.ref.test",
            ),
            ("dns.spf", "pass", "ends in -all"),
            (
                "dns.dkim",
                "pass",
                "mail._domainkey.ref.test: RSA key of 2048 bits",
            ),
            ("dns.dmarc", "pass", "_dmarc.ref.test: p=reject"),
            ("dns.rbl", "pass", "not listed: 127.0.100.10 on dnsbl.test"),
        ],
    );
    // A host target: its mail domain is its parent, and the report says so.
    assert_eq!(report["targets"][0]["domain"], "ref.test");
    for id in DNS_CHECKS {
        assert_eq!(
            evidence(&report, id)[0],
            "* mail domain ref.test: the parent of the host mail.ref.test (--domain sets another)",
            "{id}"
        );
    }
    // The PTR was compared with the real greeting.
    assert!(evidence(&report, "dns.ptr").contains(&"S: 220 mail.ref.test ESMTP".to_string()));
    assert!(
        evidence(&report, "dns.spf")
            .iter()
            .any(|l| l.contains("authorizes") || l.contains("ends in -all"))
    );
    assert!(
        results(&report)["dns.spf"]["message"]
            .as_str()
            .unwrap()
            .contains("authorizes 127.0.100.10")
    );
}

#[test]
fn a_domain_target_is_checked_through_its_mx() {
    require_lab();
    let report = run_dns("ref.test", &["--only", "dns.a", "--only", "dns.mx"]);
    assert_eq!(report["targets"][0]["domain"], "ref.test");
    assert_eq!(report["targets"][0]["addresses"][0], "127.0.100.10");
    let note = "* mail domain ref.test: the target itself, a domain with MX records (its MX hosts are checked)";
    for id in ["dns.a", "dns.mx"] {
        assert_eq!(results(&report)[id]["status"], "pass", "{id}");
        assert_eq!(evidence(&report, id)[0], note, "{id}");
    }
    // --domain wins, and the note says where the domain came from.
    let report = run_dns(
        "mail.ref.test",
        &["--domain", "weak.test", "--only", "dns.mx"],
    );
    assert_eq!(report["targets"][0]["domain"], "weak.test");
    assert_eq!(
        evidence(&report, "dns.mx")[0],
        "* mail domain weak.test: from --domain"
    );
    let mx = &results(&report)["dns.mx"];
    assert_eq!(mx["status"], "fail", "{mx}");
    assert!(
        mx["message"]
            .as_str()
            .unwrap()
            .contains("mail.ref.test is not among the MX hosts of weak.test"),
        "{mx}"
    );
}

#[test]
fn the_weak_zone_has_each_defect_caught() {
    require_lab();
    let report = run_dns("weak.test", &[]);
    expect(
        &report,
        &[
            ("dns.a", "pass", "mail.weak.test → 127.0.100.20"),
            ("dns.mx", "pass", "weak.test MX → mail.weak.test"),
            ("dns.ptr", "fail", "127.0.100.20 has no PTR record"),
            (
                "dns.spf",
                "fail",
                "ends in +all: every host on the Internet may send as weak.test",
            ),
            (
                "dns.dkim",
                "fail",
                "_domainkey.weak.test does not exist (NXDOMAIN",
            ),
            ("dns.dmarc", "warn", "_dmarc.weak.test: p=none"),
            (
                "dns.rbl",
                "fail",
                "127.0.100.20 is listed on dnsbl.test (127.0.0.2): listed: mail.weak.test sends spam",
            ),
        ],
    );
    assert!(evidence(&report, "dns.ptr").contains(&"A: NXDOMAIN".to_string()));
    assert!(
        evidence(&report, "dns.spf").contains(&r#"A: weak.test. TXT "v=spf1 +all""#.to_string())
    );
    assert!(
        evidence(&report, "dns.dkim")
            .iter()
            .any(|l| l.starts_with("Q: _domainkey.weak.test. TXT"))
    );
    // Named explicitly, a missing selector is a failure on its own.
    let report = run_dns(
        "weak.test",
        &["--only", "dns.dkim", "--dkim-selector", "mail"],
    );
    let dkim = &results(&report)["dns.dkim"];
    assert_eq!(dkim["status"], "fail");
    assert!(
        dkim["message"]
            .as_str()
            .unwrap()
            .contains("no DKIM key at mail._domainkey.weak.test (NXDOMAIN)")
    );
}

#[test]
fn the_sprawling_zone_has_each_defect_caught() {
    require_lab();
    let report = run_dns("sprawl.test", &[]);
    expect(
        &report,
        &[
            ("dns.a", "pass", "mx.sprawl.test → 127.0.100.40"),
            ("dns.mx", "pass", "sprawl.test MX → mx.sprawl.test"),
            (
                "dns.ptr",
                "fail",
                "the PTR of 127.0.100.40 (ghost.sprawl.test) does not resolve back",
            ),
            (
                "dns.spf",
                "fail",
                "12 DNS-querying terms, more than 10 (RFC 7208 §4.6.4: permerror)",
            ),
            (
                "dns.dkim",
                "warn",
                "mail._domainkey.sprawl.test: RSA key of 1024 bits",
            ),
            ("dns.dmarc", "fail", "has no `p=` tag"),
            (
                "dns.rbl",
                "error",
                "127.255.255.254: queries through a public or open resolver are refused",
            ),
        ],
    );
    let spf = evidence(&report, "dns.spf");
    // The record is published in two strings; they were read as one.
    assert!(
        spf.iter().any(|l| l.starts_with(
            r#"A: sprawl.test. TXT "v=spf1 ip4:127.0.100.40 a include:_s1.sprawl.test"#
        ) && l.contains(r#"" " include:_s5.sprawl.test"#)),
        "{spf:?}"
    );
    // Every include was followed, each asked once.
    for i in 1..=11 {
        let asked = format!("Q: _s{i}.sprawl.test. TXT");
        assert_eq!(
            spf.iter().filter(|l| l.starts_with(&asked)).count(),
            1,
            "{asked}"
        );
    }
    // The host itself is authorized before any include is needed: only the count catches it.
    assert!(
        !results(&report)["dns.spf"]["message"]
            .as_str()
            .unwrap()
            .contains("does not authorize")
    );
    let report = run_dns(
        "sprawl.test",
        &["--only", "dns.dkim", "--dkim-selector", "old"],
    );
    let dkim = &results(&report)["dns.dkim"];
    assert_eq!(dkim["status"], "fail", "{dkim}");
    assert!(
        dkim["message"]
            .as_str()
            .unwrap()
            .contains("old._domainkey.sprawl.test: the key is revoked (empty `p=`)")
    );
}

#[test]
fn a_null_mx_domain_takes_no_mail_but_its_dns_is_checked() {
    require_lab();
    let report = run_dns(
        "nomail.test",
        &["--only", "dns.*", "--only", "smtp.banner.fqdn"],
    );
    let all = results(&report);
    assert_eq!(all["smtp.banner.fqdn"]["status"], "skip");
    assert!(
        all["smtp.banner.fqdn"]["message"]
            .as_str()
            .unwrap()
            .contains("null MX")
    );
    for (id, status) in [
        ("dns.mx", "pass"),
        ("dns.spf", "pass"),
        ("dns.dmarc", "pass"),
        ("dns.a", "skip"),
        ("dns.ptr", "skip"),
        ("dns.dkim", "skip"),
        ("dns.rbl", "skip"),
    ] {
        assert_eq!(all[id]["status"], status, "{id}: {}", all[id]);
    }
    assert!(evidence(&report, "dns.mx").contains(&"A: nomail.test. MX 0 .".to_string()));
}

#[test]
fn an_unreachable_resolver_gives_errors_within_the_timeout() {
    // Nothing listens on 127.0.100.54: the target cannot be resolved, so nothing could be
    // checked (one line, exit 2); the JSON file says why for every DNS check, and the run
    // costs one timeout, not one per query.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    let started = Instant::now();
    let output = mailcheck(&[
        "run",
        "mail.ref.test",
        "--resolver",
        "127.0.100.54",
        "--bind",
        CHECKER,
        "--only",
        "dns.*",
        "--timeout",
        "2",
        "--json",
        file.to_str().unwrap(),
    ]);
    let elapsed = started.elapsed();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot resolve mail.ref.test") && err.contains("timed out"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let all = results(&report);
    // With dns.mta-sts, dns.tls-rpt (lab_mtasts.rs), dns.dnssec and dns.tlsa (lab_dnssec.rs).
    assert_eq!(all.len(), DNS_CHECKS.len() + 4);
    for (id, result) in &all {
        assert_eq!(result["status"], "error", "{id}: {result}");
        assert!(
            result["message"].as_str().unwrap().contains("timed out"),
            "{id}: {result}"
        );
    }
    assert!(
        elapsed < Duration::from_millis(3500),
        "took {elapsed:?} with --timeout 2"
    );
}

/// The published key is the lab's OpenDKIM signing key (rendered from it at lab-up time).
#[test]
fn the_published_dkim_key_is_opendkims_key() {
    require_lab();
    let lab =
        std::env::var("MAILCHECK_LAB_DIR").unwrap_or_else(|_| "/var/lib/mailcheck-lab".into());
    let private = format!("{lab}/ref/opendkim/mail.private");
    let der = Command::new("openssl")
        .args(["pkey", "-in", &private, "-pubout", "-outform", "DER"])
        .output()
        .expect("openssl runs");
    assert!(
        der.status.success() && !der.stdout.is_empty(),
        "cannot read {private}: {}",
        String::from_utf8_lossy(&der.stderr)
    );
    let expected = base64(&der.stdout);
    let report = run_dns(
        "mail.ref.test",
        &["--only", "dns.dkim", "--dkim-selector", "mail"],
    );
    assert_eq!(results(&report)["dns.dkim"]["status"], "pass");
    let answer = evidence(&report, "dns.dkim")
        .into_iter()
        .find(|l| l.starts_with("A: mail._domainkey.ref.test. TXT"))
        .expect("the TXT answer is in the evidence");
    // Join the quoted character-strings, then take p=.
    let joined: String = answer.split('"').skip(1).step_by(2).collect();
    let published = joined
        .split(';')
        .find_map(|tag| tag.trim().strip_prefix("p="))
        .expect("a p= tag");
    assert_eq!(published, expected);
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        for _ in chunk.len()..3 {
            out.push('=');
        }
    }
    out
}
