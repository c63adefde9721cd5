//! Hostile and dead servers: the run must end within its timeouts, report `error` (never
//! `pass`), and never panic. Fakes listen on 127.0.100.2xx, standard ports (tests run as root).

mod common;

use std::time::{Duration, Instant};

use common::{Fake, json, mailcheck, spawn_fake, statuses, stderr};

const TIMEOUT: &str = "1";

fn run_against(ip: &str, extra: &[&str]) -> (serde_json::Value, Duration, i32) {
    let started = Instant::now();
    let mut args = vec![
        "run",
        ip,
        "--format",
        "json",
        "--timeout",
        TIMEOUT,
        "--domain",
        "example.test",
        // The fakes are SMTP servers: the DNS checks (tests/lab_dns.rs) would only ask the
        // machine's resolver about example.test.
        "--skip",
        "dns.*",
    ];
    args.extend_from_slice(extra);
    let output = mailcheck(&args);
    let elapsed = started.elapsed();
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    (json(&output), elapsed, output.status.code().unwrap_or(-1))
}

fn assert_nothing_passes(report: &serde_json::Value) {
    for result in report["targets"][0]["results"].as_array().unwrap() {
        let (id, endpoint, status) = (&result["id"], &result["endpoint"], &result["status"]);
        // Not even a closed 143/110 passes: no IMAP/POP3 at all is no IMAP/POP3 in clear.
        assert!(
            status == "error" || status == "skip" || status == "fail",
            "{id} @ {endpoint} is {status}"
        );
    }
}

fn message_of<'a>(report: &'a serde_json::Value, id: &str, port: &str) -> &'a str {
    report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id && r["endpoint"].as_str().unwrap_or("").contains(port))
        .unwrap_or_else(|| panic!("no {id} on {port}"))["message"]
        .as_str()
        .unwrap()
}

#[test]
fn closed_ports_give_errors_quickly() {
    // Nothing listens on 127.0.100.250.
    let (report, elapsed, code) = run_against("127.0.100.250", &[]);
    assert_eq!(code, 1);
    assert_nothing_passes(&report);
    let vrfy = message_of(&report, "smtp.vrfy.disabled", ":25/");
    assert!(
        vrfy.contains("refused") && vrfy.contains("nothing answers on this host"),
        "{vrfy}"
    );
    // Nothing answers: every result is an error (25, which the host must serve) or a skip
    // (587 and 465, which the default profile does not expect), and the score is 0.
    for (id, endpoint, status) in statuses(&report) {
        if endpoint.contains(":25/") {
            // Skips: the checks that do not apply anyway (no --relay-domain).
            assert!(status == "error" || status == "skip", "{id} @ {endpoint}");
        } else if endpoint != "dns" {
            assert_eq!(status, "skip", "{id} @ {endpoint}");
        }
    }
    assert_eq!(report["targets"][0]["score"], 0.0);
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn tarpit_costs_about_one_timeout_not_one_per_check() {
    for port in [25, 587, 465] {
        spawn_fake(&format!("127.0.100.201:{port}"), Fake::Tarpit);
    }
    let (report, elapsed, code) = run_against("127.0.100.201", &[]);
    assert_eq!(code, 1);
    assert_nothing_passes(&report);
    let message = message_of(&report, "smtp.banner.fqdn", ":25/");
    assert!(message.contains("no greeting"), "{message}");
    // 13 checks over 3 ports at a 1 s timeout: one timeout per endpoint, endpoints in parallel.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    spawn_fake("127.0.100.202:25", Fake::Garbage);
    let (report, _, _) = run_against("127.0.100.202", &["--only", "smtp.banner.*"]);
    assert_nothing_passes(&report);
    let message = message_of(&report, "smtp.banner.fqdn", ":25/");
    assert!(message.contains("not a valid reply"), "{message}");
}

#[test]
fn endless_greeting_is_cut_off() {
    spawn_fake("127.0.100.203:25", Fake::Endless);
    let (report, elapsed, _) = run_against("127.0.100.203", &["--only", "smtp.banner.*"]);
    assert_nothing_passes(&report);
    let message = message_of(&report, "smtp.banner.no-software", ":25/");
    assert!(message.contains("lines"), "{message}");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn a_421_greeting_is_retried_once_then_reported() {
    spawn_fake("127.0.100.204:25", Fake::Busy);
    let (report, _, _) = run_against("127.0.100.204", &["--only", "smtp.vrfy.disabled"]);
    let result = &report["targets"][0]["results"][0];
    assert_eq!(result["status"], "error");
    let message = result["message"].as_str().unwrap();
    assert!(
        message.contains("421") && message.contains("retry"),
        "{message}"
    );
    let evidence: Vec<&str> = result["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        evidence.iter().filter(|l| l.starts_with("S: 421")).count(),
        2,
        "{evidence:?}"
    );
}

#[test]
fn a_server_that_stops_answering_mid_dialog_is_bounded() {
    spawn_fake("127.0.100.205:25", Fake::MuteAfterEhlo);
    let (report, elapsed, _) = run_against(
        "127.0.100.205",
        &[
            "--only",
            "smtp.vrfy.disabled",
            "--only",
            "smtp.size.advertised",
        ],
    );
    let rows = statuses(&report);
    let vrfy = rows
        .iter()
        .find(|(id, _, _)| id == "smtp.vrfy.disabled")
        .unwrap();
    assert_eq!(vrfy.2, "error");
    // The EHLO reply was complete, so what it shows is still judged.
    let size = rows
        .iter()
        .find(|(id, _, _)| id == "smtp.size.advertised")
        .unwrap();
    assert_eq!(size.2, "pass");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn silence_after_the_go_ahead_for_tls_is_an_error_not_a_finding() {
    // `220 Ready to start TLS` (OK / +OK), then nothing: we cannot tell whether TLS works.
    for port in [25, 143, 110] {
        spawn_fake(&format!("127.0.100.206:{port}"), Fake::SilentAfterStartTls);
    }
    let (report, elapsed, _) = run_against(
        "127.0.100.206",
        &[
            "--only",
            "smtp.starttls",
            "--only",
            "imap.starttls",
            "--only",
            "pop3.stls",
        ],
    );
    for (id, port) in [
        ("smtp.starttls", ":25/"),
        ("imap.starttls", ":143/"),
        ("pop3.stls", ":110/"),
    ] {
        let result = report["targets"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id && r["endpoint"].as_str().unwrap_or("").contains(port))
            .unwrap_or_else(|| panic!("no {id} on {port}: {report}"));
        assert_eq!(result["status"], "error", "{id}: {result}");
        let message = result["message"].as_str().unwrap();
        assert!(
            message.contains("went silent") && message.contains("TLS handshake"),
            "{id}: {message}"
        );
    }
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
}

/// A plain SMTP server on `addr` that waits `delay` before its greeting and before each reply:
/// enough of the protocol for every SMTP check to get an answer (no STARTTLS, no AUTH, relay
/// refused). Listens in a background thread for the rest of the test.
fn spawn_smtp(addr: &str, delay: Duration) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind(addr)
        .unwrap_or_else(|e| panic!("cannot bind the fake on {addr}: {e}"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let mut writer = stream.try_clone().unwrap();
                let mut say = |text: &str| {
                    std::thread::sleep(delay);
                    writer.write_all(text.as_bytes()).is_ok()
                };
                if !say("220 fake.example.test ESMTP\r\n") {
                    return;
                }
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    if !matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
                        return;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply = match verb.as_str() {
                        "EHLO" => "250-fake.example.test\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
                        "HELO" | "RSET" | "NOOP" => "250 2.0.0 Ok\r\n",
                        "MAIL" => "250 2.1.0 Ok\r\n",
                        "RCPT" => "554 5.7.1 Relay access denied\r\n",
                        "VRFY" | "EXPN" => "502 5.5.1 Command disabled\r\n",
                        "QUIT" => {
                            say("221 2.0.0 Bye\r\n");
                            return;
                        }
                        _ => "502 5.5.2 Error: command not recognized\r\n",
                    };
                    if !say(reply) {
                        return;
                    }
                }
            });
        }
    });
}

#[test]
fn a_server_that_answers_every_line_just_within_the_timeout_costs_one_budget() {
    // Every reply 1.8 s late with --timeout 2: each exchange succeeds, and checks that need
    // many add up (50 s for this target before the budget). The default budget is 12 timeouts.
    for port in [25, 587] {
        spawn_smtp(
            &format!("127.0.100.208:{port}"),
            Duration::from_millis(1800),
        );
    }
    let started = Instant::now();
    let output = mailcheck(&[
        "run",
        "127.0.100.208",
        "--format",
        "json",
        "--timeout",
        "2",
        "--domain",
        "example.test",
        "--skip",
        "dns.*",
    ]);
    let elapsed = started.elapsed();
    let report = json(&output);
    let target = &report["targets"][0];
    assert_eq!(target["budget_ms"], 24_000, "{target}");
    assert!(elapsed < Duration::from_secs(27), "took {elapsed:?}");
    let results = target["results"].as_array().unwrap();
    let exhausted: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| {
            r["message"]
                .as_str()
                .unwrap()
                .contains("target budget exhausted")
        })
        .collect();
    assert!(!exhausted.is_empty(), "{target}");
    for result in &exhausted {
        assert_eq!(result["status"], "error", "{result}");
    }
    // What finished within the budget kept its verdict.
    assert!(results.iter().any(|r| r["status"] == "pass"), "{target}");
    assert_eq!(output.status.code(), Some(1));
}

/// `id @ port` → (status, message), for every result on a port.
fn on_ports(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let endpoint = r["endpoint"].as_str()?;
            let port = endpoint.split('/').next()?.rsplit(':').next()?.to_string();
            Some((
                format!("{} @ {port}", r["id"].as_str().unwrap()),
                r["status"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            ))
        })
        .collect()
}

#[test]
fn a_closed_port_is_judged_by_the_role_the_scenario_gives_the_host() {
    // An MX-only host: SMTP on 25, everything else closed.
    spawn_smtp("127.0.100.209:25", Duration::ZERO);
    let only = [
        "--only", "smtp.*", "--only", "imap.*", "--only", "pop3.*", "--only", "tls.*",
    ];
    // The default profile expects an MX only: no submission is no finding, and no IMAP or
    // POP3 at all is not a pass for their cleartext ports.
    let (report, _, _) = run_against("127.0.100.209", &only);
    let results = on_ports(&report);
    assert!(results.iter().any(|(key, _, _)| key.ends_with("@ 587")));
    for (key, status, message) in &results {
        if key.ends_with("@ 25") {
            continue;
        }
        assert_eq!(status, "skip", "{key}: {message}");
        // (Without --relay-domain the relay probes do not apply anywhere.)
        if (key.ends_with("@ 587") || key == "smtp.smtps @ 465")
            && !message.contains("--relay-domain")
        {
            assert!(
                message.contains("no submission service on this host"),
                "{key}: {message}"
            );
        }
    }
    for key in ["pop3.stls @ 110", "imap.starttls @ 143"] {
        let (_, _, message) = results.iter().find(|(k, _, _)| k == key).unwrap();
        assert!(message.contains("are closed: no"), "{key}: {message}");
    }
    // The course expects submission and a mailbox: on a host that answers on 25, a closed
    // 587 fails every submission check, and so does the missing IMAP.
    let mut course = vec!["-p", "course"];
    course.extend_from_slice(&only);
    let (report, _, _) = run_against("127.0.100.209", &course);
    let results = on_ports(&report);
    for (key, status, message) in &results {
        if key.ends_with("@ 587") && !message.contains("--relay-domain") {
            assert_eq!(status, "fail", "{key}: {message}");
            assert!(message.contains("expect: submission"), "{key}: {message}");
        }
        // (What the fake on 25 answers is not the point here.)
        if !key.ends_with("@ 25") {
            assert_ne!(status, "error", "{key}: {message}");
        }
    }
    let smtps = results
        .iter()
        .find(|(k, _, _)| k == "smtp.smtps @ 465")
        .unwrap();
    assert_eq!(smtps.1, "fail", "{smtps:?}");
    let imaps = results
        .iter()
        .find(|(k, _, _)| k == "imap.imaps @ 993")
        .unwrap();
    assert_eq!(imaps.1, "fail", "{imaps:?}");
    assert!(imaps.2.contains("expect: mailbox"), "{imaps:?}");
    // The course on a host where nothing answers: errors and skips only, no finding.
    let (report, _, _) = run_against("127.0.100.250", &course);
    for (key, status, message) in on_ports(&report) {
        assert!(
            status == "error" || status == "skip",
            "{key}: {status}: {message}"
        );
    }
}

/// Failed logins seen by a [`spawn_dovecot_like`] server, from every connection: how many, and
/// when the last one was.
type Failures = std::sync::Arc<std::sync::Mutex<(u32, Option<Instant>)>>;

/// Dovecot's documented delays on failed logins, on IMAP 143 and POP3 110 of `ip`: a failed
/// login is answered after `auth_failure_delay` (2 s), and every login from an address with
/// earlier failures first waits out its auth penalty (2 s doubling per failure, at most 15 s,
/// counted from the last failure). No STARTTLS, cleartext logins allowed: the weak lab's
/// Dovecot with the penalty that lab turns off.
fn spawn_dovecot_like(ip: &str) {
    use std::io::{BufRead, BufReader, Write};
    let failures: Failures = Default::default();
    for port in [143u16, 110] {
        let listener = std::net::TcpListener::bind((ip, port))
            .unwrap_or_else(|e| panic!("cannot bind the fake on {ip}:{port}: {e}"));
        let failures = failures.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let failures = failures.clone();
                std::thread::spawn(move || {
                    // The penalty first, then the check; a failure answers after 2 s more.
                    let fail_login = || {
                        let wait = {
                            let (count, last) = *failures.lock().unwrap();
                            let penalty = match count {
                                0 => Duration::ZERO,
                                n => Duration::from_secs((2u64 << (n - 1).min(3)).min(15)),
                            };
                            last.map_or(Duration::ZERO, |at| penalty.saturating_sub(at.elapsed()))
                        };
                        std::thread::sleep(wait + Duration::from_secs(2));
                        let mut state = failures.lock().unwrap();
                        *state = (state.0 + 1, Some(Instant::now()));
                    };
                    let mut writer = stream.try_clone().unwrap();
                    let greeting: &[u8] = if port == 143 {
                        b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n"
                    } else {
                        b"+OK fake ready\r\n"
                    };
                    if writer.write_all(greeting).is_err() {
                        return;
                    }
                    let mut reader = BufReader::new(stream);
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if !matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
                            return;
                        }
                        let words: Vec<&str> = line.split_whitespace().collect();
                        let answer = if port == 143 {
                            let tag = words.first().copied().unwrap_or("*");
                            match words.get(1).map(|w| w.to_ascii_uppercase()).as_deref() {
                                Some("CAPABILITY") => format!(
                                    "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"
                                ),
                                Some("LOGIN") => {
                                    fail_login();
                                    format!(
                                        "{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
                                    )
                                }
                                Some("LOGOUT") => format!("* BYE bye\r\n{tag} OK done\r\n"),
                                _ => format!("{tag} BAD unknown\r\n"),
                            }
                        } else {
                            match words.first().map(|w| w.to_ascii_uppercase()).as_deref() {
                                Some("CAPA") => "+OK\r\nUSER\r\n.\r\n".into(),
                                Some("USER") => "+OK\r\n".into(),
                                Some("PASS") => {
                                    fail_login();
                                    "-ERR [AUTH] Authentication failed.\r\n".into()
                                }
                                Some("QUIT") => "+OK bye\r\n".into(),
                                _ => "-ERR unknown\r\n".into(),
                            }
                        };
                        if writer.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
    }
}

#[test]
fn failed_logins_answered_late_by_a_penalizing_server_still_get_their_verdict() {
    spawn_dovecot_like("127.0.100.210");
    for round in 1..=2 {
        let started = Instant::now();
        let output = mailcheck(&[
            "run",
            "127.0.100.210",
            "--format",
            "json",
            "--timeout",
            "3",
            "--domain",
            "example.test",
            "--only",
            "imap.login.tls-only",
            "--only",
            "pop3.login.tls-only",
        ]);
        let report = json(&output);
        for (key, result) in common::results_by_port(&report) {
            // The second round waits out the penalty of the first's two failures (4 s) and
            // the failure delay (2 s): longer than --timeout, within the documented delay.
            assert_eq!(result["status"], "fail", "round {round}, {key}: {result}");
            assert!(
                result["message"]
                    .as_str()
                    .unwrap()
                    .contains("checked credentials sent in clear"),
                "round {round}, {key}: {result}"
            );
            if round == 2 {
                assert!(
                    result["duration_ms"].as_u64().unwrap() > 3000,
                    "round {round}, {key}: {result}"
                );
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "round {round} took {:?}",
            started.elapsed()
        );
    }
}
