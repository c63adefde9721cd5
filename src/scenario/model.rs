//! The scenario as loaded and checked: what a file asks for, before it is combined with other
//! scenarios and the command line into a [`Plan`].

use std::collections::BTreeMap;

use super::error::Location;
use crate::check::{Check, CustomSpec, Role, Settings};
use crate::outcome::Severity;
use crate::settings::Value;

/// One scenario file (or built-in profile), validated against the check catalog.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `name:`, or the file's stem when the file has none.
    pub name: String,
    pub description: Option<String>,
    /// The file path as given, or `built-in profile NAME`.
    pub origin: String,
    /// The built-in profile named by `extends:`, loaded; applied before this scenario.
    pub extends: Option<Box<Scenario>>,
    /// `checks:`, in file order; later rules override earlier ones.
    pub checks: Vec<CheckRule>,
    /// `ports:` as given; roles not named keep their default (or an earlier scenario's) port.
    pub ports: BTreeMap<Role, u16>,
    pub settings: SettingsPatch,
    /// `custom:`, the scenario's own dialog checks, in file order.
    pub custom: Vec<CustomDefinition>,
    /// `expect:`, the services the host must offer (`[mx, submission, mailbox]`); `None`
    /// keeps an earlier scenario's (or `[mx]`).
    pub expect: Option<crate::check::Services>,
}

/// One item of `custom:`: the check it defines, and where its id is written (to point at the
/// second of two scenarios that define the same id).
#[derive(Clone, Debug)]
pub struct CustomDefinition {
    pub spec: CustomSpec,
    pub location: Option<Location>,
}

/// One item of `checks:`: which checks, and what to do with them.
#[derive(Clone, Debug)]
pub struct CheckRule {
    pub selector: Selector,
    /// `severity:` — replaces the catalog's severity of every matched check.
    pub severity: Option<Severity>,
    /// `enabled:` (default `true`): `false` removes the matched checks from the run.
    pub enabled: bool,
}

/// A check id (`smtp.vrfy.disabled`) or a glob over ids (`smtp.*`, `smtp.auth.?*`).
///
/// Only `*` and `?` are wildcards: ids are lowercase letters, digits, `.` and `-`, so nothing
/// else needs one, and a smaller language gives better error messages. `*` matches any run of
/// characters (dots included), `?` exactly one; globset does the matching.
#[derive(Clone, Debug)]
pub struct Selector {
    text: String,
    matcher: globset::GlobMatcher,
}

impl PartialEq for Selector {
    fn eq(&self, other: &Selector) -> bool {
        self.text == other.text
    }
}

impl Eq for Selector {}

impl Selector {
    /// `None` when `text` holds characters that no id or glob can hold.
    pub fn parse(text: &str) -> Option<Selector> {
        let allowed = |c: char| matches!(c, 'a'..='z' | '0'..='9' | '.' | '-' | '*' | '?');
        if text.is_empty() || !text.chars().all(allowed) {
            return None;
        }
        // `**` means what `*` means here (ids have no path separators); globset would read it
        // as a recursive directory wildcard, so runs of stars become one.
        let mut pattern = String::with_capacity(text.len());
        for c in text.chars() {
            if !(c == '*' && pattern.ends_with('*')) {
                pattern.push(c);
            }
        }
        let matcher = globset::GlobBuilder::new(&pattern)
            .literal_separator(false)
            .backslash_escape(false)
            .build()
            .ok()?
            .compile_matcher();
        Some(Selector {
            text: text.to_string(),
            matcher,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_glob(&self) -> bool {
        self.text.contains(['*', '?'])
    }

    pub fn matches(&self, id: &str) -> bool {
        self.matcher.is_match(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let matches = |pattern: &str, id: &str| Selector::parse(pattern).unwrap().matches(id);
        assert!(matches("smtp.*", "smtp.vrfy.disabled"));
        assert!(matches("*", "smtp.vrfy.disabled"));
        assert!(matches("**", "dns.a"));
        assert!(matches("smtp.*.disabled", "smtp.vrfy.disabled"));
        assert!(matches("smtp.?xpn.*", "smtp.expn.disabled"));
        assert!(matches("smtp.vrfy.disabled", "smtp.vrfy.disabled"));
        assert!(!matches("smtp.vrfy", "smtp.vrfy.disabled"));
        assert!(!matches("smtp.*", "tls.cert.key"));
        assert!(!matches("smtp.*.disabled", "smtp.vrfy.disabled.not"));
        assert!(!matches("?", ""));
    }

    #[test]
    fn selector_syntax() {
        assert!(Selector::parse("smtp.auth.tls-only").is_some_and(|s| !s.is_glob()));
        assert!(Selector::parse("smtp.*").is_some_and(|s| s.is_glob()));
        for bad in [
            "",
            "SMTP.*",
            "smtp vrfy",
            "smtp.[a-z]",
            "smtp.{a,b}",
            "smtp_vrfy",
        ] {
            assert!(Selector::parse(bad).is_none(), "{bad}");
        }
    }
}

/// `settings:` as given, each value in its type (see [`crate::settings`]); a setting not given
/// keeps the value of an earlier scenario or its default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    /// `(key, value)` in file order, each key once.
    values: Vec<(&'static str, Value)>,
}

impl SettingsPatch {
    /// Sets `key` (a key of [`crate::settings::ALL`]), replacing an earlier value.
    pub fn set(&mut self, key: &'static str, value: Value) {
        self.values.retain(|(known, _)| *known != key);
        self.values.push((key, value));
    }

    /// The value given for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(known, _)| *known == key)
            .map(|(_, value)| value)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn apply_to(&self, settings: &mut Settings) {
        for (key, value) in &self.values {
            let applied = settings.set(key, value);
            debug_assert!(applied, "the run's settings take `{key}`");
        }
    }
}

/// A check chosen for the run, with the scenario's severity for it.
#[derive(Clone, Copy)]
pub struct SelectedCheck {
    pub check: &'static dyn Check,
    pub severity: Severity,
}

/// What a run does: the scenarios and `--only`/`--skip` combined.
pub struct Plan {
    /// The selected checks in catalog order, each with its effective severity.
    pub checks: Vec<SelectedCheck>,
    /// A port for every role.
    pub ports: BTreeMap<Role, u16>,
    /// `--relay-domain` is not applied here: the command line sets it afterwards.
    pub settings: Settings,
}
