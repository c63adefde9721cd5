//! `mailcheck diff OLD.json NEW.json` on real reports: the binary checks the lab's servers, writes
//! `--json` files, and `diff` must find what really changed between them. And `mailcheck init`,
//! whose starter scenario `validate` must accept.

mod common;
mod report_fixture;

use std::path::{Path, PathBuf};

use common::{mailcheck, stderr, stdout};
use serde_json::Value;

const LAB: &str = "/var/lib/mailcheck-lab";

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("baseline")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The lab's run options (as scripts/demo gives them), without `--ca-file`: each test decides.
fn lab_options(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--resolver",
        "127.0.100.53",
        "--bind",
        "127.0.100.2",
        "--relay-domain",
        "outside.test",
        "--dnsbl",
        "dnsbl.test",
        "--timeout",
        "5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_to(json: &Path, target: &str, extra: &[&str]) {
    let mut args = vec!["run".to_string(), target.to_string()];
    args.extend(lab_options(extra));
    args.extend(["--json".to_string(), json.display().to_string()]);
    args.extend(["--format".to_string(), "json".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = mailcheck(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        stderr(&output)
    );
    common::report_file(json);
}

fn diff(old: &Path, new: &Path, format: &str) -> std::process::Output {
    mailcheck(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        format,
    ])
}

/// `diff --format json`, checked against `docs/diff.schema.json` by the schema validator.
fn diff_json(old: &Path, new: &Path) -> (Option<i32>, Value) {
    let output = diff(old, new, "json");
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diff.schema.json");
    if let Err(complaints) = common::schema::check_against(schema, &stdout(&output)) {
        panic!("diff's JSON does not follow docs/diff.schema.json:\n{complaints}");
    }
    let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "diff --format json is not JSON ({e}):\n{}\n{}",
            stdout(&output),
            stderr(&output)
        )
    });
    (output.status.code(), value)
}

/// (id, endpoint, change, old status, new status) of every change of the first target.
fn changes(diff: &Value) -> Vec<(String, String, String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    diff["targets"][0]["changes"]
        .as_array()
        .expect("changes is an array")
        .iter()
        .map(|c| {
            (
                text(&c["id"]),
                text(&c["endpoint"]),
                text(&c["change"]),
                text(&c["old_status"]),
                text(&c["new_status"]),
            )
        })
        .collect()
}

/// Statuses of (id, endpoint) in a report file, as the report says them.
fn status_in(file: &Path, id: &str, endpoint: &str) -> String {
    let report = common::report_file(file);
    report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id && r["endpoint"].as_str().unwrap_or("-") == endpoint)
        .map(|r| r["status"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("{id} @ {endpoint} in {}", file.display()))
}

#[test]
fn a_lost_trust_anchor_is_a_regression_and_getting_it_back_is_not() {
    common::require_lab(&[]);
    let dir = out_dir("trust");
    let ca = format!("{LAB}/ca/ca.pem");
    let (with_ca, without_ca) = (dir.join("with-ca.json"), dir.join("without-ca.json"));
    // The same server, the same checks; only the CA that makes its certificate trusted differs.
    let only = ["--only", "tls.cert.trusted", "--only", "smtp.vrfy.disabled"];
    let mut with: Vec<&str> = only.to_vec();
    with.extend(["--ca-file", &ca]);
    run_to(&with_ca, "mail.ref.test", &with);
    run_to(&without_ca, "mail.ref.test", &only);

    let (code, worse) = diff_json(&with_ca, &without_ca);
    assert_eq!(worse["schema"], "mailcheck/diff/v1");
    let found = changes(&worse);
    assert!(!found.is_empty(), "{worse:#}");
    // Every change is tls.cert.trusted getting worse, and each agrees with the two reports.
    for (id, endpoint, change, old, new) in &found {
        assert_eq!(id, "tls.cert.trusted", "{found:?}");
        assert_eq!(change, "worse", "{found:?}");
        assert_eq!(old, &status_in(&with_ca, id, endpoint));
        assert_eq!(new, &status_in(&without_ca, id, endpoint));
    }
    // Submission (587) must verify certificates: an untrusted one there is a fail.
    assert!(
        found
            .iter()
            .any(|(_, endpoint, _, old, new)| endpoint.contains(":587/")
                && old == "pass"
                && new == "fail"),
        "{found:?}"
    );
    assert_eq!(code, Some(1), "a regression exits 1");
    assert_eq!(worse["regression"], true);
    // tls.cert.trusted is `high`: under --fail-on critical the same changes are listed, exit 0.
    let lenient = mailcheck(&[
        "diff",
        with_ca.to_str().unwrap(),
        without_ca.to_str().unwrap(),
        "--fail-on",
        "critical",
    ]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stdout(&lenient));
    assert!(stdout(&lenient).contains(&format!("{} worse", found.len())));
    assert_eq!(worse["summary"]["worse"], found.len());

    // The other way round: only better results, exit 0.
    let (code, better) = diff_json(&without_ca, &with_ca);
    assert_eq!(code, Some(0), "{better:#}");
    assert!(changes(&better).iter().all(|c| c.2 == "better"));
    assert_eq!(better["summary"]["better"], found.len());
    assert_eq!(better["regression"], false);

    // A report against itself: nothing changed.
    let same = diff(&with_ca, &with_ca, "text");
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let text = stdout(&same);
    assert!(text.contains("mail.ref.test: score"), "{text}");
    assert!(text.contains("no status changed"), "{text}");
    assert!(
        text.contains("0 worse, 0 better, 0 new, 0 gone — no regression"),
        "{text}"
    );

    // Text and Markdown name the same regressions.
    let text = stdout(&diff(&with_ca, &without_ca, "text"));
    let markdown = stdout(&diff(&with_ca, &without_ca, "markdown"));
    assert!(markdown.starts_with("## mailcheck diff: ❌"), "{markdown}");
    for (id, endpoint, ..) in &found {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with("! worse")
                && l.contains(id)
                && l.contains(endpoint.as_str())),
            "{endpoint} in:\n{text}"
        );
        assert!(
            markdown.contains(&format!("| **worse** | `{id}` | {endpoint} | pass |")),
            "{endpoint} in:\n{markdown}"
        );
    }
}

#[test]
fn the_weak_server_as_the_next_run_of_the_reference_regresses_on_its_weaknesses() {
    common::require_lab(&[]);
    let dir = out_dir("batch");
    // One student name, first on the reference server, then on the weak one: `batch` reports
    // carry the name, which is what `diff` pairs targets by.
    for (file, target) in [("ref", "mail.ref.test"), ("weak", "mail.weak.test")] {
        let roster = dir.join(format!("{file}.yaml"));
        std::fs::write(
            &roster,
            format!("students:\n  - name: Alice Martin\n    target: {target}\n"),
        )
        .unwrap();
        let mut args = vec!["batch".to_string(), roster.display().to_string()];
        args.extend(lab_options(&["--only", "smtp.*", "--ca-file"]));
        args.push(format!("{LAB}/ca/ca.pem"));
        args.extend([
            "--json".to_string(),
            dir.join(format!("{file}.json")).display().to_string(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = mailcheck(&args);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{}",
            stderr(&output)
        );
    }
    let (code, value) = diff_json(&dir.join("ref.json"), &dir.join("weak.json"));
    assert_eq!(code, Some(1), "{value:#}");
    assert_eq!(value["targets"].as_array().unwrap().len(), 1, "{value:#}");
    assert_eq!(value["targets"][0]["target"], "Alice Martin");
    assert_eq!(value["targets"][0]["present"], "both");
    let found = changes(&value);
    // The weak server reveals its software and answers VRFY: both are worse than on the
    // reference (the lab tests pin those verdicts).
    for id in ["smtp.banner.no-software", "smtp.vrfy.disabled"] {
        assert!(
            found
                .iter()
                .any(|c| c.0 == id && c.2 == "worse" && c.4 == "fail"),
            "{id} in {found:?}"
        );
    }
    let old_score = value["targets"][0]["old_score"].as_f64().unwrap();
    let new_score = value["targets"][0]["new_score"].as_f64().unwrap();
    assert!(new_score < old_score, "{old_score} → {new_score}");
}

#[test]
fn bad_input_exits_2_and_says_why() {
    let dir = out_dir("bad");
    let good = dir.join("good.json");
    // A well-formed report without the network: the reporter tests' fixture.
    std::fs::write(&good, fixture_report()).unwrap();
    let not_json = dir.join("notes.txt");
    std::fs::write(&not_json, "hello").unwrap();
    let other = dir.join("other.json");
    std::fs::write(&other, r#"{"schema": "something/else", "targets": []}"#).unwrap();
    let truncated = dir.join("truncated.json");
    std::fs::write(
        &truncated,
        r#"{"schema": "mailcheck/report/v1", "targets": 3}"#,
    )
    .unwrap();
    let missing = dir.join("missing.json");
    let cases: &[(&Path, &str)] = &[
        (&missing, "cannot read"),
        (&not_json, "is not JSON"),
        (&other, "`something/else` document, not a mailcheck report"),
        (&truncated, "not a valid mailcheck report"),
    ];
    for (bad, expected) in cases {
        let good: &Path = &good;
        for (old, new) in [(good, *bad), (*bad, good)] {
            let output = diff(old, new, "text");
            assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
            assert!(stderr(&output).contains(expected), "{}", stderr(&output));
            assert!(stdout(&output).is_empty());
        }
    }
    let output = mailcheck(&["diff", "-", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("only one of OLD and NEW"));
    // The good file against itself is fine.
    assert_eq!(diff(&good, &good, "markdown").status.code(), Some(0));
}

/// The JSON report of the reporter tests' hand-built fixture, as `--json` writes it.
fn fixture_report() -> String {
    serde_json::to_string_pretty(&report_fixture::sample_report()).unwrap()
}

#[test]
fn init_writes_a_starter_that_validate_accepts_and_never_overwrites() {
    let dir = out_dir("init");
    let file = dir.join("site.yaml");
    let output = mailcheck(&["init", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("wrote"), "{}", stdout(&output));
    let written = std::fs::read_to_string(&file).unwrap();
    for part in [
        "extends: default",
        "settings:",
        "custom:",
        "{ severity: high }",
    ] {
        assert!(written.contains(part), "{part} in:\n{written}");
    }
    assert!(
        written.contains(&format!("mailcheck validate {}", file.display())),
        "{written}"
    );

    let validated = mailcheck(&["validate", file.to_str().unwrap()]);
    assert_eq!(validated.status.code(), Some(0), "{}", stderr(&validated));
    assert!(
        stdout(&validated).starts_with("ok: "),
        "{}",
        stdout(&validated)
    );

    // A second time: refused, and the file is untouched.
    std::fs::write(&file, "name: mine\n").unwrap();
    let again = mailcheck(&["init", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "name: mine\n");

    // `-` prints it.
    let printed = mailcheck(&["init", "-"]);
    assert_eq!(printed.status.code(), Some(0));
    assert!(stdout(&printed).contains("custom.vrfy-root-refused"));
}
