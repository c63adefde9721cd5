//! The built-in profiles and the documented example load and plan through the public API.

use std::path::Path;

use mailcheck::check::Role;
use mailcheck::outcome::Severity;
use mailcheck::scenario;

#[test]
fn every_builtin_profile_loads_and_plans() {
    let names = scenario::builtin_names();
    assert!(names.contains(&"default") && names.contains(&"ci") && names.contains(&"course"));
    for name in names {
        let profile = scenario::builtin(name).unwrap_or_else(|e| panic!("profile {name}:\n{e}"));
        let plan = scenario::plan(&[profile], &[], &[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(!plan.checks.is_empty(), "profile {name} selects no check");
    }
}

#[test]
fn every_builtin_profile_file_is_compiled_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            scenario::builtin_names().contains(&stem.as_str()),
            "{} is not in PROFILES",
            path.display()
        );
        // The file on disk loads too, so `mailcheck validate scenarios/*.yaml` passes.
        scenario::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn the_documented_example_loads() {
    let example = scenario::load_file(Path::new("tests/fixtures/scenarios/valid-full.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(example.name, "valid-full");
    let plan = scenario::plan(&[example], &[], &["smtp.relay.*".to_string()]).unwrap();
    assert_eq!(plan.ports[&Role::Mx], 2525);
    assert_eq!(plan.settings.relay_domain.as_deref(), Some("example.org"));
    let severity = |id: &str| {
        plan.checks
            .iter()
            .find(|s| s.check.info().id == id)
            .map(|s| s.severity)
    };
    assert_eq!(severity("smtp.vrfy.disabled"), Some(Severity::High));
    assert_eq!(severity("smtp.size.advertised"), None);
    assert_eq!(severity("smtp.relay.refused"), None);
}

#[test]
fn a_profile_then_a_file_apply_in_order() {
    let course = scenario::builtin("course").unwrap();
    let site = scenario::load_str(
        "site.yaml",
        "checks:\n  - smtp.vrfy.disabled: { severity: low }\n",
    )
    .unwrap();
    let plan = scenario::plan(&[course, site], &[], &[]).unwrap();
    let severity = |id: &str| {
        plan.checks
            .iter()
            .find(|s| s.check.info().id == id)
            .map(|s| s.severity)
    };
    assert_eq!(severity("smtp.vrfy.disabled"), Some(Severity::Low));
    assert_eq!(severity("smtp.relay.refused"), Some(Severity::Critical));
}

/// The README's custom-check example: three dialogs, after the catalog's checks, selected by
/// `--only 'custom.*'` and `--skip` like any check.
#[test]
fn the_documented_custom_example_loads_and_plans() {
    let site = scenario::load_file(Path::new("tests/fixtures/scenarios/custom-full.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let ids = |plan: &scenario::Plan| -> Vec<(String, Severity)> {
        plan.checks
            .iter()
            .map(|s| (s.check.info().id.to_string(), s.severity))
            .collect()
    };
    let all = scenario::plan(std::slice::from_ref(&site), &[], &[]).unwrap();
    let all = ids(&all);
    let custom: Vec<&(String, Severity)> = all
        .iter()
        .filter(|(id, _)| id.starts_with("custom."))
        .collect();
    assert_eq!(
        custom,
        [
            &("custom.no-root-vrfy".to_string(), Severity::High),
            &(
                "custom.imap-no-cleartext-login".to_string(),
                Severity::Critical
            ),
            &(
                "custom.pop3-no-cleartext-user".to_string(),
                Severity::Medium
            ),
        ]
    );
    // After every catalog check of `extends: default`.
    let first_custom = all
        .iter()
        .position(|(id, _)| id.starts_with("custom."))
        .unwrap();
    assert!(first_custom > 0);
    assert!(
        all[first_custom..]
            .iter()
            .all(|(id, _)| id.starts_with("custom."))
    );

    let only = scenario::plan(
        std::slice::from_ref(&site),
        &["custom.*".to_string()],
        &["custom.pop3-*".to_string()],
    )
    .unwrap();
    let only: Vec<String> = ids(&only).into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        only,
        ["custom.no-root-vrfy", "custom.imap-no-cleartext-login"]
    );

    let check = scenario::plan(&[site], &["custom.no-root-vrfy".to_string()], &[])
        .unwrap()
        .checks[0]
        .check;
    let info = check.info();
    assert_eq!(info.category.as_str(), "custom");
    assert_eq!(info.title, "VRFY root is refused");
    assert!(info.fix.contains("disable_vrfy_command"), "{}", info.fix);
    assert!(
        info.what.contains("`VRFY root` → 5xx 5.5.1"),
        "{}",
        info.what
    );

    // The README shows this very file (without its schema comment).
    let fixture = std::fs::read_to_string("tests/fixtures/scenarios/custom-full.yaml").unwrap();
    let (_, shown) = fixture.split_once('\n').unwrap();
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(
        readme.contains(shown),
        "README.md's custom example differs from the fixture"
    );
}
