//! The value types of settings, one rule each, shared by every reader: the scenario loader, the
//! roster reader and the command line (clap's `value_parser`). Each parses with [`FromStr`] into
//! its canonical form (`Example.ORG.` → `example.org`) or a [`ValueError`] that says what is
//! wrong and what a good value looks like; each reader puts that error in its own frame (a
//! located diagnostic, a CSV cell, a clap usage error).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

/// Longest DNS name, in characters of its text form without the final dot (RFC 1035 §2.3.4).
pub const MAX_NAME: usize = 253;
/// Longest DNS label (RFC 1035 §2.3.4).
pub const MAX_LABEL: usize = 63;

/// Why a value was refused. Rendered by [`ValueError::message`] with the key or flag it was
/// given for, so every reader words it the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// The value as given (trimmed).
    pub value: String,
    pub flaw: Flaw,
    /// What was expected, with its article: `a domain name`.
    pub expected: &'static str,
    /// What a good value looks like, as a sentence.
    pub rule: String,
}

/// What is wrong with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    /// Not of the expected form at all.
    Invalid,
    /// A number outside its range.
    OutOfRange,
    Empty,
    /// Spaces or control characters in a value that allows none.
    Spaces,
}

impl ValueError {
    fn new(value: &str, flaw: Flaw, expected: &'static str, rule: impl Into<String>) -> Self {
        ValueError {
            value: value.to_string(),
            flaw,
            expected,
            rule: rule.into(),
        }
    }

    /// The one-line message, `key` being the scenario key or flag the value was given for:
    /// "`example org` is not a domain name", "`retry_pause_ms` 600000 is out of range".
    pub fn message(&self, key: &str) -> String {
        let value = &self.value;
        let expected = self.expected;
        match self.flaw {
            Flaw::Invalid => format!("`{value}` is not {expected}"),
            Flaw::OutOfRange => format!("`{key}` {value} is out of range"),
            Flaw::Empty => format!("`{key}` must not be empty"),
            Flaw::Spaces => format!("`{key}` must be {expected} without spaces"),
        }
    }

    /// The few words under the carets: `not a domain name`.
    pub fn label(&self) -> Option<String> {
        (self.flaw == Flaw::Invalid).then(|| format!("not {}", self.expected))
    }
}

impl fmt::Display for ValueError {
    /// For clap: the message and the rule on one line (clap adds the flag's name).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.flaw {
            Flaw::Invalid => write!(
                f,
                "`{}` is not {}: {}",
                self.value, self.expected, self.rule
            ),
            _ => write!(f, "{}", self.rule),
        }
    }
}

impl std::error::Error for ValueError {}

/// Parses with `T`'s rule and gives back its canonical text: the `value_parser` of flags whose
/// field stays a `String` (`--relay-domain`, `--dkim-selector`, `--dnsbl`).
pub fn canonical<T: FromStr<Err = ValueError> + fmt::Display>(
    text: &str,
) -> Result<String, String> {
    text.parse::<T>()
        .map(|value| value.to_string())
        .map_err(|e| e.to_string())
}

/// One label of letters, digits, `-` and `_` (underscores as in DKIM and SRV names).
fn label_ok(label: &str) -> bool {
    (1..=MAX_LABEL).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Lowercase, without surrounding spaces and final dots.
fn normalize(text: &str) -> String {
    text.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// A fully qualified domain name: two labels or more, each 1 to 63 letters, digits, `-` (not
/// at either end) or `_`, 253 characters at most; lowercased, without the final dot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

const DOMAIN_RULE: &str = "a domain name is two or more labels of letters, digits and `-` joined by dots, e.g. `example.org`";

impl DomainName {
    /// Host-name syntax with at least two labels: every name the checks use must be fully
    /// qualified (a bare `probe` HELO is refused by hardened servers; a relay domain needs a
    /// real MX).
    pub fn is_valid(name: &str) -> bool {
        name.contains('.')
            && name.len() <= MAX_NAME
            && name
                .split('.')
                .all(|label| label_ok(label) && !label.starts_with('-') && !label.ends_with('-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DomainName {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let name = normalize(text);
        if DomainName::is_valid(&name) {
            Ok(DomainName(name))
        } else {
            Err(ValueError::new(
                text.trim(),
                Flaw::Invalid,
                "a domain name",
                DOMAIN_RULE,
            ))
        }
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A DNS zone to look names up under (a DNS blocklist): a [`DomainName`] by another name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnsZone(DomainName);

impl FromStr for DnsZone {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        text.parse().map(DnsZone).map_err(|_| {
            ValueError::new(
                text.trim(),
                Flaw::Invalid,
                "a DNS zone",
                "a DNS zone is made of letters, digits, `-` and `_` between dots, e.g. `zen.spamhaus.org`",
            )
        })
    }
}

impl fmt::Display for DnsZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// DNS labels that need not be fully qualified, such as a DKIM selector (`mail`, `s1.eu`):
/// each label 1 to 63 letters, digits, `-` or `_`, 253 characters at most; lowercased, without
/// the final dot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DkimSelector(String);

impl FromStr for DkimSelector {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let name = normalize(text);
        if name.len() <= MAX_NAME && name.split('.').all(label_ok) {
            Ok(DkimSelector(name))
        } else {
            Err(ValueError::new(
                text.trim(),
                Flaw::Invalid,
                "a DKIM selector",
                "a DKIM selector is made of letters, digits, `-` and `_` between dots, e.g. `mail` (the `-s` of `opendkim-genkey`)",
            ))
        }
    }
}

impl fmt::Display for DkimSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What to say after HELO/EHLO: a fully qualified [`DomainName`] or an address literal
/// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeloName(String);

impl FromStr for HeloName {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let name = text.trim();
        let literal = name
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'));
        let valid = match literal {
            Some(address) => {
                let address = address.strip_prefix("IPv6:").unwrap_or(address);
                address.parse::<IpAddr>().is_ok().then(|| name.to_string())
            }
            None => name.parse::<DomainName>().ok().map(|d| d.0),
        };
        valid.map(HeloName).ok_or_else(|| {
            ValueError::new(
                name,
                Flaw::Invalid,
                "a fully qualified host name",
                "write a fully qualified host name (`probe.example.net`) or an address literal (`[192.0.2.1]`)",
            )
        })
    }
}

impl fmt::Display for HeloName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mailbox's local part or login, as a server compares it: no spaces, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserName(String);

impl FromStr for UserName {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let word = text.trim();
        let expected = "a user name";
        let rule = "a user name is one word, e.g. `postmaster`";
        if word.is_empty() {
            return Err(ValueError::new(word, Flaw::Empty, expected, rule));
        }
        if word.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValueError::new(word, Flaw::Spaces, expected, rule));
        }
        Ok(UserName(word.to_string()))
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file path: not empty, no control characters (a path with spaces is a path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePath(PathBuf);

impl FilePath {
    pub fn into_path(self) -> PathBuf {
        self.0
    }
}

impl FromStr for FilePath {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let path = text.trim();
        let rule = "a file path, e.g. `lab/ca.pem`";
        if path.is_empty() {
            return Err(ValueError::new(path, Flaw::Empty, "a file", rule));
        }
        if path.chars().any(char::is_control) {
            return Err(ValueError::new(path, Flaw::Invalid, "a file path", rule));
        }
        Ok(FilePath(PathBuf::from(path)))
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

/// A whole number from 0 to `MAX`, in a unit (`milliseconds`, `days`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bounded<const MAX: u64, const UNIT: char>(u64);

/// Milliseconds, 0 to 60 000 (longer pauses only make a run slow).
pub type Millis = Bounded<60_000, 'm'>;
/// Days, 0 to 365 (certificates live 397 days at most).
pub type Days = Bounded<365, 'd'>;

impl<const MAX: u64, const UNIT: char> Bounded<MAX, UNIT> {
    pub const MAX: u64 = MAX;

    pub fn get(self) -> u64 {
        self.0
    }

    /// `milliseconds`, `days`.
    pub fn unit() -> &'static str {
        match UNIT {
            'm' => "milliseconds",
            'd' => "days",
            _ => "units",
        }
    }

    /// `a number of milliseconds`.
    pub fn expected() -> &'static str {
        match UNIT {
            'm' => "a number of milliseconds",
            'd' => "a number of days",
            _ => "a number",
        }
    }

    /// From a number already read (the YAML loader reads integers itself, to tell `"14"` and
    /// `2s` apart with their own hints).
    pub fn from_number(number: i128) -> Result<Self, ValueError> {
        match u64::try_from(number) {
            Ok(n) if n <= MAX => Ok(Bounded(n)),
            _ => Err(ValueError::new(
                &number.to_string(),
                Flaw::OutOfRange,
                Self::expected(),
                format!("{} from 0 to {MAX}", Self::expected()),
            )),
        }
    }
}

impl<const MAX: u64, const UNIT: char> FromStr for Bounded<MAX, UNIT> {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        match text.parse::<i128>() {
            Ok(number) => Self::from_number(number),
            Err(_) => Err(ValueError::new(
                text,
                Flaw::Invalid,
                Self::expected(),
                format!("{} from 0 to {MAX}", Self::expected()),
            )),
        }
    }
}

impl<const MAX: u64, const UNIT: char> fmt::Display for Bounded<MAX, UNIT> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A TCP port, 1 to 65535 (`ports:` of a scenario).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port(u16);

impl Port {
    pub fn get(self) -> u16 {
        self.0
    }

    /// From a number already read as a YAML integer.
    pub fn from_number(number: i128) -> Result<Port, ValueError> {
        match u16::try_from(number) {
            Ok(port) if port > 0 => Ok(Port(port)),
            _ => Err(ValueError::new(
                &number.to_string(),
                Flaw::OutOfRange,
                "a port number",
                "a port is a number from 1 to 65535",
            )),
        }
    }
}

impl FromStr for Port {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        match text.parse::<i128>() {
            Ok(number) => Port::from_number(number),
            Err(_) => Err(ValueError::new(
                text,
                Flaw::Invalid,
                "a port number",
                "a port is a number from 1 to 65535",
            )),
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Seconds for each network operation: more than 0, at most 600.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Seconds(f64);

impl Seconds {
    pub const MAX: f64 = 600.0;

    pub fn get(self) -> f64 {
        self.0
    }
}

impl FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs <= Seconds::MAX => Ok(Seconds(secs)),
            _ => Err(format!(
                "{text:?} is not a number of seconds between 0 and 600"
            )),
        }
    }
}

/// A DNS server: `IP` (port 53) or `IP:PORT`, IPv6 in brackets with a port (`[::1]:5353`).
pub fn resolver(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!("{text:?} is not an IP address or IP:PORT (e.g. 127.0.0.1 or [::1]:5353)")
        })
}

/// `--timeout`'s parser: seconds as clap wants them (`f64`).
pub fn timeout(text: &str) -> Result<f64, String> {
    text.parse::<Seconds>().map(Seconds::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T: FromStr<Err = ValueError> + fmt::Display>(text: &str) -> String {
        text.parse::<T>()
            .unwrap_or_else(|e| panic!("{text:?}: {}", e.message("k")))
            .to_string()
    }

    fn bad<T: FromStr<Err = ValueError> + fmt::Debug>(text: &str) -> ValueError {
        text.parse::<T>().expect_err(text)
    }

    #[test]
    fn domain_names_are_canonical_and_bounded() {
        assert_eq!(ok::<DomainName>("Example.ORG."), "example.org");
        assert_eq!(ok::<DomainName>(" mail.example.org "), "mail.example.org");
        assert_eq!(ok::<DomainName>("_dmarc.example.org"), "_dmarc.example.org");
        let label63 = "a".repeat(63);
        assert_eq!(
            ok::<DomainName>(&format!("{label63}.org")),
            format!("{label63}.org")
        );
        for text in [
            "",
            ".",
            "localhost",
            "example org",
            "-bad.example",
            "bad-.example",
            "a..b",
            "exa$mple.org",
            "[192.0.2.1]",
        ] {
            assert_eq!(bad::<DomainName>(text).flaw, Flaw::Invalid, "{text:?}");
        }
        assert!(bad::<DomainName>(&format!("{}a.org", label63)).value.len() > 63);
        // 253 is the most a name may hold: 4 labels of 63 and a dot between each = 255.
        let long = [label63.as_str(); 4].join(".");
        assert_eq!(bad::<DomainName>(&long).flaw, Flaw::Invalid);
        let longest = format!("{}.{}", "a".repeat(61), [label63.as_str(); 3].join("."));
        assert_eq!(longest.len(), 253);
        assert_eq!(ok::<DomainName>(&longest), longest);
    }

    #[test]
    fn messages_name_the_value_and_the_key() {
        let error = bad::<DomainName>("example org");
        assert_eq!(
            error.message("relay_domain"),
            "`example org` is not a domain name"
        );
        assert_eq!(error.label().as_deref(), Some("not a domain name"));
        assert!(error.rule.contains("e.g. `example.org`"));
        let error = "600000".parse::<Millis>().unwrap_err();
        assert_eq!(
            error.message("retry_pause_ms"),
            "`retry_pause_ms` 600000 is out of range"
        );
        assert_eq!(error.rule, "a number of milliseconds from 0 to 60000");
        assert_eq!(error.label(), None);
    }

    #[test]
    fn zones_and_selectors() {
        assert_eq!(ok::<DnsZone>("ZEN.spamhaus.org."), "zen.spamhaus.org");
        assert_eq!(bad::<DnsZone>("localhost").expected, "a DNS zone");
        assert_eq!(ok::<DkimSelector>("Mail"), "mail");
        assert_eq!(ok::<DkimSelector>("s1.eu_2024"), "s1.eu_2024");
        for text in ["", "bad selector", "a..b", &"a".repeat(64)] {
            assert_eq!(
                bad::<DkimSelector>(text).expected,
                "a DKIM selector",
                "{text:?}"
            );
        }
    }

    #[test]
    fn helo_names_are_names_or_address_literals() {
        assert_eq!(ok::<HeloName>("Probe.Example.NET."), "probe.example.net");
        assert_eq!(ok::<HeloName>("[192.0.2.1]"), "[192.0.2.1]");
        assert_eq!(ok::<HeloName>("[IPv6:2001:db8::1]"), "[IPv6:2001:db8::1]");
        for text in ["probe", "[300.1.1.1]", "[probe.example]", "192.0.2.1]"] {
            let error = bad::<HeloName>(text);
            assert_eq!(
                error.message("helo_name"),
                format!("`{text}` is not a fully qualified host name")
            );
        }
    }

    #[test]
    fn words_files_and_numbers() {
        assert_eq!(ok::<UserName>("abuse"), "abuse");
        assert_eq!(
            bad::<UserName>("").message("known_user"),
            "`known_user` must not be empty"
        );
        assert_eq!(
            bad::<UserName>("a b").message("known_user"),
            "`known_user` must be a user name without spaces"
        );
        assert_eq!(ok::<FilePath>("lab/my ca.pem"), "lab/my ca.pem");
        assert_eq!(bad::<FilePath>(" ").flaw, Flaw::Empty);
        assert_eq!(bad::<FilePath>("a\u{7}b").flaw, Flaw::Invalid);
        assert_eq!(ok::<Days>("365"), "365");
        assert_eq!(bad::<Days>("366").flaw, Flaw::OutOfRange);
        assert_eq!(bad::<Days>("-1").flaw, Flaw::OutOfRange);
        assert_eq!(bad::<Days>("soon").flaw, Flaw::Invalid);
        assert_eq!(Millis::from_number(60_000).unwrap().get(), 60_000);
        assert!(timeout("0").is_err() && timeout("601").is_err() && timeout("x").is_err());
        assert_eq!(timeout("2.5"), Ok(2.5));
    }

    #[test]
    fn ports() {
        assert_eq!(ok::<Port>("25"), "25");
        assert_eq!(ok::<Port>("65535"), "65535");
        for text in ["0", "65536", "-1"] {
            assert_eq!(bad::<Port>(text).flaw, Flaw::OutOfRange, "{text}");
        }
        assert_eq!(bad::<Port>("smtp").flaw, Flaw::Invalid);
    }

    #[test]
    fn resolver_forms() {
        let addr = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert_eq!(resolver("127.0.100.53").unwrap(), addr("127.0.100.53:53"));
        assert_eq!(resolver("127.0.0.1:5353").unwrap(), addr("127.0.0.1:5353"));
        assert_eq!(resolver("[::1]:5353").unwrap(), addr("[::1]:5353"));
        assert_eq!(resolver("::1").unwrap(), addr("[::1]:53"));
        assert!(resolver("dns.example").is_err());
    }

    #[test]
    fn canonical_text_for_clap() {
        assert_eq!(
            canonical::<DomainName>("Example.ORG."),
            Ok("example.org".into())
        );
        let error = canonical::<DnsZone>("localhost").unwrap_err();
        assert!(
            error.starts_with("`localhost` is not a DNS zone: "),
            "{error}"
        );
    }
}
