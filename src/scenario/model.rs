//! The scenario as loaded and checked: what a file asks for, before it is combined with other
//! scenarios and the command line into a [`Plan`].

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::Location;
use crate::check::{Check, CustomSpec, Role, Settings};
use crate::outcome::Severity;

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

/// `settings:` as given; `None` leaves the value of an earlier scenario or the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    /// Outside domain of the open-relay probes (`--relay-domain` wins over it).
    pub relay_domain: Option<String>,
    pub helo_name: Option<String>,
    pub known_user: Option<String>,
    pub unknown_domain: Option<String>,
    /// `retry_pause_ms:`.
    pub retry_pause: Option<Duration>,
    /// `expiry_warn_days:` — tls.cert.expiry warns under this many days left.
    pub expiry_warn_days: Option<u32>,
    /// `dkim_selectors:` — selectors for dns.dkim (`--dkim-selector` wins over it).
    pub dkim_selectors: Option<Vec<String>>,
    /// `dnsbl:` — zones for dns.rbl (`--dnsbl` wins over it).
    pub dnsbl: Option<Vec<String>>,
}

impl SettingsPatch {
    pub fn apply_to(&self, settings: &mut Settings) {
        if let Some(domain) = &self.relay_domain {
            settings.relay_domain = Some(domain.clone());
        }
        if let Some(name) = &self.helo_name {
            settings.smtp.helo_name = Some(name.clone());
        }
        if let Some(user) = &self.known_user {
            settings.smtp.known_user = user.clone();
        }
        if let Some(domain) = &self.unknown_domain {
            settings.smtp.unknown_domain = domain.clone();
        }
        if let Some(pause) = self.retry_pause {
            settings.smtp.retry_pause = pause;
        }
        if let Some(days) = self.expiry_warn_days {
            settings.tls.expiry_warn_days = days;
        }
        if let Some(selectors) = &self.dkim_selectors {
            settings.dkim_selectors = selectors.clone();
        }
        if let Some(zones) = &self.dnsbl {
            settings.dnsbl = zones.clone();
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
