//! End-to-end checks on the real lab: submit, deliver, fetch, verify DKIM, inbound, and
//! leave the mailbox as it was. Needs the lab (`scripts/lab-up`); fails when it is down.

mod common;

use std::process::Command;

use common::{json, password, stderr, stdout};

const LAB_DIR: &str = "/var/lib/mailcheck-lab";

/// The tests that count the reference mailbox take turns (the test harness runs them in
/// parallel, and one test's message in flight would change the other's count).
static REF_MAILBOX: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn require_lab() {
    common::require_lab(&["127.0.100.10:587", "127.0.100.10:993", "127.0.100.20:587"]);
}

/// Runs mailcheck with the lab's options, the `ci` profile's e2e checks and the test user.
fn e2e(target: &str, user: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        target,
        "--resolver",
        "127.0.100.53",
        "--bind",
        "127.0.100.2",
        "--relay-domain",
        "outside.test",
        "--timeout",
        "5",
        "-p",
        "ci",
        "--only",
        "e2e.*",
        "--user",
        user,
        "--password-env",
        "MAILCHECK_TEST_PW",
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(&args)
        .env("NO_COLOR", "1")
        .env("MAILCHECK_TEST_PW", password())
        .output()
        .expect("mailcheck runs")
}

/// How many messages the user's INBOX holds, counted by a real IMAP client (Python's imaplib).
fn inbox_count(host: &str, port: &str, user: &str) -> usize {
    let script = "import imaplib, ssl, sys\n\
        host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]\n\
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE\n\
        if port == 993:\n    m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx)\n\
        else:\n    m = imaplib.IMAP4(host, port); m.starttls(ssl_context=ctx)\n\
        m.login(user, pw); typ, data = m.select('INBOX', readonly=True); print(int(data[0])); m.logout()";
    let output = Command::new("python3")
        .args(["-c", script, host, port, user, &password()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "imaplib: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn result<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn reference_passes_every_e2e_check_and_leaves_the_mailbox_as_it_was() {
    require_lab();
    let _turn = REF_MAILBOX.lock().unwrap_or_else(|e| e.into_inner());
    let before = inbox_count("127.0.100.10", "993", "test@ref.test");
    let output = e2e("mail.ref.test", "test@ref.test", &["--format", "json"]);
    let report = json(&output);
    for id in ["e2e.submit", "e2e.fetch", "e2e.dkim", "e2e.inbound"] {
        let result = result(&report, id);
        assert_eq!(result["status"], "pass", "{id}: {result}");
    }
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let fetch = result(&report, "e2e.fetch");
    assert!(
        fetch["message"]
            .as_str()
            .unwrap()
            .contains("ms of acceptance"),
        "latency in {fetch}"
    );
    assert_eq!(fetch["endpoint"], "127.0.100.10:587/smtp+starttls");
    let dkim = result(&report, "e2e.dkim");
    assert!(
        dkim["message"]
            .as_str()
            .unwrap()
            .starts_with("d=ref.test s=mail a=rsa-sha256"),
        "{dkim}"
    );
    let evidence = dkim["evidence"].to_string();
    assert!(
        evidence.contains("DKIM-Signature:") && evidence.contains("verified d=ref.test s=mail"),
        "{evidence}"
    );
    assert_eq!(
        inbox_count("127.0.100.10", "993", "test@ref.test"),
        before,
        "the mailbox must hold what it held before"
    );
}

#[test]
fn weak_server_delivers_but_does_not_sign() {
    require_lab();
    let before = inbox_count("127.0.100.20", "143", "test@weak.test");
    let report = json(&e2e(
        "mail.weak.test",
        "test@weak.test",
        &["--format", "json"],
    ));
    let dkim = result(&report, "e2e.dkim");
    assert_eq!(dkim["status"], "fail", "{dkim}");
    assert_eq!(
        dkim["message"],
        "no DKIM-Signature in the delivered message"
    );
    assert!(dkim["fix"].as_str().unwrap().contains("OpenDKIM"));
    // Weak has no IMAPS: the mailbox is read over 143 with STARTTLS.
    let fetch = result(&report, "e2e.fetch");
    assert_eq!(fetch["status"], "pass", "{fetch}");
    assert!(
        fetch["evidence"]
            .to_string()
            .contains("trying IMAP with STARTTLS"),
        "{fetch}"
    );
    assert_eq!(inbox_count("127.0.100.20", "143", "test@weak.test"), before);
}

#[test]
fn no_report_format_contains_the_password() {
    require_lab();
    let _turn = REF_MAILBOX.lock().unwrap_or_else(|e| e.into_inner());
    let secret = password();
    let dir = tempfile::tempdir().unwrap();
    let paths = ["r.json", "r.xml", "r.md"].map(|name| dir.path().join(name));
    let output = e2e(
        "mail.ref.test",
        "test@ref.test",
        &[
            "-v",
            "--json",
            paths[0].to_str().unwrap(),
            "--junit",
            paths[1].to_str().unwrap(),
            "--markdown",
            paths[2].to_str().unwrap(),
        ],
    );
    let mut outputs = vec![
        ("stdout (text)".to_string(), stdout(&output)),
        ("stderr".to_string(), stderr(&output)),
    ];
    for path in &paths {
        outputs.push((
            path.display().to_string(),
            std::fs::read_to_string(path).unwrap(),
        ));
    }
    for (name, text) in &outputs {
        assert!(!text.is_empty() || name == "stderr", "{name} is empty");
        assert!(!text.contains(&secret), "{name} contains the password");
    }
    assert!(
        outputs[0].1.contains("AUTH PLAIN <redacted"),
        "the text report shows the redacted AUTH"
    );
}

#[test]
fn without_credentials_the_e2e_checks_skip() {
    require_lab();
    // With `default`: `-p ci` refuses to run without a mailbox (tests/cli.rs).
    let output = Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args([
            "run",
            "mail.ref.test",
            "--resolver",
            "127.0.100.53",
            "-p",
            "default",
            "--only",
            "e2e.*",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report = json(&output);
    for result in report["targets"][0]["results"].as_array().unwrap() {
        assert_eq!(result["status"], "skip", "{result}");
        assert!(
            result["message"].as_str().unwrap().contains("--user"),
            "{result}"
        );
    }
}

#[test]
fn inbound_without_relay_domain_uses_the_null_sender() {
    // `-p ci --user ...` is the documented CI command: no --relay-domain there, so the inbound
    // message goes out as `MAIL FROM:<>` (RFC 5321 §4.5.5), which every server must accept.
    require_lab();
    let _turn = REF_MAILBOX.lock().unwrap_or_else(|e| e.into_inner());
    let before = inbox_count("127.0.100.10", "993", "test@ref.test");
    let output = Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(["run", "mail.ref.test", "--resolver", "127.0.100.53"])
        .args(["--bind", "127.0.100.2", "--timeout", "5", "-p", "ci"])
        .args(["--only", "e2e.inbound", "--user", "test@ref.test"])
        .args(["--password-env", "MAILCHECK_TEST_PW", "--format", "json"])
        .env("NO_COLOR", "1")
        .env("MAILCHECK_TEST_PW", password())
        .output()
        .expect("mailcheck runs");
    let report = json(&output);
    let inbound = result(&report, "e2e.inbound");
    assert_eq!(inbound["status"], "pass", "{inbound}");
    assert!(
        inbound["evidence"].to_string().contains("MAIL FROM:<>"),
        "{inbound}"
    );
    assert_eq!(
        inbox_count("127.0.100.10", "993", "test@ref.test"),
        before,
        "the mailbox must hold what it held before"
    );
}

/// A source address postscreen has not seen for longer than its one-minute memory of a pass
/// (docker/ps/main.cf), so the run meets its after-220 deferral: the addresses
/// 127.0.100.4–9 take turns, their last use kept in a file beside the other tests' temp files.
fn fresh_postscreen_source() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    const MEMORY_SECS: u64 = 65;
    let state = std::env::temp_dir().join("mailcheck-postscreen-sources");
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let text = std::fs::read_to_string(&state).unwrap_or_default();
    let last_use = |ip: &str| {
        text.lines()
            .filter_map(|line| line.split_once(' '))
            .filter(|(addr, _)| *addr == ip)
            .filter_map(|(_, at)| at.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
    };
    let pool: Vec<String> = (4..=9).map(|n| format!("127.0.100.{n}")).collect();
    let oldest = pool.iter().min_by_key(|ip| last_use(ip)).unwrap().clone();
    let wait = (last_use(&oldest) + MEMORY_SECS).saturating_sub(now());
    std::thread::sleep(std::time::Duration::from_secs(wait));
    let mut kept: Vec<String> = text
        .lines()
        .filter(|line| !line.starts_with(&format!("{oldest} ")))
        .map(str::to_string)
        .collect();
    kept.push(format!("{oldest} {}", now()));
    std::fs::write(&state, kept.join("\n")).unwrap();
    oldest
}

/// Issue: a 4xx that does not speak to the probed property proves nothing. Behind postscreen's
/// after-220 tests, the first session's RCPTs all get `450 4.3.2 Service currently
/// unavailable`; the RCPT-time checks must see that, retry once on a new connection, and give
/// the verdicts the reference gives without postscreen.
#[test]
fn rcpt_time_verdicts_hold_behind_postscreen() {
    require_lab();
    common::require_lab(&["127.0.100.41:25"]);
    let _turn = REF_MAILBOX.lock().unwrap_or_else(|e| e.into_inner());
    let source = fresh_postscreen_source();
    let output = Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args([
            "run",
            "mailps.ref.test",
            "--resolver",
            "127.0.100.53",
            "--bind",
            &source,
            "--relay-domain",
            "outside.test",
            "--ca-file",
            &format!("{LAB_DIR}/ca/ca.pem"),
            "--timeout",
            "5",
            "--only",
            "smtp.relay.refused",
            "--only",
            "smtp.helo.invalid-rejected",
            "--only",
            "smtp.sender.unknown-domain-rejected",
            "--only",
            "e2e.inbound",
            "--user",
            "test@ref.test",
            "--password-env",
            "MAILCHECK_TEST_PW",
            "--format",
            "json",
        ])
        .env("MAILCHECK_TEST_PW", password())
        .output()
        .expect("mailcheck runs");
    let report = json(&output);
    let results = report["targets"][0]["results"].as_array().unwrap().clone();
    let on_25: Vec<_> = results
        .iter()
        .filter(|r| {
            r["endpoint"]
                .as_str()
                .is_some_and(|e| e.starts_with("127.0.100.41:25/"))
        })
        .collect();
    for id in [
        "smtp.relay.refused",
        "smtp.helo.invalid-rejected",
        "smtp.sender.unknown-domain-rejected",
        "e2e.inbound",
    ] {
        let result = on_25
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no {id} on port 25:\n{}", stdout(&output)));
        assert_eq!(
            result["status"], "pass",
            "{id} behind postscreen: {}\n{}",
            result["message"], result["evidence"]
        );
        // A pass must rest on the real smtpd's answer, never on postscreen's deferral.
        assert!(
            !result["message"].as_str().unwrap().contains("4.3.2"),
            "{id} passed on postscreen's deferral: {}",
            result["message"]
        );
    }
    // The run met the deferral (a fresh source address) and said so where it retried.
    let retried: Vec<&str> = on_25
        .iter()
        .filter(|r| {
            r["evidence"].as_array().unwrap().iter().any(|line| {
                line.as_str()
                    .is_some_and(|l| l.contains("the session was deferred (450 4.3.2"))
            })
        })
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        !retried.is_empty(),
        "no check met postscreen's deferral from {source}: {}",
        stderr(&output)
    );
}
