//! The JUnit report loads in two real JUnit consumers from PyPI and they agree: `junitparser`,
//! the library behind several CI test-report tools, and `junit2html`, a report viewer (whose
//! matrix view merges test cases by class and name across suites, so names must be unique
//! across targets).
//!
//! Needs `python3` with `pip install junitparser junit2html`; without them this test fails (never
//! skips), so CI cannot go green without having checked.

mod report_fixture;
#[path = "common/schema.rs"]
mod schema;

use std::process::Command;

use mailcheck::report::{Format, RenderOptions, render_to_string};
use report_fixture::sample_report;
use serde_json::Value;

/// Loads the XML with junitparser and describes what it saw, as JSON.
const READ_WITH_JUNITPARSER: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped

xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for suite in xml:
    cases = []
    for case in suite:
        results = [
            {"kind": type(r).__name__.lower(), "message": r.message, "type": r.type, "text": r.text}
            for r in case.result
        ]
        cases.append({
            "name": case.name,
            "classname": case.classname,
            "time": case.time,
            "results": results,
            "system_out": case.system_out,
        })
    # junitparser has no accessor for a suite's own <system-out>: read the element.
    out = suite._elem.find("system-out")
    props = suite._elem.find("properties")
    properties = {} if props is None else {p.get("name"): p.get("value") for p in props}
    suites.append({
        "name": suite.name,
        "hostname": suite.hostname,
        "tests": suite.tests,
        "skipped": suite.skipped,
        "failures": suite.failures,
        "errors": suite.errors,
        "properties": properties,
        "system_out": None if out is None else out.text,
        "cases": cases,
    })
print(json.dumps(suites))
"#;

/// Loads the XML with junit2html and describes what it saw, in the same shape for the fields
/// both read; `rows` is the number of rows of its matrix view (one per class and name).
const READ_WITH_JUNIT2HTML: &str = r#"
import json, sys
from junit2htmlreport.parser import Junit
from junit2htmlreport.matrix import ReportMatrix

report = Junit(sys.argv[1])
suites = []
for suite in report.suites:
    cases = [
        {"name": case.name, "classname": case.testclass.name, "outcome": case.outcome().value}
        for case in suite.all()
    ]
    suites.append({
        "name": suite.name,
        "properties": {p.name: p.value for p in suite.properties},
        "cases": cases,
    })
matrix = ReportMatrix()
matrix.add_report(sys.argv[1])
rows = sum(len(names) for names in matrix.cases.values())
print(json.dumps({"suites": suites, "rows": rows}))
"#;

fn python_with_junitparser() {
    let probe = Command::new("python3")
        .args(["-c", "import junitparser, junit2htmlreport"])
        .output();
    match probe {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "junitparser or junit2html is not installed: run `pip install junitparser junit2html` (python3 said: {})",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(error) => panic!(
            "python3 is needed to validate the JUnit report ({error}); install it, then `pip install junitparser junit2html`"
        ),
    }
}

/// Runs one of the reader scripts above on the XML file and parses what it printed.
fn read_with(script: &str, path: &std::path::Path) -> Value {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the consumer could not read the report:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// junitparser and junit2html see the same suites, the same case names in the same classes with
/// the same outcomes, and junit2html's matrix has one row per case (no two merged).
fn consumers_agree(path: &std::path::Path) -> Value {
    let parsed = read_with(READ_WITH_JUNITPARSER, path);
    let viewed = read_with(READ_WITH_JUNIT2HTML, path);
    let (parsed_suites, viewed_suites) = (
        parsed.as_array().unwrap(),
        viewed["suites"].as_array().unwrap(),
    );
    assert_eq!(parsed_suites.len(), viewed_suites.len());
    let mut total = 0;
    for (p, v) in parsed_suites.iter().zip(viewed_suites) {
        assert_eq!(p["name"], v["name"]);
        assert_eq!(p["properties"], v["properties"]);
        let outcome = |case: &Value| match case["results"].as_array().unwrap().first() {
            None => "passed",
            Some(r) if r["kind"] == "skipped" => "skipped",
            Some(_) => "failed",
        };
        let mut from_parser: Vec<(String, String, &str)> = p["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["classname"].as_str().unwrap().to_owned(),
                    c["name"].as_str().unwrap().to_owned(),
                    outcome(c),
                )
            })
            .collect();
        let mut from_viewer: Vec<(String, String, &str)> = v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["classname"].as_str().unwrap().to_owned(),
                    c["name"].as_str().unwrap().to_owned(),
                    c["outcome"].as_str().unwrap(),
                )
            })
            .collect();
        // junit2html groups a suite's cases by class: compare as sets.
        from_parser.sort();
        from_viewer.sort();
        assert_eq!(from_parser, from_viewer, "suite {}", p["name"]);
        // The suite's counts are what its cases say.
        let count_of = |o: &str| from_parser.iter().filter(|c| c.2 == o).count();
        assert_eq!(p["tests"].as_u64().unwrap() as usize, from_parser.len());
        assert_eq!(p["skipped"].as_u64().unwrap() as usize, count_of("skipped"));
        assert_eq!(
            (p["failures"].as_u64().unwrap() + p["errors"].as_u64().unwrap()) as usize,
            count_of("failed")
        );
        total += from_parser.len();
    }
    assert_eq!(
        viewed["rows"].as_u64().unwrap() as usize,
        total,
        "junit2html merged test cases"
    );
    parsed
}

fn count(cases: &[&Value], kind: &str) -> usize {
    cases
        .iter()
        .filter(|case| {
            case["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == kind)
        })
        .count()
}

#[test]
fn junitparser_reads_the_report() {
    python_with_junitparser();
    let report = sample_report();
    let xml = render_to_string(Format::Junit, &report, &RenderOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xml");
    std::fs::write(&path, &xml).unwrap();

    let suites = consumers_agree(&path);
    let suites = suites.as_array().unwrap();

    // One suite per target, named after it, the score in its system-out.
    assert_eq!(suites.len(), 2);
    assert_eq!(suites[0]["name"], "mail.example.com");
    assert_eq!(suites[1]["name"], "mx2.example.net");
    for (suite, target) in suites.iter().zip(&report.targets) {
        assert_eq!(suite["hostname"], target.target.as_str());
        assert_eq!(suite["properties"]["target"], target.target.as_str());
    }
    assert_eq!(suites[0]["properties"]["score"], "47.9/100");
    assert_eq!(suites[0]["properties"]["domain"], "example.com");
    assert_eq!(suites[0]["skipped"], 1);
    assert!(
        suites[0]["system_out"]
            .as_str()
            .unwrap()
            .contains("score: 47.9/100")
    );
    assert!(
        suites[1]["system_out"]
            .as_str()
            .unwrap()
            .contains("score: n/a")
    );

    // One case per result; fail → failure, error → error, skip → skipped, warn passes.
    let cases: Vec<&Value> = suites
        .iter()
        .flat_map(|s| s["cases"].as_array().unwrap())
        .collect();
    assert_eq!(cases.len(), 14);
    assert_eq!(count(&cases, "failure"), 3);
    assert_eq!(count(&cases, "error"), 2);
    assert_eq!(count(&cases, "skipped"), 2);
    let passed = cases
        .iter()
        .filter(|c| c["results"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(passed, 7, "5 pass + 2 warn");

    // Every result is found under the name `<id> @ <endpoint>` (`<id> @ <domain>` without an
    // endpoint), in its category's class, with its duration in seconds.
    for (suite, target) in suites.iter().zip(&report.targets) {
        for (case, result) in suite["cases"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&target.results)
        {
            let domain = target
                .domain
                .clone()
                .unwrap_or_else(|| target.target.clone());
            let endpoint = result.endpoint.map_or(domain, |e| e.to_string());
            assert_eq!(case["name"], format!("{} @ {endpoint}", result.id).as_str());
            assert_eq!(case["classname"], result.category.as_str());
            let time = case["time"].as_f64().unwrap();
            assert!(
                (time - result.duration_ms as f64 / 1000.0).abs() < 1e-9,
                "{time}"
            );
        }
    }

    let by_name = |name: &str| {
        *cases
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no case {name}"))
    };

    let failure = &by_name("imap.login.tls-only @ 203.0.113.10:143/imap")["results"][0];
    assert_eq!(failure["kind"], "failure");
    assert_eq!(failure["type"], "critical");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .starts_with("cleartext LOGIN accepted")
    );
    assert!(
        failure["text"]
            .as_str()
            .unwrap()
            .contains("fix: disable_plaintext_auth = yes")
    );

    let dns = by_name("dns.mx @ example.com");
    assert_eq!(
        dns["system_out"],
        "PASS: example.com has MX 10 mail.example.com, which resolves\n\
         example.com. 3600 IN MX 10 mail.example.com.\n\
         mail.example.com. 3600 IN A 203.0.113.10"
    );

    let warn = by_name("dns.dmarc @ example.com");
    assert!(
        warn["system_out"]
            .as_str()
            .unwrap()
            .starts_with("WARN: p=none")
    );

    let skipped = &by_name("e2e.submit @ 203.0.113.10:587/smtp+starttls")["results"][0];
    assert_eq!(skipped["message"], "needs --user and a password");

    let error = &by_name("smtp.size.advertised @ [2001:db8::25]:25/smtp")["results"][0];
    assert_eq!(error["kind"], "error");
    assert_eq!(
        error["message"],
        "timed out after 10 s waiting for the greeting"
    );

    // A `]]>` in server text survives intact.
    let custom = by_name("custom.reply-has-pipe @ 203.0.113.10:25/smtp");
    assert!(
        custom["system_out"]
            .as_str()
            .unwrap()
            .contains("*rejected* ```]]>\nfix: see the `custom` scenario & its <expect> block")
    );
}

/// The counts written in the XML agree with the results (what CI summaries show), each suite
/// names its target as `hostname`.
#[test]
fn suite_attributes_count_the_results() {
    let xml = render_to_string(Format::Junit, &sample_report(), &RenderOptions::default());
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    assert!(xml.ends_with("</testsuites>\n"));
    assert!(xml.contains(
        r#"<testsuites name="mailcheck" tests="14" skipped="2" failures="3" errors="2""#
    ));
    assert!(xml.contains(
        r#"<testsuite name="mail.example.com" tests="11" skipped="1" errors="1" failures="3""#
    ));
    assert!(xml.contains(
        r#"<testsuite name="mx2.example.net" tests="3" skipped="1" errors="1" failures="0""#
    ));
    assert!(xml.contains(r#"hostname="mail.example.com">"#));
    assert!(xml.contains(r#"<property name="score" value="47.9/100"/>"#));
    assert_eq!(xml.matches("<testsuite ").count(), 2);
    assert_eq!(xml.matches("<testcase ").count(), 14);
    assert_eq!(xml.matches("<failure ").count(), 3);
    assert_eq!(xml.matches("<error ").count(), 2);
    assert_eq!(xml.matches("<skipped ").count(), 2);
}

/// Each suite's `time` as junitparser reads it, in order.
fn suite_times(path: &std::path::Path) -> Vec<f64> {
    let script = "import json, sys\nfrom junitparser import JUnitXml\n\
                  print(json.dumps([s.time for s in JUnitXml.fromfile(sys.argv[1])]))";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Vec<f64>>(&output.stdout).unwrap()
}

#[test]
fn a_suite_lasts_the_wall_time_of_its_target_not_the_sum_of_its_checks() {
    python_with_junitparser();
    // The lab's reference server: its checks run four connections at a time.
    for addr in ["127.0.100.10:25", "127.0.100.53:53"] {
        assert!(
            std::net::TcpStream::connect(addr).is_ok(),
            "the lab is not running ({addr}): start it with `scripts/lab-up`"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (xml, json) = (dir.path().join("r.xml"), dir.path().join("r.json"));
    let output = Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args([
            "run",
            "mail.ref.test",
            "mail.weak.test",
            "--resolver",
            "127.0.100.53",
        ])
        .args([
            "--bind",
            "127.0.100.2",
            "--relay-domain",
            "outside.test",
            "--timeout",
            "5",
        ])
        .args(["--only", "smtp.*", "--only", "tls.*", "--only", "dns.*"])
        .args(["--format", "json"])
        .arg("--junit")
        .arg(&xml)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = schema::valid_report(&std::fs::read_to_string(&json).unwrap());
    let times = suite_times(&xml);
    let targets = report["targets"].as_array().unwrap();
    // Both consumers agree on the real two-target run; DNS results carry their domain, so no
    // name is shared between the targets.
    let suites = consumers_agree(&xml);
    for (suite, target) in suites.as_array().unwrap().iter().zip(targets) {
        assert_eq!(suite["hostname"], target["target"]);
        let domain = target["domain"]
            .as_str()
            .expect("a lab target has a domain");
        let names: Vec<&str> = suite["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let without_endpoint: Vec<String> = target["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["endpoint"].is_null())
            .map(|r| format!("{} @ {domain}", r["id"].as_str().unwrap()))
            .collect();
        assert!(!without_endpoint.is_empty(), "no DNS result for {domain}");
        for name in &without_endpoint {
            assert!(
                names.contains(&name.as_str()),
                "no case {name} in {names:?}"
            );
        }
    }
    assert_eq!(times.len(), targets.len());
    for (time, target) in times.iter().zip(targets) {
        let wall = target["duration_ms"]
            .as_u64()
            .expect("a checked target has its wall time");
        assert!(
            (time - wall as f64 / 1000.0).abs() < 1e-9,
            "{time} vs {wall} ms"
        );
        let sum: u64 = target["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["duration_ms"].as_u64().unwrap())
            .sum();
        // Checks ran side by side: the sum overstates the target's time.
        assert!(
            wall < sum,
            "{}: wall {wall} ms, sum {sum} ms",
            target["target"]
        );
        assert!(wall <= report["duration_ms"].as_u64().unwrap());
    }
}
