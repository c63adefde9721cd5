//! Integration tests of custom dialog checks (a scenario's `custom:`) against the real lab: the
//! README's example (`tests/fixtures/scenarios/custom-full.yaml`) passes on the reference
//! server and fails on the weak one, each failure showing the expected and the actual reply; a
//! port that does not answer is an `error`, never a verdict. A lab that cannot be reached
//! fails these tests: it never skips them.

mod common;

use common::{json, mailcheck, stderr, stdout};

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";
const EXAMPLE: &str = "tests/fixtures/scenarios/custom-full.yaml";

fn require_lab() {
    common::require_lab(&[
        "127.0.100.10:143",
        "127.0.100.10:110",
        "127.0.100.20:143",
        "127.0.100.20:110",
    ]);
}

/// The custom checks of `scenario` on `target`, from the checker's address through the lab
/// DNS: the JSON report and the exit code.
fn run(target: &str, scenario: &str) -> (serde_json::Value, Option<i32>) {
    let args = [
        "run",
        target,
        "-s",
        scenario,
        "--only",
        "custom.*",
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--timeout",
        "5",
        "--format",
        "json",
    ];
    let output = mailcheck(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "mailcheck {args:?} exited {:?}: {}",
        output.status.code(),
        stderr(&output)
    );
    (json(&output), output.status.code())
}

/// The one result of check `id`.
fn result<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    let results: Vec<&serde_json::Value> = report["targets"][0]["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .filter(|r| r["id"] == id)
        .collect();
    assert_eq!(results.len(), 1, "one result for {id}: {results:#?}");
    results[0]
}

fn text(value: &serde_json::Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

fn evidence(result: &serde_json::Value) -> Vec<&str> {
    result["evidence"]
        .as_array()
        .expect("evidence is an array")
        .iter()
        .map(text)
        .collect()
}

/// Asserts that `lines` holds each of `wanted`, in this order.
fn assert_in_order(lines: &[&str], wanted: &[&str]) {
    let mut from = 0;
    for want in wanted {
        match lines[from..].iter().position(|line| line.starts_with(want)) {
            Some(at) => from += at + 1,
            None => panic!("no line starting with {want:?} (in order) in:\n{lines:#?}"),
        }
    }
}

#[test]
fn the_reference_server_passes_every_step() {
    require_lab();
    let (report, code) = run("mail.ref.test", EXAMPLE);
    assert_eq!(code, Some(0), "{report:#}");
    let results = report["targets"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results.iter().map(|r| text(&r["id"])).collect();
    // `--only 'custom.*'` left out every catalog check of `extends: default`.
    assert_eq!(
        ids,
        [
            "custom.no-root-vrfy",
            "custom.imap-no-cleartext-login",
            "custom.pop3-no-cleartext-user"
        ]
    );

    let vrfy = result(&report, "custom.no-root-vrfy");
    assert_eq!(vrfy["status"], "pass", "{vrfy:#}");
    assert_eq!(vrfy["category"], "custom");
    assert_eq!(vrfy["severity"], "high");
    assert_eq!(vrfy["endpoint"], "127.0.100.10:25/smtp");
    assert!(
        text(&vrfy["message"]).contains("step 2 `VRFY root` → 502 5.5.1"),
        "{vrfy:#}"
    );
    assert_in_order(
        &evidence(vrfy),
        &[
            "S: 220 mail.ref.test ESMTP",
            "C: STARTTLS",
            "* TLS handshake complete",
            "* greeting: as expected",
            "C: VRFY root",
            "S: 502 5.5.1 VRFY command is disabled",
            "* step 2 `VRFY root`: as expected",
            "C: NOOP",
            "S: 250",
            "* step 3 `NOOP`: as expected",
        ],
    );

    let imap = result(&report, "custom.imap-no-cleartext-login");
    assert_eq!(imap["status"], "pass", "{imap:#}");
    assert_eq!(imap["endpoint"], "127.0.100.10:143/imap");
    assert_in_order(
        &evidence(imap),
        &[
            "S: * OK",
            // mailcheck tags the command itself: the scenario says `LOGIN nobody made-up`.
            "C: a1 LOGIN nobody made-up",
            "S: a1 NO [PRIVACYREQUIRED]",
            "* step 1 `LOGIN nobody made-up`: as expected (NO [PRIVACYREQUIRED])",
        ],
    );

    let pop3 = result(&report, "custom.pop3-no-cleartext-user");
    assert_eq!(pop3["status"], "pass", "{pop3:#}");
    assert_in_order(
        &evidence(pop3),
        &[
            "C: CAPA",
            "S: STLS",
            "S: .",
            "C: USER nobody",
            "S: -ERR [AUTH]",
        ],
    );
}

#[test]
fn the_weak_server_fails_with_expected_and_actual_side_by_side() {
    require_lab();
    let (report, code) = run("mail.weak.test", EXAMPLE);
    assert_eq!(code, Some(1), "{report:#}");

    // Postfix with VRFY on: `252` for a known user, `550 5.1.1` for an unknown one.
    let vrfy = result(&report, "custom.no-root-vrfy");
    assert_eq!(vrfy["status"], "fail", "{vrfy:#}");
    let message = text(&vrfy["message"]);
    assert!(
        message.starts_with(
            "step 2 `VRFY root`: expected `5xx 5.5.1 containing \"disabled\"`, actual `"
        ),
        "{message}"
    );
    assert!(
        message.contains("actual `252 ") || message.contains("actual `550 "),
        "{message}"
    );
    // The scenario's own fix hint is shown with the failure.
    assert!(
        text(&vrfy["fix"]).contains("disable_vrfy_command = yes"),
        "{vrfy:#}"
    );
    let lines = evidence(vrfy);
    assert_in_order(
        &lines,
        &[
            "C: VRFY root",
            "S: 5",
            "* step 2 `VRFY root`: NOT as expected",
            "*   expected: 5xx 5.5.1 containing \"disabled\"",
            "*   actual:   ",
        ],
    );
    // The dialog stops at the first mismatch.
    assert!(!lines.contains(&"C: NOOP"), "{lines:#?}");

    let imap = result(&report, "custom.imap-no-cleartext-login");
    assert_eq!(imap["status"], "fail", "{imap:#}");
    assert_eq!(
        text(&imap["message"]),
        "step 1 `LOGIN nobody made-up`: expected `NO [PRIVACYREQUIRED]`, actual `NO \
         [AUTHENTICATIONFAILED] Authentication failed.`"
    );

    let pop3 = result(&report, "custom.pop3-no-cleartext-user");
    assert_eq!(pop3["status"], "fail", "{pop3:#}");
    assert!(
        text(&pop3["message"])
            .starts_with("step 2 `USER nobody`: expected `-ERR [AUTH]`, actual `+OK"),
        "{pop3:#}"
    );
}

#[test]
fn a_port_that_does_not_answer_is_an_error() {
    require_lab();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.yaml");
    // Nothing listens on port 9 of the lab: submission is expected, and no other port of the
    // host was contacted, so a refused connection is an `error` (we could not tell), not a
    // `fail`. (Without `expect: [submission]` it would be a skip: no submission service.)
    std::fs::write(
        &path,
        "ports: { submission: 9 }
expect: [mx, submission]
custom:
  - id: custom.noop
    title: NOOP is answered
    port: submission
    dialog:
      - send: NOOP
        expect: { code: 250 }
",
    )
    .unwrap();
    let (report, code) = run("mail.ref.test", path.to_str().unwrap());
    assert_eq!(code, Some(1), "{report:#}");
    let noop = result(&report, "custom.noop");
    assert_eq!(noop["status"], "error", "{noop:#}");
    assert_eq!(noop["endpoint"], "127.0.100.10:9/smtp");
    assert!(
        text(&noop["message"]).contains("connection refused"),
        "{noop:#}"
    );
}

#[test]
fn a_reply_that_never_comes_is_an_error() {
    // A fake that greets and answers EHLO, then says nothing more (127.0.100.240 is ours).
    common::spawn_fake("127.0.100.240:25", common::Fake::MuteAfterEhlo);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mute.yaml");
    std::fs::write(
        &path,
        "custom:
  - id: custom.noop
    title: NOOP is answered
    port: smtp
    dialog:
      - expect: { code: 220 }
      - send: NOOP
        expect: { code: 250 }
",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let output = mailcheck(&[
        "run",
        "127.0.100.240",
        "-s",
        path.to_str().unwrap(),
        "--domain",
        "example.test",
        "--timeout",
        "1",
        "--format",
        "json",
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let noop = result(&report, "custom.noop");
    assert_eq!(noop["status"], "error", "{noop:#}");
    assert!(
        text(&noop["message"]).starts_with("step 2 `NOOP`: no answer within"),
        "{noop:#}"
    );
    assert_in_order(
        &evidence(noop),
        &[
            "S: 220 fake.example.test",
            "* greeting: as expected",
            "C: NOOP",
        ],
    );
}

#[test]
fn validate_lints_custom_checks_without_the_network() {
    let output = mailcheck(&["validate", EXAMPLE]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // `extends: default` brings the catalog's checks; the three custom ones come on top.
    let shown = stdout(&output);
    assert!(shown.starts_with(&format!("ok: {EXAMPLE} (")), "{shown}");

    let output = mailcheck(&[
        "validate",
        "tests/fixtures/scenarios/custom-bad-dialog.yaml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("error: a dialog cannot send `DATA`"),
        "{}",
        stderr(&output)
    );
}
