//! Unit tests of loading and planning. Errors are checked where users see them: the line, the
//! column and the hint. Opt-in checks and profile cycles use a fake catalog and fake profiles,
//! since the real ones have neither (yet).

use std::time::Duration;

use super::load::{Env, load, load_profile};
use super::select::{Catalog, plan_with};
use super::*;
use crate::check::{CATALOG, Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};

macro_rules! fake_check {
    ($name:ident, $id:literal, $severity:ident, $opt_in:literal) => {
        struct $name;

        #[async_trait::async_trait]
        impl Check for $name {
            fn info(&self) -> &'static CheckInfo {
                static INFO: CheckInfo = CheckInfo {
                    id: $id,
                    title: "fake",
                    category: Category::Smtp,
                    severity: Severity::$severity,
                    scope: Scope::Endpoints {
                        roles: &[Role::Mx],
                        stage: Stage::Greeted,
                    },
                    what: "fake",
                    why: "fake",
                    fix: "fake",
                    opt_in: $opt_in,
                    title_fr: None,
                    fix_fr: None,
                };
                &INFO
            }

            async fn run(&self, _ctx: &mut Ctx<'_>) -> Verdict {
                Verdict::skip("fake")
            }
        }
    };
}

fake_check!(Vrfy, "smtp.vrfy.disabled", Medium, false);
fake_check!(Expn, "smtp.expn.disabled", Medium, false);
fake_check!(Fqdn, "smtp.banner.fqdn", Low, false);
fake_check!(Smuggling, "smtp.smuggling", High, true);
fake_check!(Injection, "smtp.starttls.injection", High, true);

static FAKE: Catalog = &[&Vrfy, &Expn, &Fqdn, &Smuggling, &Injection];

fn fake_env() -> Env {
    Env {
        catalog: FAKE,
        profiles: &[
            ("base", "checks: [smtp.*]\nsettings: { known_user: base }\n"),
            ("loop-a", "extends: loop-b\n"),
            ("loop-b", "extends: loop-a\n"),
        ],
    }
}

fn fake(text: &str) -> Scenario {
    load(&fake_env(), "t.yaml", "t.yaml", text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn fake_error(text: &str) -> String {
    load(&fake_env(), "t.yaml", "t.yaml", text, &[])
        .expect_err("should not load")
        .to_string()
}

/// Ids and severities the plan selected.
fn selected(plan: &Plan) -> Vec<(&'static str, Severity)> {
    plan.checks
        .iter()
        .map(|s| (s.check.info().id, s.severity))
        .collect()
}

fn fake_plan(scenarios: &[Scenario], only: &[&str], skip: &[&str]) -> Plan {
    let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
    let skip: Vec<String> = skip.iter().map(|s| s.to_string()).collect();
    plan_with(FAKE, scenarios, &only, &skip).unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> String {
    load_str("t.yaml", text)
        .expect_err("should not load")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Valid files

#[test]
fn a_full_scenario_loads() {
    let scenario = load_str(
        "site.yaml",
        "name: site
description: Our relay.
extends: default
checks:
  - smtp.*
  - smtp.vrfy.disabled: { severity: high }
  - smtp.size.advertised:
      enabled: false
ports:
  smtp: 2525
  submission: 1587
settings:
  relay_domain: Example.ORG.
  helo_name: probe.example.net
  known_user: abuse
  unknown_domain: nowhere.invalid
  retry_pause_ms: 250
",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scenario.name, "site");
    assert_eq!(scenario.description.as_deref(), Some("Our relay."));
    assert_eq!(scenario.origin, "site.yaml");
    assert_eq!(
        scenario.extends.as_ref().map(|b| b.name.as_str()),
        Some("default")
    );
    assert_eq!(scenario.checks.len(), 3);
    assert_eq!(scenario.checks[1].severity, Some(Severity::High));
    assert!(!scenario.checks[2].enabled);

    let plan = plan(&[scenario], &[], &[]).unwrap();
    assert_eq!(plan.ports[&Role::Mx], 2525);
    assert_eq!(plan.ports[&Role::Submission], 1587);
    assert_eq!(plan.ports[&Role::Smtps], 465);
    assert_eq!(plan.settings.relay_domain.as_deref(), Some("example.org"));
    assert_eq!(
        plan.settings.smtp.helo_name.as_deref(),
        Some("probe.example.net")
    );
    assert_eq!(plan.settings.smtp.known_user, "abuse");
    assert_eq!(plan.settings.smtp.unknown_domain, "nowhere.invalid");
    assert_eq!(plan.settings.smtp.retry_pause, Duration::from_millis(250));
    let ids: Vec<&str> = plan.checks.iter().map(|s| s.check.info().id).collect();
    assert!(!ids.contains(&"smtp.size.advertised"));
    let vrfy = plan
        .checks
        .iter()
        .find(|s| s.check.info().id == "smtp.vrfy.disabled")
        .unwrap();
    assert_eq!(vrfy.severity, Severity::High);
    // Catalog order, whatever the order of the items.
    let catalog_order: Vec<&str> = CATALOG
        .iter()
        .map(|c| c.info().id)
        .filter(|id| ids.contains(id))
        .collect();
    assert_eq!(ids, catalog_order);
}

#[test]
fn a_file_without_checks_selects_nothing_and_keeps_the_defaults() {
    // An empty file is an error (issue 11 item 10); one that only names itself is not.
    let scenario = load_str("dir/empty.yaml", "# nothing yet\ndescription: later\n").unwrap();
    assert_eq!(scenario.name, "empty");
    let plan = plan(&[scenario], &[], &[]).unwrap();
    assert!(plan.checks.is_empty());
    assert_eq!(plan.ports[&Role::Mx], 25);
    assert_eq!(plan.settings.smtp.known_user, "postmaster");
    assert!(plan.settings.smtp.unknown_domain.ends_with(".invalid"));
}

#[test]
fn empty_values_are_the_same_as_leaving_the_key_out() {
    let scenario = load_str(
        "t.yaml",
        "name: x\ndescription:\nchecks:\nports: ~\nsettings: null\n",
    )
    .unwrap();
    assert_eq!(scenario.description, None);
    assert!(scenario.checks.is_empty() && scenario.ports.is_empty());
}

#[test]
fn a_byte_order_mark_is_ignored() {
    assert_eq!(
        load_str("t.yaml", "\u{feff}name: bom\n").unwrap().name,
        "bom"
    );
}

// ---------------------------------------------------------------------------------------------
// Combining: extends, order, globs and opt-in checks, --only/--skip

#[test]
fn extends_applies_the_profile_first() {
    let scenario = fake("extends: base\nchecks:\n  - smtp.expn.disabled: { enabled: false }\n");
    let plan = fake_plan(&[scenario], &[], &[]);
    assert_eq!(
        selected(&plan),
        [
            ("smtp.vrfy.disabled", Severity::Medium),
            ("smtp.banner.fqdn", Severity::Low)
        ]
    );
    assert_eq!(plan.settings.smtp.known_user, "base");
}

#[test]
fn later_items_and_later_scenarios_override_earlier_ones() {
    let first = fake(
        "checks:
  - smtp.*: { severity: low }
  - smtp.vrfy.disabled: { severity: critical }
  - smtp.banner.fqdn: { enabled: false }
  - smtp.banner.fqdn
ports: { smtp: 2525 }
settings: { known_user: first, helo_name: first.example }
",
    );
    let plan = fake_plan(std::slice::from_ref(&first), &[], &[]);
    assert_eq!(
        selected(&plan),
        [
            ("smtp.vrfy.disabled", Severity::Critical),
            ("smtp.expn.disabled", Severity::Low),
            ("smtp.banner.fqdn", Severity::Low),
        ]
    );

    let second = fake(
        "checks:
  - smtp.vrfy.disabled: { severity: medium }
  - smtp.expn.*: { enabled: false }
ports: { smtps: 4465 }
settings: { known_user: second }
",
    );
    let plan = fake_plan(&[first, second], &[], &[]);
    assert_eq!(
        selected(&plan),
        [
            ("smtp.vrfy.disabled", Severity::Medium),
            ("smtp.banner.fqdn", Severity::Low)
        ]
    );
    assert_eq!(
        (plan.ports[&Role::Mx], plan.ports[&Role::Smtps]),
        (2525, 4465)
    );
    assert_eq!(plan.settings.smtp.known_user, "second");
    assert_eq!(
        plan.settings.smtp.helo_name.as_deref(),
        Some("first.example")
    );
}

#[test]
fn globs_never_turn_on_opt_in_checks() {
    let plan = fake_plan(&[fake("checks: ['*', 'smtp.*']\n")], &[], &[]);
    let ids: Vec<&str> = selected(&plan).into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        ids,
        [
            "smtp.vrfy.disabled",
            "smtp.expn.disabled",
            "smtp.banner.fqdn"
        ]
    );

    // An exact id does; a glob may then change its severity or turn it off.
    let plan = fake_plan(
        &[fake(
            "checks:\n  - smtp.smuggling\n  - smtp.starttls.injection\n  - smtp.s*: { severity: low }\n  - smtp.starttls.*: { enabled: false }\n",
        )],
        &[],
        &[],
    );
    assert_eq!(selected(&plan), [("smtp.smuggling", Severity::Low)]);
}

#[test]
fn a_glob_that_only_matches_opt_in_checks_is_an_error() {
    assert_eq!(
        fake_error("checks:\n  - smtp.s?uggling*\n"),
        "error: `smtp.s?uggling*` matches only opt-in checks
 --> t.yaml:2:5
  |
2 |   - smtp.s?uggling*
  |     ^^^^^^^^^^^^^^^ selects nothing
  |
  = note: a glob never turns on an opt-in check: name each one by its id
  = help: write `- smtp.smuggling`"
    );
    // Turning them off is fine.
    fake("checks:\n  - smtp.s?uggling*: { enabled: false }\n");
}

#[test]
fn only_keeps_and_skip_removes() {
    let all = fake("checks: [smtp.*, smtp.smuggling]\n");
    let ids = |only: &[&str], skip: &[&str]| -> Vec<&'static str> {
        selected(&fake_plan(std::slice::from_ref(&all), only, skip))
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    };
    assert_eq!(
        ids(&["smtp.vrfy.*", "smtp.banner.fqdn"], &[]),
        ["smtp.vrfy.disabled", "smtp.banner.fqdn"]
    );
    assert_eq!(
        ids(&[], &["*.disabled"]),
        ["smtp.banner.fqdn", "smtp.smuggling"]
    );
    assert_eq!(
        ids(&["smtp.*"], &["smtp.banner.*", "smtp.smuggling"]),
        ["smtp.vrfy.disabled", "smtp.expn.disabled"]
    );
    // --only filters; it does not add a check the scenarios left out.
    assert_eq!(ids(&["smtp.starttls.injection"], &[]), Vec::<&str>::new());
}

#[test]
fn only_and_skip_globs_must_match_a_check() {
    let only = ["smtp.vrfy.disable".to_string(), "nntp.*".to_string()];
    let skip = ["SMTP.*".to_string()];
    let error = plan(&[], &only, &skip)
        .err()
        .expect("bad globs")
        .to_string();
    assert_eq!(
        error,
        "error: --only: unknown check `smtp.vrfy.disable`
  = help: did you mean `smtp.vrfy.disabled`?

error: --only: `nntp.*` matches no check
  = help: `mailcheck list` shows every check id

error: --skip: `SMTP.*` is not a check id or glob
  = help: did you mean `smtp.*`?"
    );
}

#[test]
fn profiles_cannot_extend_themselves() {
    let error = load_profile(&fake_env(), "loop-a", &[])
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        error,
        "error: profile `loop-a` extends itself
 --> scenarios/loop-b.yaml:1:10
  |
1 | extends: loop-a
  |          ^^^^^^ makes a cycle
  |
  = note: the chain is loop-a → loop-b → loop-a"
    );
}

// ---------------------------------------------------------------------------------------------
// Errors: where, what, and the hint

#[test]
fn unknown_top_level_key() {
    assert_eq!(
        error("name: x\nchekcs:\n  - smtp.*\n"),
        "error: unknown key `chekcs`
 --> t.yaml:2:1
  |
2 | chekcs:
  | ^^^^^^ not a scenario key
  |
  = help: did you mean `checks`?"
    );
    assert_eq!(
        error("colour: blue\n"),
        "error: unknown key `colour`
 --> t.yaml:1:1
  |
1 | colour: blue
  | ^^^^^^ not a scenario key
  |
  = note: expected one of: name, description, extends, checks, ports, settings, custom, expect"
    );
    assert!(error("profile: course\n").contains("did you mean `extends`?"));
}

#[test]
fn unknown_check_id() {
    assert_eq!(
        error("checks:\n  - smtp.vrfy.disable\n"),
        "error: unknown check `smtp.vrfy.disable`
 --> t.yaml:2:5
  |
2 |   - smtp.vrfy.disable
  |     ^^^^^^^^^^^^^^^^^ not in the check catalog
  |
  = help: did you mean `smtp.vrfy.disabled`?"
    );
    assert!(
        error("checks: [ldap.bind]\n").contains("= help: `mailcheck list` shows every check id")
    );
    assert!(error("checks: [smtp_vrfy_disabled]\n").contains("did you mean `smtp.vrfy.disabled`?"));
}

#[test]
fn a_glob_that_matches_nothing() {
    let shown = error("checks:\n  - smpt.*\n");
    assert!(shown.contains(" --> t.yaml:2:5"), "{shown}");
    assert!(
        shown.contains("error: `smpt.*` matches no check"),
        "{shown}"
    );
    assert!(shown.contains("= help: did you mean `smtp.*`?"), "{shown}");
}

#[test]
fn bad_severity_in_flow_options() {
    assert_eq!(
        error("checks:\n  - smtp.vrfy.disabled: { severity: hgh }\n"),
        "error: unknown severity `hgh`
 --> t.yaml:2:37
  |
2 |   - smtp.vrfy.disabled: { severity: hgh }
  |                                     ^^^ not a severity
  |
  = help: did you mean `high`?"
    );
    assert!(
        error("checks:\n  - smtp.vrfy.disabled: { severity: High }\n")
            .contains("did you mean `high`?")
    );
    assert!(
        error("checks:\n  - smtp.vrfy.disabled: { severity: urgent }\n")
            .contains("= note: expected one of: critical, high, medium, low, info")
    );
}

#[test]
fn unknown_option_key_and_bad_boolean() {
    assert_eq!(
        error("checks:\n  - smtp.vrfy.disabled:\n      severty: high\n      enabled: no\n"),
        "error: unknown key `severty`
 --> t.yaml:3:7
  |
3 |       severty: high
  |       ^^^^^^^ not a check option
  |
  = help: did you mean `severity`?

error: `enabled` must be `true` or `false`, found `no`
 --> t.yaml:4:16
  |
4 |       enabled: no
  |                ^^
  |
  = help: write `false`"
    );
    assert!(
        error("checks:\n  - smtp.vrfy.disabled: { enabled: \"false\" }\n")
            .contains("= help: remove the quotes: `false`")
    );
}

#[test]
fn options_indented_level_with_the_id() {
    assert_eq!(
        error("checks:\n  - smtp.vrfy.disabled:\n    severity: high\n"),
        "error: a check item names one check, found a second key `severity`
 --> t.yaml:3:5
  |
3 |     severity: high
  |     ^^^^^^^^ second key
  |
  = help: options belong to the check: indent them further than the id, or write `- smtp.vrfy.disabled: { severity: high }`"
    );
}

#[test]
fn options_given_as_a_bare_value() {
    let shown = error("checks:\n  - smtp.vrfy.disabled: high\n");
    assert!(shown.contains("error: `smtp.vrfy.disabled` must be followed by options such as `{ severity: high }`, found `high`"), "{shown}");
    assert!(shown.contains(" --> t.yaml:2:25"), "{shown}");
    assert!(
        shown.contains("= help: write `smtp.vrfy.disabled: { severity: high }`"),
        "{shown}"
    );
}

#[test]
fn checks_must_be_a_list() {
    let shown = error("checks: smtp.*\n");
    assert!(
        shown.starts_with("error: `checks` must be a list, found `smtp.*`\n --> t.yaml:1:9"),
        "{shown}"
    );
    assert!(
        shown.contains("= help: write `checks: [smtp.*]`"),
        "{shown}"
    );
    let shown = error("checks:\n  smtp.vrfy.disabled: { severity: high }\n");
    assert!(shown.contains(" --> t.yaml:2:3"), "{shown}");
    assert!(shown.contains("start each item with `- `"), "{shown}");
}

#[test]
fn ports() {
    assert_eq!(
        error("ports:\n  smtp: 70000\n  webmail: 143\n  submission: \"587\"\n  smtps: 0\n"),
        "error: port 70000 is out of range
 --> t.yaml:2:9
  |
2 |   smtp: 70000
  |         ^^^^^ not a TCP port
  |
  = note: a port is a number from 1 to 65535

error: unknown port name `webmail`
 --> t.yaml:3:3
  |
3 |   webmail: 143
  |   ^^^^^^^ not a port name
  |
  = note: expected one of: smtp (25), submission (587), smtps (465), imap (143), imaps (993), pop3 (110), pop3s (995)

error: `submission` must be a port number, found the string \"587\"
 --> t.yaml:4:15
  |
4 |   submission: \"587\"
  |               ^^^^^
  |
  = help: remove the quotes: `587`

error: port 0 is out of range
 --> t.yaml:5:10
  |
5 |   smtps: 0
  |          ^ not a TCP port
  |
  = note: a port is a number from 1 to 65535"
    );
    assert!(error("ports: { 25: 2525 }\n").contains("did you mean `smtp`?"));
    assert!(
        error("ports: { smtp: twenty-five }\n")
            .contains("`smtp` must be a port number, found `twenty-five`")
    );
    assert!(error("ports: [25]\n").contains("`ports` must be a mapping, found a list"));
}

#[test]
fn settings() {
    let shown = error(
        "settings:
  relay_domain: not a domain
  helo_name: '[300.1.1.1]'
  known_user: ''
  retry_pause_ms: 600000
  relay: example.org
",
    );
    for expected in [
        "error: `not a domain` is not a domain name\n --> t.yaml:2:17",
        "error: `[300.1.1.1]` is not a fully qualified host name\n --> t.yaml:3:14",
        "error: `known_user` must not be empty\n --> t.yaml:4:15",
        "error: `retry_pause_ms` 600000 is out of range\n --> t.yaml:5:19",
        "error: unknown key `relay`\n --> t.yaml:6:3",
        "= help: did you mean `relay_domain`?",
    ] {
        assert!(shown.contains(expected), "missing {expected:?} in\n{shown}");
    }
    let settings = load_str("t.yaml", "settings: { helo_name: '[IPv6:2001:db8::1]' }\n")
        .unwrap()
        .settings;
    assert_eq!(
        settings.get("helo_name"),
        Some(&crate::settings::Value::Helo(
            "[IPv6:2001:db8::1]".parse().unwrap()
        ))
    );
}

#[test]
fn all_errors_of_a_file_are_reported_together() {
    let error = load_str(
        "t.yaml",
        "name: many
chekcs: []
checks:
  - smtp.vrfy.disable
  - smtp.bannr.fqdn
  - smtp.*: { severity: hihg }
ports: { smtp: 0 }
",
    )
    .unwrap_err();
    let places: Vec<(usize, usize)> = error
        .diagnostics()
        .iter()
        .map(|d| d.location.as_ref().map(|l| (l.line, l.column)).unwrap())
        .collect();
    assert_eq!(places, [(2, 1), (4, 5), (5, 5), (6, 25), (7, 16)]);
    assert!(
        error
            .to_string()
            .contains("did you mean `smtp.banner.fqdn`?")
    );
}

#[test]
fn yaml_problems() {
    assert_eq!(
        error("name: x\nname: y\n"),
        "error: duplicate key `name`
 --> t.yaml:2:1
  |
2 | name: y
  | ^^^^ given again here
  |
  = note: first given on line 1
  = help: keep one of them"
    );
    assert!(error("- smtp.*\n").starts_with("error: a scenario must be a mapping"));
    assert!(error("checks:\n  - *.disabled\n").contains("is a YAML alias: quote it"));
    assert!(
        error("name: a\n---\nname: b\n")
            .contains("a scenario file holds one YAML document\n --> t.yaml:2:1")
    );
    let shown = error("checks:\n  - smtp.vrfy.disabled: { severity: high\nports: {}\n");
    assert!(shown.starts_with("error: invalid YAML: "), "{shown}");
}

#[test]
fn unknown_profile() {
    let shown = builtin("defualt").unwrap_err().to_string();
    assert_eq!(
        shown,
        "error: unknown profile `defualt`\n  = help: did you mean `default`?"
    );
    let shown = error("extends: strict\n");
    assert!(shown.contains(" --> t.yaml:1:10"), "{shown}");
    assert!(
        shown.contains("= note: expected one of: ci, course, default"),
        "{shown}"
    );
}

#[test]
fn every_builtin_profile_loads_and_plans() {
    for name in builtin_names() {
        let scenario = builtin(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            scenario.name, name,
            "scenarios/{name}.yaml must be named {name}"
        );
        assert_eq!(scenario.origin, format!("built-in profile {name}"));
        assert!(scenario.description.is_some(), "{name} has no description");
        let plan = plan(&[scenario], &[], &[]).unwrap();
        assert!(!plan.checks.is_empty(), "{name} selects nothing");
        // Only `intrusive` names opt-in checks (by their exact ids).
        assert!(
            name == "intrusive" || plan.checks.iter().all(|s| !s.check.info().opt_in),
            "{name} selects an opt-in check"
        );
    }
}

#[test]
fn the_intrusive_profile_is_default_plus_every_opt_in_check() {
    let plan = plan(&[builtin("intrusive").unwrap()], &[], &[]).unwrap();
    let mut got: Vec<&str> = selected(&plan).into_iter().map(|(id, _)| id).collect();
    got.sort_unstable();
    let mut expected: Vec<&str> = CATALOG.iter().map(|c| c.info().id).collect();
    expected.sort_unstable();
    assert_eq!(got, expected);
    for id in [
        "smtp.starttls.injection",
        "smtp.smuggling",
        "smtp.rcpt.enumeration",
    ] {
        assert!(crate::check::find(id).unwrap().info().opt_in, "{id}");
    }
}

#[test]
fn the_default_profile_runs_every_check_that_is_not_opt_in() {
    let plan = plan(&[builtin("default").unwrap()], &[], &[]).unwrap();
    let expected: Vec<(&str, Severity)> = CATALOG
        .iter()
        .map(|c| c.info())
        .filter(|info| !info.opt_in)
        .map(|info| (info.id, info.severity))
        .collect();
    assert_eq!(selected(&plan), expected);
}

#[test]
fn expiry_warn_days_is_read_and_bounded() {
    let days = |text: &str| {
        let scenario = load_str("t.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        plan(std::slice::from_ref(&scenario), &[], &[])
            .unwrap()
            .settings
            .tls
            .expiry_warn_days
    };
    assert_eq!(days("settings:\n  expiry_warn_days: 30\n"), 30);
    assert_eq!(days("checks: [tls.cert.expiry]\n"), 14);
    let out_of_range = error("settings:\n  expiry_warn_days: 400\n");
    assert!(
        out_of_range.starts_with("error: `expiry_warn_days` 400 is out of range\n --> t.yaml:2:21"),
        "{out_of_range}"
    );
    let quoted = error("settings:\n  expiry_warn_days: \"14\"\n");
    assert!(quoted.contains("remove the quotes"), "{quoted}");
}

#[test]
fn dns_settings_are_lists_of_names() {
    let settings = |text: &str| {
        let scenario = load_str("t.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        plan(std::slice::from_ref(&scenario), &[], &[])
            .unwrap()
            .settings
    };
    let read = settings(
        "settings:\n  dkim_selectors: [Mail, s2024.eu]\n  dnsbl:\n    - zen.spamhaus.org.\n    - bl.example.test\n",
    );
    assert_eq!(read.dkim_selectors, ["mail", "s2024.eu"]);
    assert_eq!(read.dnsbl, ["zen.spamhaus.org", "bl.example.test"]);
    // Not given: empty, the checks use their defaults (probe list, the course's DNSBLs).
    let default = settings("checks: [dns.*]\n");
    assert!(default.dkim_selectors.is_empty() && default.dnsbl.is_empty());
    let shown = error("settings:\n  dkim_selectors: mail\n  dnsbl: [localhost, 'bad zone']\n");
    for expected in [
        "error: `dkim_selectors` must be a list, found `mail`\n --> t.yaml:2:19",
        "= help: write `dkim_selectors: [mail]`",
        "error: `localhost` is not a DNS zone\n --> t.yaml:3:11",
        "error: the string \"bad zone\" is not a DNS zone\n --> t.yaml:3:22",
    ] {
        assert!(shown.contains(expected), "missing {expected:?} in\n{shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// Custom dialog checks

#[test]
fn a_custom_check_loads_into_its_spec() {
    let scenario = load_str(
        "site.yaml",
        "custom:
  - id: custom.banner
    title: The banner says ESMTP
    port: submission
    tls: starttls
    dialog:
      - expect: { code: 220, text: ESMTP }
      - send: VRFY root
        expect:
          code: 5xx
          enhanced: 5.5.x
          matches: '(?i)disabled'
  - id: custom.imap
    title: IMAP says no
    severity: low
    port: imaps
    dialog:
      - send: LOGIN x y
        expect: { status: no, code: privacyrequired }
",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let [banner, imap] = scenario.custom.as_slice() else {
        panic!("two custom checks");
    };
    let spec = &banner.spec;
    assert_eq!(spec.id, "custom.banner");
    assert_eq!(spec.severity, Severity::Medium);
    assert_eq!(spec.role, Role::Submission);
    assert!(spec.starttls);
    assert_eq!(spec.origin, "site.yaml");
    assert_eq!(spec.steps[0].send, None);
    assert_eq!(spec.steps[0].expect.text.as_deref(), Some("esmtp"));
    assert_eq!(spec.steps[1].send.as_deref(), Some("VRFY root"));
    assert_eq!(
        spec.steps[1].expect.describe(),
        "5xx 5.5.x matching /(?i)disabled/"
    );
    assert_eq!(banner.location.as_ref().map(|at| at.line), Some(2));
    let spec = &imap.spec;
    assert_eq!((spec.role, spec.starttls), (Role::Imaps, false));
    assert_eq!(spec.severity, Severity::Low);
    assert_eq!(
        spec.steps[0].expect.reply,
        crate::check::ReplyPattern::Imap {
            status: crate::probe::imap::Status::No,
            code: Some("PRIVACYREQUIRED".into()),
        }
    );
}

#[test]
fn custom_checks_run_after_the_catalog_and_obey_only_and_skip() {
    let scenario = load_str(
        "site.yaml",
        "checks: [smtp.vrfy.disabled]
custom:
  - { id: custom.a, title: A, port: smtp, dialog: [{ send: NOOP, expect: { code: 250 } }] }
  - { id: custom.b, title: B, severity: high, port: pop3, dialog: [{ send: NOOP, expect: { status: +OK } }] }
",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ids = |only: &[&str], skip: &[&str]| -> Vec<(&'static str, Severity)> {
        let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
        let skip: Vec<String> = skip.iter().map(|s| s.to_string()).collect();
        selected(&plan(std::slice::from_ref(&scenario), &only, &skip).unwrap())
    };
    assert_eq!(
        ids(&[], &[]),
        [
            ("smtp.vrfy.disabled", Severity::Medium),
            ("custom.a", Severity::Medium),
            ("custom.b", Severity::High),
        ]
    );
    assert_eq!(
        ids(&["custom.*"], &["custom.a"]),
        [("custom.b", Severity::High)]
    );
    assert_eq!(
        ids(&["smtp.*"], &[]),
        [("smtp.vrfy.disabled", Severity::Medium)]
    );
    // Without the scenario, `custom.*` matches nothing.
    let error = plan(&[], &["custom.*".to_string()], &[]).err().unwrap();
    assert!(
        error.to_string().contains("`custom.*` matches no check"),
        "{error}"
    );
}

#[test]
fn a_custom_id_under_checks_points_to_custom() {
    let shown = error("checks:\n  - custom.banner\n");
    assert!(shown.contains("unknown check `custom.banner`"), "{shown}");
    assert!(shown.contains("are defined under `custom:`"), "{shown}");
}

#[test]
fn custom_must_be_a_list_of_mappings() {
    let shown = error("custom:\n  id: custom.x\n");
    assert!(
        shown.contains("error: `custom` must be a list, found a mapping\n --> t.yaml:2:3"),
        "{shown}"
    );
    let shown = error("custom:\n  - custom.x\n");
    assert!(
        shown.contains("a custom check must be a mapping of keys such as `id:`"),
        "{shown}"
    );
}

#[test]
fn a_custom_step_sends_one_bounded_line() {
    // A block scalar would send two commands as one step.
    let shown = error(
        "custom:\n  - id: custom.x\n    title: X\n    port: smtp\n    dialog:\n      - send: \"NOOP\\r\\nQUIT\"\n        expect: { code: 250 }\n",
    );
    assert!(shown.contains("`send` must be one line"), "{shown}");
    let long = "x".repeat(600);
    let shown = error(&format!(
        "custom:\n  - id: custom.x\n    title: X\n    port: smtp\n    dialog:\n      - send: HELP {long}\n        expect: {{ code: 214 }}\n"
    ));
    assert!(
        shown.contains("`send` is longer than 510 characters"),
        "{shown}"
    );
}

#[test]
fn expect_names_the_services_of_the_host_and_the_last_scenario_wins() {
    use crate::check::{Service, Services};
    let load_text = |text: &str| load_str("t.yaml", text).expect("loads");
    let all = load_text("expect: [mx, submission, mailbox]\n");
    assert_eq!(
        all.expect,
        Some(Services::of(&[
            Service::Mx,
            Service::Submission,
            Service::Mailbox
        ]))
    );
    // Without `expect:`: [mx]; the course and ci profiles expect all three, default an MX.
    let none = plan(&[load_text("checks: [smtp.*]\n")], &[], &[]).unwrap();
    assert_eq!(none.settings.expect, Services::default());
    assert!(none.settings.expect.mx && !none.settings.expect.submission);
    for (name, submission) in [("course", true), ("ci", true), ("default", false)] {
        let profile = plan(&[builtin(name).unwrap()], &[], &[]).unwrap();
        assert_eq!(profile.settings.expect.submission, submission, "{name}");
        assert_eq!(profile.settings.expect.mailbox, submission, "{name}");
    }
    // A later scenario's `expect:` replaces the profile's.
    let relay = load_text("extends: course\nexpect: [mx]\n");
    let plan = plan(&[relay], &[], &[]).unwrap();
    assert_eq!(plan.settings.expect, Services::of(&[Service::Mx]));
}

#[test]
fn expect_refuses_what_is_not_a_service() {
    let message = error("expect: [mx, submision]\n");
    assert!(
        message.starts_with("error: `submision` is not a service a host can be expected to offer"),
        "{message}"
    );
    assert!(message.contains("did you mean `submission`?"), "{message}");
    assert!(message.contains("t.yaml:1:14"), "{message}");
    let message = error("expect: mx\n");
    assert!(
        message.contains("expect: [mx, submission, mailbox]"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// Bounded input

#[test]
fn an_empty_or_binary_scenario_is_an_error() {
    for text in ["", "\n\n", "# nothing here\n", "---\n", "{}\n", "\u{feff}"] {
        let shown = error(text);
        assert!(
            shown.starts_with("error: scenario `t.yaml` is empty"),
            "{text:?}: {shown}"
        );
        assert!(shown.contains("extends: default"), "{shown}");
    }
    for text in ["\0", "checks: [smtp.*]\n\0"] {
        assert!(error(text).contains("holds a NUL byte"), "{text:?}");
    }
}

#[test]
fn a_long_list_of_problems_is_cut_with_a_count() {
    let mut text = String::from("checks:\n");
    for index in 0..100 {
        text.push_str(&format!("  - smtp.nosuch{index}\n"));
    }
    let failure = load_str("t.yaml", &text).unwrap_err();
    assert_eq!(failure.diagnostics().len(), crate::scenario::MAX_SHOWN);
    assert_eq!(failure.omitted(), 80);
    let shown = failure.to_string();
    assert!(
        shown.ends_with(
            "... and 80 more problems (only the first 20 are shown: fix these and run again)"
        ),
        "{shown}"
    );
    let big = "#".repeat(crate::scenario::MAX_SCENARIO_BYTES + 1);
    assert!(error(&big).contains("is larger than 256 KiB (the limit)"));
}

#[test]
fn a_run_wide_setting_in_a_scenario_points_at_its_flag() {
    let shown = error("settings:\n  timeout: 5\n  trust_anchor: lab.ds\n");
    for expected in [
        "error: `timeout` is not a scenario setting\n --> t.yaml:2:3",
        "= help: give `--timeout` on the command line, or set `MAILCHECK_TIMEOUT`",
        "error: `trust_anchor` is not a scenario setting\n --> t.yaml:3:3",
    ] {
        assert!(shown.contains(expected), "missing {expected:?} in\n{shown}");
    }
}

#[test]
fn a_long_line_is_shown_around_the_problem() {
    let text = format!("checks: [{}smtp.nosuch]\n", "smtp.*, ".repeat(1000));
    let shown = error(&text);
    let column = text.find("smtp.nosuch").unwrap() + 1;
    assert!(shown.contains(&format!("--> t.yaml:1:{column}")), "{shown}");
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines.iter().all(|l| l.chars().count() < 200), "{shown}");
    let source = lines.iter().find(|l| l.starts_with("1 | ")).unwrap();
    let carets = lines.iter().find(|l| l.contains('^')).unwrap();
    assert!(source.starts_with("1 | …"), "{source}");
    let at = |line: &str, what: &str| line[..line.find(what).unwrap()].chars().count();
    assert_eq!(at(source, "smtp.nosuch"), at(carets, "^"), "{shown}");
}
