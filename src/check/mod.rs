//! The check registry: every check is a unit struct in its own file implementing [`Check`],
//! listed once in [`CATALOG`]. `list`, `explain`, scenario validation and the runner all read
//! the catalog, so a new check is one file plus one line here.

mod context;
pub mod custom;
pub mod dns;
pub mod e2e;
pub mod imap;
pub mod mailbox;
pub mod pop3;
pub mod smtp;
pub mod tls;
mod verdict;

pub use context::{
    Credentials, Ctx, Endpoint, EndpointState, SessionSlot, Settings, SmtpSettings, TargetInfo,
    TargetMemo,
};
pub use custom::{
    CodePattern, CustomCheck, CustomSpec, EnhancedPattern, Expect, ReplyPattern, Step,
};
pub use tls::{TlsSettings, TrustStore};
pub use verdict::Verdict;

use crate::outcome::{Category, Severity};

/// The kind of endpoint a check talks to. Each maps to a default port the scenario may move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// SMTP on 25: where the world delivers (STARTTLS optional).
    Mx,
    /// Submission on 587: clients authenticate after STARTTLS (RFC 6409).
    Submission,
    /// Submission over implicit TLS on 465 (RFC 8314).
    Smtps,
    /// IMAP on 143 (STARTTLS).
    Imap,
    /// IMAP over implicit TLS on 993.
    Imaps,
    /// POP3 on 110 (STLS).
    Pop3,
    /// POP3 over implicit TLS on 995.
    Pop3s,
}

/// The protocol spoken on a role's port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Smtp,
    Imap,
    Pop3,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Mx,
        Role::Submission,
        Role::Smtps,
        Role::Imap,
        Role::Imaps,
        Role::Pop3,
        Role::Pop3s,
    ];
    /// Every role that speaks TLS, implicitly or after STARTTLS.
    pub const TLS: [Role; 7] = Role::ALL;

    pub fn default_port(self) -> u16 {
        match self {
            Role::Mx => 25,
            Role::Submission => 587,
            Role::Smtps => 465,
            Role::Imap => 143,
            Role::Imaps => 993,
            Role::Pop3 => 110,
            Role::Pop3s => 995,
        }
    }

    /// The scenario's name for it (`ports: {smtp: 2525}`).
    pub fn key(self) -> &'static str {
        match self {
            Role::Mx => "smtp",
            Role::Submission => "submission",
            Role::Smtps => "smtps",
            Role::Imap => "imap",
            Role::Imaps => "imaps",
            Role::Pop3 => "pop3",
            Role::Pop3s => "pop3s",
        }
    }

    pub fn protocol(self) -> Protocol {
        match self {
            Role::Mx | Role::Submission | Role::Smtps => Protocol::Smtp,
            Role::Imap | Role::Imaps => Protocol::Imap,
            Role::Pop3 | Role::Pop3s => Protocol::Pop3,
        }
    }

    pub fn implicit_tls(self) -> bool {
        matches!(self, Role::Smtps | Role::Imaps | Role::Pop3s)
    }

    /// Whether a closed port is a finding in itself (25 and 587 must answer; the others may
    /// be off, and the check about that port alone says so).
    pub fn required(self) -> bool {
        matches!(self, Role::Mx | Role::Submission)
    }

    /// Whether MX-style opportunistic TLS applies (RFC 7672 §1.3): only on 25. Everywhere else
    /// clients must verify the certificate (RFC 8314).
    pub fn opportunistic_tls(self) -> bool {
        matches!(self, Role::Mx)
    }
}

/// A service the scenario says the host must offer (`expect: [mx, submission, mailbox]`): it
/// decides what a closed port means. A port of an expected service that refuses connections
/// is a `fail` on a host that answers elsewhere (an `error` when nothing answers: the host may
/// be down); a port of a service not expected is `skip`, never `error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Receives mail on 25.
    Mx,
    /// Takes mail from clients on 587 (465 optional).
    Submission,
    /// Serves the mailboxes over IMAP (143 and/or 993).
    Mailbox,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Mx, Service::Submission, Service::Mailbox];

    /// Its name in `expect:`.
    pub fn key(self) -> &'static str {
        match self {
            Service::Mx => "mx",
            Service::Submission => "submission",
            Service::Mailbox => "mailbox",
        }
    }

    pub fn parse(text: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.key() == text)
    }
}

/// The services a host is expected to offer (scenario `expect:`); without one, `[mx]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Services {
    pub mx: bool,
    pub submission: bool,
    pub mailbox: bool,
}

impl Default for Services {
    fn default() -> Self {
        Services::of(&[Service::Mx])
    }
}

impl Services {
    pub fn of(services: &[Service]) -> Services {
        Services {
            mx: services.contains(&Service::Mx),
            submission: services.contains(&Service::Submission),
            mailbox: services.contains(&Service::Mailbox),
        }
    }

    /// The expected service a role's port is the home of: 25 for `mx`, 587 for `submission`
    /// (465 is optional beside it; IMAP's two ports are judged together by `imap.imaps`).
    pub fn requires(self, role: Role) -> Option<Service> {
        match role {
            Role::Mx if self.mx => Some(Service::Mx),
            Role::Submission if self.submission => Some(Service::Submission),
            _ => None,
        }
    }
}

/// How the runner prepares an SMTP endpoint before handing it to a check. Checks of the same
/// stage on the same endpoint share one connection, one after the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Connected, greeted, EHLO answered; in clear (inside TLS on implicit-TLS ports).
    Greeted,
    /// As `Greeted`, then STARTTLS and EHLO again (same as `Greeted` on implicit-TLS ports).
    Secured,
    /// The check opens its own connections (probes that must not share a session).
    Own,
}

/// Where a check applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Once per endpoint of these roles, on every address of the target.
    Endpoints {
        roles: &'static [Role],
        stage: Stage,
    },
    /// Once per target (DNS checks): the result has no endpoint.
    Target,
}

/// What a check declares about itself; the catalog's row.
#[derive(Debug)]
pub struct CheckInfo {
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub scope: Scope,
    /// What it checks, in a sentence or two.
    pub what: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix a failure (Postfix/Dovecot parameters).
    pub fix: &'static str,
    /// Opt-in only: never selected by a glob, only by its exact id.
    pub opt_in: bool,
    /// The title in French, for `--lang fr` (the course is French); `None`: the English one.
    pub title_fr: Option<&'static str>,
    /// The fix in French, quoting the same parameters as `fix`; `None`: the English one.
    pub fix_fr: Option<&'static str>,
}

/// Which credentials a check sends to the server. A server may delay its answer to a failed
/// login (Dovecot: `auth_failure_delay`, 2 s) and penalize the client's address for each
/// failure (Dovecot's auth penalty doubles up to 15 s, and is reset by a successful login), so
/// the runner orders the login probes of one server: the real logins first, then the made-up
/// ones (which wait for the real ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logins {
    /// No credentials.
    None,
    /// The test user's (`--user`).
    Real,
    /// Made-up credentials, which the server must refuse.
    MadeUp,
}

#[async_trait::async_trait]
pub trait Check: Send + Sync + 'static {
    fn info(&self) -> &'static CheckInfo;

    /// Which credentials the check sends (see [`Logins`]).
    fn logins(&self) -> Logins {
        Logins::None
    }

    /// Observes the endpoint through `ctx` and judges. Never panics; a server that does the
    /// wrong thing is a `fail`, one that does not let us tell is an `error`.
    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict;
}

/// Every check, in report order.
pub static CATALOG: &[&dyn Check] = &[
    &smtp::banner_no_software::BannerNoSoftware,
    &smtp::banner_fqdn::BannerFqdn,
    &smtp::vrfy_disabled::VrfyDisabled,
    &smtp::expn_disabled::ExpnDisabled,
    &smtp::starttls::StartTls,
    &smtp::submission_tls_required::SubmissionTlsRequired,
    &smtp::auth_tls_only::AuthTlsOnly,
    &smtp::auth_offered::AuthOffered,
    &smtp::smtps::Smtps,
    &smtp::relay_refused::RelayRefused,
    &smtp::helo_invalid_rejected::HeloInvalidRejected,
    &smtp::sender_unknown_domain_rejected::SenderUnknownDomainRejected,
    &smtp::size_advertised::SizeAdvertised,
    &smtp::starttls_injection::StartTlsInjection,
    &smtp::smuggling::Smuggling,
    &smtp::rcpt_enumeration::RcptEnumeration,
    &tls::protocol_min::ProtocolMin,
    &tls::ciphers_weak::CiphersWeak,
    &tls::protocol_tls13::ProtocolTls13,
    &tls::cert_trusted::CertTrusted,
    &tls::cert_hostname::CertHostname,
    &tls::cert_expiry::CertExpiry,
    &tls::cert_key::CertKey,
    &imap::imaps::Imaps,
    &imap::starttls::StartTls,
    &imap::login_tls_only::LoginTlsOnly,
    &imap::login::Login,
    &imap::banner_no_software::BannerNoSoftware,
    &pop3::pop3s::Pop3s,
    &pop3::stls::Stls,
    &pop3::login_tls_only::LoginTlsOnly,
    &dns::a::DnsA,
    &dns::mx::DnsMx,
    &dns::ptr::DnsPtr,
    &dns::spf::DnsSpf,
    &dns::dkim::DnsDkim,
    &dns::dmarc::DnsDmarc,
    &dns::rbl::DnsRbl,
    &dns::dnssec::DnsDnssec,
    &dns::tlsa::DnsTlsa,
    &dns::mta_sts::DnsMtaSts,
    &dns::tls_rpt::DnsTlsRpt,
    &e2e::submit::E2eSubmit,
    &e2e::fetch::E2eFetch,
    &e2e::dkim::E2eDkim,
    &e2e::inbound::E2eInbound,
];

pub fn find(id: &str) -> Option<&'static dyn Check> {
    CATALOG.iter().copied().find(|check| check.info().id == id)
}

/// The catalog ids closest to `id`, for "did you mean" hints.
pub fn suggest(id: &str) -> Option<&'static str> {
    CATALOG
        .iter()
        .map(|check| check.info().id)
        .map(|known| (strsim::jaro_winkler(id, known), known))
        .filter(|(similarity, _)| *similarity > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_well_formed_and_match_their_file() {
        let mut seen = std::collections::HashSet::new();
        for check in CATALOG {
            let info = check.info();
            assert!(seen.insert(info.id), "duplicate id {}", info.id);
            assert!(
                info.id.starts_with(&format!("{}.", info.category.as_str())),
                "{}",
                info.id
            );
            assert!(
                !info.title.is_empty()
                    && !info.what.is_empty()
                    && !info.why.is_empty()
                    && !info.fix.is_empty()
            );
            let file = check_file(info.id);
            let source = std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("{} has no file {}", info.id, file.display()));
            assert!(
                source.contains("#[cfg(test)]"),
                "{} has no unit tests",
                file.display()
            );
        }
    }

    /// `smtp.vrfy.disabled` lives in `smtp/vrfy_disabled.rs` (or, split in parts,
    /// `smtp/vrfy_disabled/mod.rs`): the group is the category.
    fn check_file(id: &str) -> std::path::PathBuf {
        let (group, rest) = id.split_once('.').expect("ids have a category");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check");
        let stem = dir.join(group).join(rest.replace(['.', '-'], "_"));
        let split = stem.join("mod.rs");
        if split.exists() {
            split
        } else {
            stem.with_extension("rs")
        }
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_check_file_is_registered() {
        // A check file is one that declares a `CheckInfo`; shared code (a group's `mod.rs`,
        // a split check's parts) declares none.
        let mut files = Vec::new();
        rust_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check"),
            &mut files,
        );
        let registered: Vec<_> = CATALOG.iter().map(|c| check_file(c.info().id)).collect();
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            let declares_check = source.lines().any(|line| {
                line.starts_with("static ") && line.ends_with(": CheckInfo = CheckInfo {")
            });
            if declares_check {
                assert!(
                    registered.contains(&file),
                    "{} declares a check that is not registered in CATALOG",
                    file.display()
                );
            }
        }
    }

    #[test]
    fn every_check_speaks_french_with_the_same_parameters() {
        // `--lang fr` (the course is French): every check has a French title and fix, and the
        // French fix quotes every parameter (code span) of the English one, so a change to a
        // fix that forgets its translation fails here.
        let spans = |text: &'static str| -> Vec<&'static str> {
            text.split('`').skip(1).step_by(2).collect()
        };
        for check in CATALOG {
            let info = check.info();
            let (Some(title), Some(fix)) = (info.title_fr, info.fix_fr) else {
                panic!("{} has no French title_fr/fix_fr", info.id);
            };
            assert!(!title.is_empty() && title != info.title, "{}", info.id);
            for span in spans(info.fix) {
                assert!(
                    fix.contains(&format!("`{span}`")),
                    "{}: the French fix does not quote `{span}`",
                    info.id
                );
            }
        }
    }

    #[test]
    fn suggestions_catch_typos() {
        assert_eq!(suggest("smtp.vrfy.disable"), Some("smtp.vrfy.disabled"));
        assert_eq!(suggest("smtp.bannr.fqdn"), Some("smtp.banner.fqdn"));
        assert_eq!(suggest("completely.different"), None);
    }
}
