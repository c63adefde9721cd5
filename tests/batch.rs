//! `mailcheck batch` (course mode): a class of 30 over the lab and fakes, graded, with every
//! report checked against the JSON; the HTML report opened in headless Chromium; bad rosters.
//!
//! The lab tests fail (never skip) when the lab is down (`scripts/lab-up`) or Chromium is
//! missing (`apt-get install chromium`; `scripts/test` installs it).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

use common::{Fake, json, mailcheck, spawn_fake, stderr, stdout};
use serde_json::Value;

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";
const ROSTERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rosters");

fn roster(name: &str) -> String {
    format!("{ROSTERS}/{name}")
}

fn require_lab() {
    for addr in ["127.0.100.10:25", "127.0.100.20:25", "127.0.100.53:53"] {
        let addr: SocketAddr = addr.parse().unwrap();
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok(),
            "the lab is not running ({addr} does not answer): start it with `scripts/lab-up`"
        );
    }
}

/// The fakes of class-30.yaml: two tarpits on every mail port, and an SMTP server whose
/// greeting and EHLO reply are HTML (the report must show them, escaped).
fn start_fakes() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        for ip in ["127.0.100.230", "127.0.100.231"] {
            for port in [25, 587, 465, 143, 993, 110, 995] {
                spawn_fake(&format!("{ip}:{port}"), Fake::Tarpit);
            }
        }
        let listener = TcpListener::bind("127.0.100.232:25").expect("bind 127.0.100.232:25");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || html_banner(stream));
            }
        });
    });
}

fn html_banner(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let _ = stream.write_all(b"220 <script>alert('pwned')</script> ESMTP\r\n");
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
        let verb = line.trim().to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") || verb.starts_with("HELO") {
            b"250-<img src=x onerror=alert(1)>\r\n250 8BITMIME\r\n"
        } else if verb.starts_with("QUIT") {
            let _ = stream.write_all(b"221 bye\r\n");
            return;
        } else {
            b"502 5.5.2 <i>no</i>\r\n"
        };
        if stream.write_all(reply).is_err() {
            return;
        }
        line.clear();
    }
}

/// The worst status of each check id of a target, as the CSV and the matrix sum it up:
/// fail > error > warn > pass > skip.
fn worst_statuses(target: &Value) -> BTreeMap<String, String> {
    let rank = |s: &str| match s {
        "fail" => 4,
        "error" => 3,
        "warn" => 2,
        "pass" => 1,
        _ => 0,
    };
    let mut worst: BTreeMap<String, String> = BTreeMap::new();
    for result in target["results"].as_array().unwrap() {
        let id = result["id"].as_str().unwrap().to_string();
        let status = result["status"].as_str().unwrap().to_string();
        let entry = worst.entry(id).or_insert_with(|| status.clone());
        if rank(&status) > rank(entry) {
            *entry = status;
        }
    }
    worst
}

/// Every (id, endpoint, status) of a target, for comparing targets on the same server.
fn verdicts(target: &Value) -> Vec<(String, String, String)> {
    target["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["endpoint"].as_str().unwrap_or("dns").to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Whether the server said anything on any port (an `S:` line in some evidence).
fn server_spoke(target: &Value) -> bool {
    target["results"].as_array().unwrap().iter().any(|r| {
        !r["endpoint"].is_null()
            && r["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l.as_str().unwrap().starts_with("S:"))
    })
}

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    let mut command = Command::new("chromium");
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command.args(args);
    command.output().unwrap_or_else(|e| {
        panic!("cannot run chromium ({e}): install it with `apt-get install -y --no-install-recommends chromium`")
    })
}

/// Opens the page in headless Chromium: its DOM after the script ran, and a screenshot.
fn open_in_chromium(html: &Path, screenshot: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", html.display());
    let dumped = chromium(&["--dump-dom", &url], profile.path());
    let log = String::from_utf8_lossy(&dumped.stderr).into_owned();
    assert!(dumped.status.success(), "chromium failed:\n{log}");
    for bad in ["Uncaught", "SyntaxError", "TypeError", "ReferenceError"] {
        assert!(
            !log.contains(bad),
            "the page's script failed ({bad}):\n{log}"
        );
    }
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");

    let profile = tempfile::tempdir().unwrap();
    let shot = chromium(
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1400,1000",
            &url,
        ],
        profile.path(),
    );
    assert!(
        shot.status.success(),
        "chromium screenshot failed:\n{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(screenshot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real screenshot"
    );
    String::from_utf8_lossy(&dumped.stdout).into_owned()
}

/// Loads the JUnit file with junitparser (as tests/report_junit.rs does): suite names and
/// test counts, as JSON.
fn junit_suites(path: &Path) -> Vec<(String, usize)> {
    let script = r#"
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
print(json.dumps([[suite.name, len(list(suite))] for suite in xml]))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3 runs (with `pip install junitparser`)");
    assert!(
        output.status.success(),
        "junitparser cannot read the JUnit report: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("batch");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_class_of_thirty_is_graded_in_about_the_time_of_its_slowest_server() {
    require_lab();
    start_fakes();
    let dir = out_dir();
    let (csv, junit, html) = (
        dir.join("class.csv"),
        dir.join("class.xml"),
        dir.join("class.html"),
    );
    let common = ["--resolver", RESOLVER, "--bind", CHECKER, "--timeout", "2"];

    // The slowest single students, alone: a tarpit on every port, and the weak server (open
    // relay probes, Dovecot's delays after failed logins).
    let alone = |target: &str, domain: &str| {
        let started = Instant::now();
        let mut args = vec![
            "run",
            target,
            "--profile",
            "course",
            "--domain",
            domain,
            "--relay-domain",
            "outside.test",
            "--format",
            "json",
        ];
        args.extend(common);
        let output = mailcheck(&args);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        started.elapsed()
    };
    let slowest = alone("127.0.100.230", "nowhere.test").max(alone("mail.weak.test", "weak.test"));

    let class = roster("class-30.yaml");
    let mut args = vec![
        "batch",
        &class,
        "--scale",
        "20",
        "--format",
        "json",
        "--csv",
        csv.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    args.extend(common);
    let started = Instant::now();
    let output = mailcheck(&args);
    let wall = started.elapsed();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    let report = json(&output);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 30);
    eprintln!(
        "batch of 30: {:.1} s; slowest student alone: {:.1} s",
        wall.as_secs_f64(),
        slowest.as_secs_f64()
    );
    // Concurrency: the class costs about its slowest student, not the sum of 30.
    assert!(
        wall < slowest * 2 + Duration::from_secs(6),
        "30 students took {wall:?}, the slowest alone {slowest:?}"
    );

    // The roster's order and names.
    let roster_text = std::fs::read_to_string(&class).unwrap();
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t["name"].as_str().expect("every student is named"))
        .collect();
    assert_eq!(names[0], "Alice Martin");
    assert_eq!(names[29], "Marc-Antoine O'Neill");
    for name in &names {
        assert!(
            roster_text.contains(&format!("name: {name}\n")),
            "{name} is not from the roster"
        );
    }

    // The same server under several names gets the same grade, and never contradictory
    // verdicts: load may only turn a verdict into "could not tell" (`error`, which earns
    // nothing, as a `fail`), e.g. when Dovecot slows down after many failed logins from one
    // address, as it does when ten students point at the same lab server.
    let by_target = |target: &str| -> Vec<&Value> {
        targets.iter().filter(|t| t["target"] == target).collect()
    };
    for server in [
        "mail.ref.test",
        "127.0.100.10",
        "mail.weak.test",
        "127.0.100.20",
    ] {
        let students = by_target(server);
        assert!(students.len() >= 4, "{server}");
        let first = verdicts(students[0]);
        for other in &students[1..] {
            assert_eq!(
                other["score"], students[0]["score"],
                "{} on {server}",
                other["name"]
            );
            let theirs = verdicts(other);
            assert_eq!(theirs.len(), first.len(), "{} on {server}", other["name"]);
            for (a, b) in first.iter().zip(&theirs) {
                assert_eq!((&a.0, &a.1), (&b.0, &b.1));
                let agree = a.2 == b.2 || a.2 == "error" || b.2 == "error";
                assert!(
                    agree,
                    "{} and {} contradict on {server}: {a:?} / {b:?}",
                    students[0]["name"], other["name"]
                );
            }
        }
    }
    let score = |t: &Value| t["score"].as_f64().unwrap_or(0.0);
    let reference = score(by_target("mail.ref.test")[0]);
    let weak = score(by_target("mail.weak.test")[0]);
    assert!(
        reference > weak + 20.0,
        "reference {reference}, weak {weak}"
    );

    // Dead addresses and tarpits: graded, and graded as servers that said nothing.
    let silent: Vec<&Value> = targets
        .iter()
        .filter(|t| {
            let target = t["target"].as_str().unwrap();
            target.starts_with("127.0.100.24")
                || target.starts_with("127.0.100.23") && target != "127.0.100.232"
        })
        .collect();
    assert_eq!(silent.len(), 8);
    for target in &silent {
        assert!(!server_spoke(target), "{}", target["name"]);
        assert!(
            score(target) < weak,
            "{} scores {}",
            target["name"],
            score(target)
        );
        let statuses: Vec<String> = verdicts(target)
            .into_iter()
            // dns.tlsa speaks of port 25 from DNS alone (no DNSSEC here: `skip`).
            .filter(|(id, endpoint, _)| endpoint.contains(":25/") && !id.starts_with("dns."))
            .map(|(_, _, status)| status)
            .collect();
        assert!(
            !statuses.is_empty() && statuses.iter().all(|s| s == "error"),
            "{}: {statuses:?}",
            target["name"]
        );
    }
    let tarpit = by_target("127.0.100.230")[0];
    let message = tarpit["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["endpoint"].as_str().is_some_and(|e| e.contains(":25/")))
        .unwrap()["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("greeting")
            || message.contains("timed out")
            || message.contains("timeout"),
        "{message}"
    );

    // The grade sheet: one row per student in order, one column per check id, worst status.
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        &header[..11],
        [
            "name", "target", "domain", "score", "grade", "scale", "pass", "fail", "warn", "skip",
            "error"
        ]
    );
    let ids: Vec<&String> = header[11..].iter().collect();
    let mut all_ids: Vec<String> = targets
        .iter()
        .flat_map(|t| worst_statuses(t).into_keys())
        .collect();
    all_ids.sort();
    all_ids.dedup();
    let mut sorted_ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    sorted_ids.sort();
    assert_eq!(sorted_ids, all_ids, "one column per check id of the run");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 30);
    for (row, target) in rows.iter().zip(targets) {
        assert_eq!(&row[0], target["name"].as_str().unwrap());
        let expected_grade = target["score"]
            .as_f64()
            .map(|s| format!("{:.1}", (s * 20.0 / 10.0).round() / 10.0))
            .unwrap_or_default();
        assert_eq!(&row[4], expected_grade, "{}", &row[0]);
        assert_eq!(&row[5], "20");
        let worst = worst_statuses(target);
        for (column, id) in ids.iter().enumerate() {
            let expected = worst.get(id.as_str()).map(String::as_str).unwrap_or("");
            assert_eq!(&row[11 + column], expected, "{} / {id}", &row[0]);
        }
    }

    // JUnit: one suite per student, named after the student, a case per result.
    let suites = junit_suites(&junit);
    assert_eq!(suites.len(), 30);
    for ((name, cases), target) in suites.iter().zip(targets) {
        assert_eq!(name, target["name"].as_str().unwrap());
        assert_eq!(
            *cases,
            target["results"].as_array().unwrap().len(),
            "{name}"
        );
    }

    // HTML: the matrix and a section per student, everything from servers escaped.
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(
        page.matches("<a href=\"#student-").count(),
        30,
        "a matrix row per student"
    );
    assert_eq!(page.matches("<section class=\"student\"").count(), 30);
    assert!(page.contains("&lt;b&gt;Eve&lt;/b&gt; &amp; &quot;Mallory&quot;"));
    assert!(
        page.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"),
        "the HTML banner is shown, escaped"
    );
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"));
    assert_eq!(
        page.matches("<script>").count(),
        1,
        "only the page's own script"
    );
    assert_eq!(page.matches("Server unreachable.").count(), 8);
    for target in targets {
        let grade = target["score"]
            .as_f64()
            .map(|s| format!("{:.1}", (s * 20.0 / 10.0).round() / 10.0))
            .unwrap();
        assert!(
            page.contains(&format!(">{grade}<small>/20</small>")),
            "{}",
            target["name"]
        );
    }

    let dom = open_in_chromium(&html, &dir.join("class.png"));
    assert!(
        dom.contains("data-sortable=\"ready\""),
        "the sort script ran"
    );
    assert_eq!(
        dom.matches("class=\"cell st-").count(),
        page.matches("class=\"cell st-").count()
    );
    eprintln!("screenshot: {}", dir.join("class.png").display());
}

#[test]
fn the_class_summary_reads_in_french_with_grades_out_of_20() {
    let class = roster("class.csv");
    let output = mailcheck(&[
        "batch",
        &class,
        "--only",
        "smtp.banner.*",
        "--timeout",
        "1",
        "--scale",
        "20",
        "--lang",
        "fr",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("Rapport de classe · 3 étudiants · notes sur 20"),
        "{text}"
    );
    for name in ["Martin, Alice", "Bruno Lefèvre", "Camille Dubois"] {
        let line = text
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            line.contains("0.0/20") && line.contains("injoignable"),
            "{line}"
        );
    }
    assert!(text.contains("3 étudiants en"), "{text}");
    // Nothing but the report on stdout; no progress bar when stderr is not a terminal.
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

#[test]
fn a_csv_roster_gives_named_students_in_order() {
    let class = roster("class.csv");
    let output = mailcheck(&[
        "batch",
        &class,
        "--only",
        "smtp.banner.fqdn",
        "--timeout",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let targets = report["targets"].as_array().unwrap();
    let shown: Vec<(&str, &str, Option<&str>)> = targets
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["target"].as_str().unwrap(),
                t["domain"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("Martin, Alice", "127.0.100.246", Some("alice-lab.test")),
            ("Bruno Lefèvre", "127.0.100.247", Some("bruno-lab.test")),
            ("Camille Dubois", "127.0.100.248", None),
        ]
    );
    assert_eq!(report["schema"], "mailcheck/report/v1");
}

#[test]
fn bad_yaml_rows_stop_the_batch_with_their_place() {
    let bad = roster("bad-rows.yaml");
    let output = mailcheck(&["batch", &bad, "--timeout", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).is_empty(),
        "nothing checked, nothing reported"
    );
    let errors = stderr(&output);
    for expected in [
        "error: unknown key `taget`",
        "bad-rows.yaml:8:5",
        "did you mean `target`?",
        "`domain`: `not a domain` is not a domain name",
        "bad-rows.yaml:11:13",
        "student name `Alice Martin` is used twice",
        "first used at",
        "error: 3 bad rows in",
        "nothing was checked",
        "--keep-going",
    ] {
        assert!(
            errors.contains(expected),
            "missing {expected:?} in:\n{errors}"
        );
    }
}

#[test]
fn keep_going_grades_bad_rows_as_errors_and_checks_the_others() {
    let bad = roster("bad-rows.yaml");
    let output = mailcheck(&[
        "batch",
        &bad,
        "--keep-going",
        "--only",
        "smtp.banner.fqdn",
        "--timeout",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: 3 bad rows"),
        "{}",
        stderr(&output)
    );
    let report = json(&output);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 5, "every row is in the report");
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "Alice Martin");
    assert_eq!(names[1], "Bruno Lefèvre");
    assert_eq!(names[2], "Camille Dubois");
    assert!(
        names[3].starts_with("Alice Martin (") && names[3] != names[0],
        "{names:?}"
    );
    assert_eq!(names[4], "Damien Moreau");
    for bad in &targets[1..4] {
        let results = bad["results"].as_array().unwrap();
        assert!(!results.is_empty());
        for result in results {
            assert_eq!(result["status"], "error");
            assert!(
                result["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("not checked: bad roster row:"),
                "{}",
                result["message"]
            );
        }
        assert_eq!(bad["score"], 0.0);
    }
    assert!(
        targets[1]["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains("taget"),
        "the reason is given"
    );
    // The good rows were checked: their (dead) servers refused the connection.
    let checked = targets[0]["results"][0]["message"].as_str().unwrap();
    assert!(checked.contains("refused"), "{checked}");
}

#[test]
fn bad_csv_rows_name_their_row_and_column() {
    let bad = roster("bad-rows.csv");
    let output = mailcheck(&["batch", &bad]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    for expected in [
        "bad-rows.csv, row 3, column `name`: a student without `name`",
        "bad-rows.csv, row 4, column `domain`: `domain`: `camille` is not a domain name",
        "bad-rows.csv, row 5: 2 cells, the header has 3",
        "error: 3 bad rows",
    ] {
        assert!(
            errors.contains(expected),
            "missing {expected:?} in:\n{errors}"
        );
    }
}

#[test]
fn a_roster_that_is_not_one_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("class.yaml");
    std::fs::write(&path, "students:\n  - name: Alice\n    target: [a, b]\n").unwrap();
    let output = mailcheck(&["batch", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`target` must be a string, found a list"),
        "{}",
        stderr(&output)
    );

    let txt = dir.path().join("class.txt");
    std::fs::write(&txt, "name,target\n").unwrap();
    let output = mailcheck(&["batch", txt.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot tell the format"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn run_writes_the_same_html_for_one_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.html");
    let output = mailcheck(&[
        "run",
        "127.0.100.249",
        "--only",
        "smtp.banner.fqdn",
        "--timeout",
        "1",
        "--format",
        "html",
        "--html",
        file.to_str().unwrap(),
        "--lang",
        "fr",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(
        page.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"),
        "{page}"
    );
    assert_eq!(
        page,
        std::fs::read_to_string(&file).unwrap(),
        "--format html and --html agree"
    );
    assert!(
        !page.contains("class=\"matrix\""),
        "one target: no class matrix"
    );
    assert_eq!(page.matches("<section class=\"student\"").count(), 1);
    assert!(page.contains("Serveur injoignable."), "{page}");
    assert!(page.contains("La bannière commence par un nom d&#39;hôte complet (FQDN)"));
}

#[test]
fn a_password_variable_that_is_not_set_is_a_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("class.yaml");
    std::fs::write(
        &path,
        "students:\n  - name: Alice\n    target: 127.0.100.246\n    user: test@alice.test\n    \
         password_env: MAILCHECK_TEST_UNSET_PASSWORD\n  - name: Bob\n    target: 127.0.100.247\n",
    )
    .unwrap();
    let output = mailcheck(&[
        "batch",
        path.to_str().unwrap(),
        "--only",
        "smtp.banner.fqdn",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(errors.contains("class.yaml:2:5 (Alice)"), "{errors}");
    assert!(errors.contains("MAILCHECK_TEST_UNSET_PASSWORD"), "{errors}");
    assert!(errors.contains("error: 1 bad row in"), "{errors}");
}
