//! Golden tests of every report format on one representative report (see `report_fixture`).
//! Review a changed snapshot as the user would see it before accepting it.

mod report_fixture;
#[path = "common/schema.rs"]
mod schema;

use mailcheck::outcome::Report;
use mailcheck::report::{Format, RenderOptions, render_to_string};
use report_fixture::sample_report;

fn render(format: Format, options: &RenderOptions) -> String {
    render_to_string(format, &sample_report(), options)
}

#[test]
fn text() {
    insta::assert_snapshot!(render(Format::Text, &RenderOptions::default()));
}

#[test]
fn text_verbose() {
    let options = RenderOptions {
        verbose: true,
        ..RenderOptions::default()
    };
    insta::assert_snapshot!(render(Format::Text, &options));
}

#[test]
fn text_quiet() {
    let options = RenderOptions {
        quiet: true,
        ..RenderOptions::default()
    };
    insta::assert_snapshot!(render(Format::Text, &options));
}

#[test]
fn text_fits_80_columns_and_has_no_colour_when_off() {
    for verbose in [false, true] {
        let options = RenderOptions {
            verbose,
            ..RenderOptions::default()
        };
        let text = render(Format::Text, &options);
        assert!(!text.contains('\u{1b}'), "escape code in plain output");
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "wider than 80 columns: {line:?}"
            );
        }
    }
}

#[test]
fn text_colour_is_only_added() {
    let options = RenderOptions {
        color: true,
        ..RenderOptions::default()
    };
    let coloured = render(Format::Text, &options);
    assert!(coloured.contains('\u{1b}'));
    let stripped = strip_ansi(&coloured);
    assert_eq!(
        stripped.lines().count(),
        render(Format::Text, &RenderOptions::default())
            .lines()
            .count()
    );
    assert!(stripped.contains("  FAIL  imap.login.tls-only"));
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render(Format::Markdown, &RenderOptions::default()));
}

#[test]
fn json() {
    insta::assert_snapshot!(render(Format::Json, &RenderOptions::default()));
}

#[test]
fn junit() {
    insta::assert_snapshot!(render(Format::Junit, &RenderOptions::default()));
}

/// Every field of SPEC's `mailcheck/report/v1` example, with its JSON type, for every result.
#[test]
fn json_follows_the_spec_schema() {
    let text = render(Format::Json, &RenderOptions::default());
    assert!(text.ends_with("}\n"), "pretty JSON ends with a newline");
    assert!(text.starts_with("{\n  \"schema\""), "two-space indent");
    let json = schema::valid_report(&text);

    assert_eq!(json["schema"], "mailcheck/report/v1");
    assert_eq!(json["tool"]["name"], "mailcheck");
    assert!(json["tool"]["version"].is_string());
    assert!(json["started_at"].is_string());
    assert!(json["duration_ms"].is_u64());
    let targets = json["targets"].as_array().expect("targets is an array");
    assert_eq!(targets.len(), 2);
    for target in targets {
        assert!(target["target"].is_string());
        assert!(target["domain"].is_string() || target["domain"].is_null());
        assert!(
            target["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a.is_string())
        );
        assert!(target["score"].is_f64() || target["score"].is_null());
        for status in ["pass", "fail", "warn", "skip", "error"] {
            assert!(target["summary"][status].is_u64(), "summary.{status}");
        }
        let results = target["results"].as_array().unwrap();
        let summed: u64 = ["pass", "fail", "warn", "skip", "error"]
            .iter()
            .map(|s| target["summary"][*s].as_u64().unwrap())
            .sum();
        assert_eq!(summed, results.len() as u64);
        for result in results {
            for field in ["id", "title", "message"] {
                assert!(result[field].is_string(), "{field}");
            }
            let category = result["category"].as_str().unwrap();
            assert!(["smtp", "tls", "imap", "pop3", "dns", "e2e", "custom"].contains(&category));
            let severity = result["severity"].as_str().unwrap();
            assert!(["critical", "high", "medium", "low", "info"].contains(&severity));
            let status = result["status"].as_str().unwrap();
            assert!(["pass", "fail", "warn", "skip", "error"].contains(&status));
            // Present even when absent in the model: `null`, never a missing key.
            let object = result.as_object().unwrap();
            assert!(object.contains_key("endpoint") && object.contains_key("fix"));
            assert!(result["endpoint"].is_string() || result["endpoint"].is_null());
            assert!(result["fix"].is_string() || result["fix"].is_null());
            assert!(
                result["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|l| l.is_string())
            );
            assert!(result["duration_ms"].is_u64());
        }
    }
    assert_eq!(
        targets[0]["score"].as_f64(),
        Some(sample_report().targets[0].score.unwrap())
    );
    assert!(
        targets[1]["score"].is_null(),
        "a target with nothing weighed has a null score"
    );
    assert!(
        targets[0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["endpoint"].is_null())
    );

    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(
        back,
        sample_report(),
        "the JSON report reads back into the same model"
    );
}

/// A password that leaked into a message and into evidence (as is and base64-encoded, as
/// `AUTH LOGIN` sends it) reaches no format.
#[test]
fn no_format_shows_a_secret() {
    const SECRET: &str = "hunter2-S3cret!";
    const SECRET_BASE64: &str = "aHVudGVyMi1TM2NyZXQh";
    let mut report = sample_report();
    let result = &mut report.targets[0].results[1];
    result.message = format!("login with {SECRET} was accepted");
    result.evidence.push(format!("C: AUTH PLAIN user {SECRET}"));
    result.evidence.push(format!("C: {SECRET_BASE64}"));
    report.targets[1].results[1].fix = Some(mailcheck::outcome::Fix::own(format!(
        "password was {SECRET}"
    )));

    for format in Format::ALL {
        for verbose in [false, true] {
            let leaky = RenderOptions {
                verbose,
                ..RenderOptions::default()
            };
            let plain = render_to_string(format, &report, &leaky);
            assert!(
                plain.contains(SECRET),
                "{format}: the planted secret should show without redaction"
            );

            let options = RenderOptions {
                verbose,
                secrets: vec![SECRET.into(), String::new()],
                ..leaky
            };
            let output = render_to_string(format, &report, &options);
            assert!(
                !output.contains(SECRET),
                "{format} (verbose {verbose}) shows the secret:\n{output}"
            );
            assert!(
                !output.contains(SECRET_BASE64),
                "{format} shows the base64 secret"
            );
            assert!(
                output.contains("redacted"),
                "{format} (verbose {verbose}) should show where the secret was"
            );
        }
    }
}

#[test]
fn an_empty_run_still_says_so() {
    let mut report = sample_report();
    report.targets.clear();
    let options = RenderOptions::default();
    assert_eq!(
        render_to_string(Format::Text, &report, &options),
        "0 targets, 0 with failures — 0 pass, 0 fail, 0 warn, 0 skip, 0 error in 15.2 s\n"
    );
    assert!(
        render_to_string(Format::Markdown, &report, &options)
            .starts_with("## mailcheck: 0 targets")
    );
    let json = schema::valid_report(&render_to_string(Format::Json, &report, &options));
    assert_eq!(json["targets"], serde_json::json!([]));
    let xml = render_to_string(Format::Junit, &report, &options);
    assert!(
        xml.contains(r#"<testsuites name="mailcheck" tests="0""#),
        "{xml}"
    );
    assert!(!xml.contains("<testsuite "), "{xml}");
}
