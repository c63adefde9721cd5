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
