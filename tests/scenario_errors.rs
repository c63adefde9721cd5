//! Golden tests of what a person sees when a scenario file is wrong: the full rendered error for
//! each fixture in `tests/fixtures/scenarios/`, compared to a reviewed snapshot.

use std::path::Path;

use mailcheck::scenario::{self, ScenarioError};

fn load_error(fixture: &str) -> String {
    let path = format!("tests/fixtures/scenarios/{fixture}.yaml");
    let result: Result<_, ScenarioError> = scenario::load_file(Path::new(&path));
    match result {
        Ok(_) => panic!("{path} loaded, but it should not"),
        Err(error) => error.to_string(),
    }
}

macro_rules! golden {
    ($($test:ident => $fixture:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                insta::assert_snapshot!($fixture, load_error($fixture));
            }
        )*
    };
}

golden! {
    typo_check_id => "typo-check-id",
    unknown_key => "unknown-key",
    bad_severity => "bad-severity",
    bad_port => "bad-port",
    not_yaml => "not-yaml",
    misindented_options => "misindented-options",
    duplicate_key => "duplicate-key",
    bad_settings => "bad-settings",
    wrong_types => "wrong-types",
    two_documents => "two-documents",
    custom_bad_ids => "custom-bad-ids",
    custom_bad_expect => "custom-bad-expect",
    custom_bad_dialog => "custom-bad-dialog",
}

#[test]
fn missing_file() {
    let error =
        scenario::load_file(Path::new("tests/fixtures/scenarios/no-such-file.yaml")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "error: cannot read scenario `tests/fixtures/scenarios/no-such-file.yaml`: \
         No such file or directory (os error 2)"
    );
}

#[test]
fn command_line_globs() {
    let scenarios = [scenario::builtin("default").unwrap()];
    let only = ["smtp.relay.refuse".to_string()];
    let skip = ["ldap.*".to_string()];
    let error = scenario::plan(&scenarios, &only, &skip)
        .err()
        .expect("bad globs");
    insta::assert_snapshot!("command-line-globs", error.to_string());
}

/// Two scenarios of one run that define the same custom id: the second is pointed at, the
/// first is named.
#[test]
fn custom_check_defined_in_two_files() {
    let load = |name: &str| {
        let path = format!("tests/fixtures/scenarios/{name}.yaml");
        scenario::load_file(Path::new(&path)).unwrap_or_else(|e| panic!("{e}"))
    };
    let error = scenario::plan(&[load("custom-full"), load("custom-again")], &[], &[])
        .err()
        .expect("the same custom id twice");
    insta::assert_snapshot!("custom-defined-twice", error.to_string());
}

/// `--only`/`--skip` know the custom ids of the run's scenarios, and still catch typos.
#[test]
fn command_line_globs_with_custom_checks() {
    let site = scenario::load_file(Path::new("tests/fixtures/scenarios/custom-full.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let only = ["custom.no-root-vrfi".to_string()];
    let skip = ["custom.smtp-*".to_string()];
    let error = scenario::plan(&[site], &only, &skip)
        .err()
        .expect("bad globs");
    insta::assert_snapshot!("command-line-globs-custom", error.to_string());
}

/// Whatever the bytes, loading gives a scenario or an error with a location, never a panic: every
/// prefix of every fixture, and the documented example with each character removed in turn.
#[test]
fn broken_files_never_panic() {
    let mut inputs = Vec::new();
    for entry in std::fs::read_dir("tests/fixtures/scenarios").unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        inputs.extend(boundaries.iter().map(|&end| text[..end].to_string()));
    }
    let example = std::fs::read_to_string("tests/fixtures/scenarios/valid-full.yaml").unwrap();
    for (index, c) in example.char_indices() {
        inputs.push(format!(
            "{}{}",
            &example[..index],
            &example[index + c.len_utf8()..]
        ));
    }
    for input in inputs {
        if let Err(error) = scenario::load_str("broken.yaml", &input) {
            assert!(!error.diagnostics().is_empty());
            assert!(
                error.diagnostics().iter().all(|d| d.location.is_some()),
                "{error}"
            );
            let shown = error.to_string();
            assert!(shown.starts_with("error: "), "{shown}");
        }
    }
}
