//! The settings registry: every setting a run takes, declared once, in one ordered list
//! ([`ALL`]), the way ripgrep declares its flags.
//!
//! Each [`Setting`] says its scenario key (if a scenario may set it), its value type
//! ([`Kind`], whose rule lives in [`value`]), its default, its command-line flag, its roster
//! column, its environment variable, and a line of documentation in English and French. What
//! reads settings is driven by this list: the scenario loader (`settings:` keys, hints and
//! values), the roster reader (its option columns), the command line (flag names, help, `env`),
//! `docs/scenario.schema.json` and the README's settings table ([`schema`]), generated from it
//! and kept equal by tests.
//!
//! Adding a setting: one entry here, its field in the run's settings
//! (`check::context::Settings`) and one arm in `Settings::set`; a flag or roster column adds
//! the field there. Then `UPDATE_GENERATED=1 cargo test --lib settings::schema` rewrites the
//! schema and the README table.

pub mod schema;
pub mod value;

use value::{
    Days, DkimSelector, DnsZone, DomainName, FilePath, HeloName, Millis, UserName, ValueError,
};

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// The scenario key (`relay_domain`), also its name in the docs.
    pub key: &'static str,
    pub kind: Kind,
    /// Whether a scenario's `settings:` may set it; the others come from the command line (and
    /// a roster) only, because they belong to the machine the run is on.
    pub in_scenario: bool,
    /// The default, as the docs say it.
    pub default: &'static str,
    pub default_fr: &'static str,
    /// A good value, for hints and the docs.
    pub example: &'static str,
    /// The long flag without dashes (`relay-domain`).
    pub flag: Option<&'static str>,
    /// The roster key and CSV column (`dkim_selector`).
    pub roster: Option<&'static str>,
    /// The environment variable a CI sets once; the flag beats it.
    pub env: Option<&'static str>,
    /// One sentence for `--help`, the schema and the README.
    pub doc: &'static str,
    pub doc_fr: &'static str,
}

/// The type of a setting's value, and so its rule, its schema and how a file writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`DomainName`].
    Domain,
    /// [`HeloName`].
    Helo,
    /// [`UserName`].
    User,
    /// [`Millis`], an integer.
    Millis,
    /// [`Days`], an integer.
    Days,
    /// A list of [`DkimSelector`].
    Selectors,
    /// A list of [`DnsZone`].
    Zones,
    /// [`FilePath`].
    File,
    /// Seconds, more than 0, at most 600 ([`value::Seconds`]).
    Seconds,
    /// DNS servers, `IP` or `IP:PORT` ([`value::resolver`]); repeatable.
    Resolvers,
    /// Local addresses; repeatable.
    Addresses,
    /// The name of a built-in profile.
    Profile,
}

/// A value read for a setting, in its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Domain(DomainName),
    Helo(HeloName),
    User(UserName),
    Millis(Millis),
    Days(Days),
    Selectors(Vec<DkimSelector>),
    Zones(Vec<DnsZone>),
    File(FilePath),
}

impl Kind {
    /// What a value is, with its article: `a domain name`, `a list of DNS zones`.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Domain => "a domain name",
            Kind::Helo => "a host name",
            Kind::User => "a user name",
            Kind::Millis => Millis::expected(),
            Kind::Days => Days::expected(),
            Kind::Selectors => "a list of DKIM selectors",
            Kind::Zones => "a list of DNS zones",
            Kind::File => "a file",
            Kind::Seconds => "a number of seconds",
            Kind::Resolvers => "DNS servers (IP or IP:PORT)",
            Kind::Addresses => "IP addresses",
            Kind::Profile => "a built-in profile name",
        }
    }

    /// What one item of a list is: `a DKIM selector`.
    pub fn item(self) -> &'static str {
        match self {
            Kind::Selectors => "a DKIM selector",
            Kind::Zones => "a DNS zone",
            other => other.expected(),
        }
    }

    pub fn is_list(self) -> bool {
        matches!(
            self,
            Kind::Selectors | Kind::Zones | Kind::Resolvers | Kind::Addresses
        )
    }

    /// Written as a YAML integer (`2000`, not `"2000"`).
    pub fn is_integer(self) -> bool {
        matches!(self, Kind::Millis | Kind::Days)
    }

    /// Reads one scalar value (of a kind that is not a list).
    pub fn parse(self, text: &str) -> Result<Value, ValueError> {
        Ok(match self {
            Kind::Domain => Value::Domain(text.parse()?),
            Kind::Helo => Value::Helo(text.parse()?),
            Kind::User => Value::User(text.parse()?),
            Kind::Millis => Value::Millis(text.parse()?),
            Kind::Days => Value::Days(text.parse()?),
            Kind::File => Value::File(text.parse()?),
            Kind::Selectors => Value::Selectors(vec![text.parse()?]),
            Kind::Zones => Value::Zones(vec![text.parse()?]),
            Kind::Seconds | Kind::Resolvers | Kind::Addresses | Kind::Profile => {
                unreachable!("{self:?} is read by the command line only")
            }
        })
    }

    /// Reads the items of a list; each item's problem with its index.
    pub fn parse_list<'a>(
        self,
        items: impl IntoIterator<Item = &'a str>,
    ) -> Result<Value, Vec<(usize, ValueError)>> {
        let mut problems = Vec::new();
        let value = match self {
            Kind::Selectors => Value::Selectors(collect(items, &mut problems)),
            Kind::Zones => Value::Zones(collect(items, &mut problems)),
            other => unreachable!("{other:?} is not a list a file can hold"),
        };
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(problems)
        }
    }
}

fn collect<'a, T: std::str::FromStr<Err = ValueError>>(
    items: impl IntoIterator<Item = &'a str>,
    problems: &mut Vec<(usize, ValueError)>,
) -> Vec<T> {
    let mut values = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match item.parse() {
            Ok(value) => values.push(value),
            Err(error) => problems.push((index, error)),
        }
    }
    values
}

impl Setting {
    /// The flag's long name, for clap's `long = ...` (only called on settings that have one).
    pub const fn long(&self) -> &'static str {
        match self.flag {
            Some(flag) => flag,
            None => panic!("this setting has no flag"),
        }
    }

    /// The short help of its flag: the doc line, without its final period (as clap writes
    /// the others).
    pub fn help(&self) -> &'static str {
        self.doc.strip_suffix('.').unwrap_or(self.doc)
    }

    /// The long help of its flag (`--help`): the doc line, the default, and what it overrides.
    pub fn long_help(&self) -> String {
        let mut text = format!("{} Default: {}.", self.doc, self.default);
        if self.in_scenario {
            text.push_str(&format!(" Wins over the scenario's `{}`.", self.key));
        }
        text
    }

    /// The environment variable's name, for clap's `env = ...`.
    pub const fn env_var(&self) -> &'static str {
        match self.env {
            Some(env) => env,
            None => panic!("this setting has no environment variable"),
        }
    }
}

pub const RELAY_DOMAIN: Setting = Setting {
    key: "relay_domain",
    kind: Kind::Domain,
    in_scenario: true,
    default: "none: `smtp.relay.refused` is skipped",
    default_fr: "aucun : `smtp.relay.refused` est sauté",
    example: "example.org",
    flag: Some("relay-domain"),
    roster: Some("relay_domain"),
    env: None,
    doc: "Outside domain of the open-relay probes; it must have a real MX.",
    doc_fr: "Domaine extérieur des sondes de relais ouvert ; il doit avoir un vrai MX.",
};

pub const HELO_NAME: Setting = Setting {
    key: "helo_name",
    kind: Kind::Helo,
    in_scenario: true,
    default: "the address literal of the checker's end, e.g. `[192.0.2.7]`",
    default_fr: "le littéral d'adresse de notre côté, p. ex. `[192.0.2.7]`",
    example: "probe.example.net",
    flag: Some("helo-name"),
    roster: None,
    env: Some("MAILCHECK_HELO_NAME"),
    doc: "Name the probes say in HELO/EHLO: a fully qualified host name or an address literal.",
    doc_fr: "Nom que les sondes annoncent en HELO/EHLO : un nom d'hôte complet ou un littéral d'adresse.",
};

pub const KNOWN_USER: Setting = Setting {
    key: "known_user",
    kind: Kind::User,
    in_scenario: true,
    default: "`postmaster`",
    default_fr: "`postmaster`",
    example: "postmaster",
    flag: None,
    roster: None,
    env: None,
    doc: "A mailbox every server has, compared with a random one by the VRFY/EXPN checks.",
    doc_fr: "Une boîte que tout serveur a, comparée à une boîte au hasard par les tests VRFY/EXPN.",
};

pub const UNKNOWN_DOMAIN: Setting = Setting {
    key: "unknown_domain",
    kind: Kind::Domain,
    in_scenario: true,
    default: "a random name under `.invalid`",
    default_fr: "un nom au hasard sous `.invalid`",
    example: "nonexistent.invalid",
    flag: None,
    roster: None,
    env: None,
    doc: "A sender domain that does not exist, which smtp.sender.unknown-domain-rejected expects refused.",
    doc_fr: "Un domaine d'expéditeur qui n'existe pas, que smtp.sender.unknown-domain-rejected attend refusé.",
};

pub const RETRY_PAUSE_MS: Setting = Setting {
    key: "retry_pause_ms",
    kind: Kind::Millis,
    in_scenario: true,
    default: "2000",
    default_fr: "2000",
    example: "2000",
    flag: None,
    roster: None,
    env: None,
    doc: "Pause before the one polite retry after a temporary refusal, in milliseconds.",
    doc_fr: "Pause avant l'unique nouvel essai poli après un refus temporaire, en millisecondes.",
};

pub const EXPIRY_WARN_DAYS: Setting = Setting {
    key: "expiry_warn_days",
    kind: Kind::Days,
    in_scenario: true,
    default: "14",
    default_fr: "14",
    example: "30",
    flag: None,
    roster: None,
    env: None,
    doc: "tls.cert.expiry warns when a certificate expires in fewer days than this.",
    doc_fr: "tls.cert.expiry avertit quand un certificat expire dans moins de jours que cela.",
};

pub const DKIM_SELECTORS: Setting = Setting {
    key: "dkim_selectors",
    kind: Kind::Selectors,
    in_scenario: true,
    default: "a probe list of common selectors (`mail`, `default`, `dkim`, `selector1`, ...)",
    default_fr: "une liste de sélecteurs courants (`mail`, `default`, `dkim`, `selector1`, ...)",
    example: "mail",
    flag: Some("dkim-selector"),
    roster: Some("dkim_selector"),
    env: None,
    doc: "DKIM selectors dns.dkim looks up at `<selector>._domainkey.<domain>`.",
    doc_fr: "Sélecteurs DKIM que dns.dkim cherche en `<sélecteur>._domainkey.<domaine>`.",
};

pub const DNSBL: Setting = Setting {
    key: "dnsbl",
    kind: Kind::Zones,
    in_scenario: true,
    default: "`zen.spamhaus.org` and `b.barracudacentral.org`",
    default_fr: "`zen.spamhaus.org` et `b.barracudacentral.org`",
    example: "zen.spamhaus.org",
    flag: Some("dnsbl"),
    roster: None,
    env: None,
    doc: "DNS blocklist zones dns.rbl looks the host's addresses up in.",
    doc_fr: "Zones de listes de blocage DNS où dns.rbl cherche les adresses de l'hôte.",
};

pub const CA_FILE: Setting = Setting {
    key: "ca_file",
    kind: Kind::File,
    in_scenario: false,
    default: "none: the webpki (Mozilla) roots only",
    default_fr: "aucun : les racines webpki (Mozilla) seules",
    example: "lab/ca.pem",
    flag: Some("ca-file"),
    roster: Some("ca_file"),
    env: Some("MAILCHECK_CA_FILE"),
    doc: "Extra trust anchors (PEM) for the certificate checks.",
    doc_fr: "Ancres de confiance en plus (PEM) pour les tests de certificats.",
};

pub const TRUST_ANCHOR: Setting = Setting {
    key: "trust_anchor",
    kind: Kind::File,
    in_scenario: false,
    default: "the IANA root key",
    default_fr: "la clé racine de l'IANA",
    example: "lab/root.key",
    flag: Some("trust-anchor"),
    roster: None,
    env: Some("MAILCHECK_TRUST_ANCHOR"),
    doc: "DNSSEC trust anchors (DS or DNSKEY records, zone-file syntax) instead of the IANA root key.",
    doc_fr: "Ancres de confiance DNSSEC (enregistrements DS ou DNSKEY, syntaxe de zone) au lieu de la clé racine de l'IANA.",
};

pub const RESOLVER: Setting = Setting {
    key: "resolver",
    kind: Kind::Resolvers,
    in_scenario: false,
    default: "the system's resolvers",
    default_fr: "les résolveurs du système",
    example: "127.0.100.53",
    flag: Some("resolver"),
    roster: None,
    env: Some("MAILCHECK_RESOLVER"),
    doc: "DNS server to ask instead of the system's, IP or IP:PORT (repeatable; the variable takes a comma-separated list).",
    doc_fr: "Serveur DNS à interroger au lieu de ceux du système, IP ou IP:PORT (répétable ; la variable prend une liste séparée par des virgules).",
};

pub const TIMEOUT: Setting = Setting {
    key: "timeout",
    kind: Kind::Seconds,
    in_scenario: false,
    default: "10",
    default_fr: "10",
    example: "5",
    flag: Some("timeout"),
    roster: None,
    env: Some("MAILCHECK_TIMEOUT"),
    doc: "Seconds allowed for each network operation.",
    doc_fr: "Secondes accordées à chaque opération réseau.",
};

pub const BIND: Setting = Setting {
    key: "bind",
    kind: Kind::Addresses,
    in_scenario: false,
    default: "the system's choice",
    default_fr: "le choix du système",
    example: "127.0.100.2",
    flag: Some("bind"),
    roster: None,
    env: Some("MAILCHECK_BIND"),
    doc: "Local address to connect from; give it twice, once per address family, for IPv4 and IPv6 peers: each connection uses the one of its peer's family (the variable takes a comma-separated list).",
    doc_fr: "Adresse locale d'où se connecter ; la donner deux fois, une par famille d'adresses, pour des pairs IPv4 et IPv6 : chaque connexion prend celle de la famille de son pair (la variable prend une liste séparée par des virgules).",
};

pub const PROFILE: Setting = Setting {
    key: "profile",
    kind: Kind::Profile,
    in_scenario: false,
    default: "`default` when no `-s FILE` is given",
    default_fr: "`default` quand aucun `-s FICHIER` n'est donné",
    example: "ci",
    flag: Some("profile"),
    roster: Some("profile"),
    env: Some("MAILCHECK_PROFILE"),
    doc: "A built-in scenario: `default` (what runs without one), `course` (the Postfix course's grading), `ci` (default, and a test mailbox is required), `intrusive` (default plus the opt-in probes); `mailcheck list --profile NAME` shows its checks.",
    doc_fr: "Un scénario intégré : `default` (ce qui tourne sans scénario), `course` (la notation du cours Postfix), `ci` (default, et une boîte de test est exigée), `intrusive` (default et les sondes intrusives) ; `mailcheck list --profile NOM` montre ses contrôles.",
};

/// Every setting, in the order the docs list them: the scenario's settings first.
pub const ALL: &[&Setting] = &[
    &RELAY_DOMAIN,
    &HELO_NAME,
    &KNOWN_USER,
    &UNKNOWN_DOMAIN,
    &RETRY_PAUSE_MS,
    &EXPIRY_WARN_DAYS,
    &DKIM_SELECTORS,
    &DNSBL,
    &CA_FILE,
    &TRUST_ANCHOR,
    &RESOLVER,
    &TIMEOUT,
    &BIND,
    &PROFILE,
];

/// The settings a scenario's `settings:` takes, in order.
pub fn in_scenario() -> impl Iterator<Item = &'static Setting> {
    ALL.iter().copied().filter(|s| s.in_scenario)
}

/// The keys of [`in_scenario`].
pub fn scenario_keys() -> Vec<&'static str> {
    in_scenario().map(|s| s.key).collect()
}

/// The scenario setting named `key`.
pub fn scenario_setting(key: &str) -> Option<&'static Setting> {
    in_scenario().find(|s| s.key == key)
}

/// The settings a roster may set, in order.
pub fn in_roster() -> impl Iterator<Item = &'static Setting> {
    ALL.iter().copied().filter(|s| s.roster.is_some())
}

/// The setting whose roster column is `column`.
pub fn roster_setting(column: &str) -> Option<&'static Setting> {
    in_roster().find(|s| s.roster == Some(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_flags_columns_and_variables_are_unique_and_well_formed() {
        let (mut seen, mut flags) = (
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
        );
        for setting in ALL {
            assert!(seen.insert(setting.key), "{} twice", setting.key);
            assert!(
                setting
                    .key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                setting.key
            );
            if let Some(flag) = setting.flag {
                assert!(flags.insert(flag), "flag {flag} twice");
                assert!(!flag.starts_with('-') && !flag.contains('_'), "{flag}");
            }
            if let Some(env) = setting.env {
                assert!(env.starts_with("MAILCHECK_"), "{env}");
                assert!(seen.insert(env), "{env} twice");
            }
            for text in [
                setting.doc,
                setting.doc_fr,
                setting.default,
                setting.default_fr,
            ] {
                assert!(!text.is_empty(), "{}", setting.key);
            }
            assert!(setting.doc.ends_with('.') && setting.doc_fr.ends_with('.'));
            assert!(
                setting.in_scenario || setting.flag.is_some(),
                "nothing can set `{}`",
                setting.key
            );
            assert_ne!(
                setting.doc, setting.doc_fr,
                "{} has no French text",
                setting.key
            );
        }
    }

    #[test]
    fn every_example_is_a_good_value() {
        for setting in in_scenario().chain(in_roster()) {
            if setting.kind == Kind::Profile {
                continue;
            }
            let read = if setting.kind.is_list() {
                setting
                    .kind
                    .parse_list([setting.example])
                    .map_err(|e| e[0].1.clone())
            } else {
                setting.kind.parse(setting.example)
            };
            assert!(read.is_ok(), "{}: {read:?}", setting.key);
        }
    }

    #[test]
    fn lists_report_each_bad_item() {
        let problems = Kind::Zones
            .parse_list(["zen.spamhaus.org", "localhost", "bad zone"])
            .unwrap_err();
        let indexes: Vec<usize> = problems.iter().map(|(i, _)| *i).collect();
        assert_eq!(indexes, [1, 2]);
        assert_eq!(
            Kind::Selectors.parse_list(["Mail.", "s1"]),
            Ok(Value::Selectors(vec![
                "mail".parse().unwrap(),
                "s1".parse().unwrap()
            ]))
        );
    }
}
