//! The check registry: every check is a unit struct in its own file implementing [`Check`],
//! listed once in [`CATALOG`]. `list`, `explain`, scenario validation and the runner all read
//! the catalog, so a new check is one file plus one line here.

mod context;
mod smtp_auth_offered;
mod smtp_auth_tls_only;
mod smtp_banner_fqdn;
mod smtp_banner_no_software;
mod smtp_common;
mod smtp_expn_disabled;
mod smtp_helo_invalid_rejected;
mod smtp_relay_refused;
mod smtp_sender_unknown_domain_rejected;
mod smtp_size_advertised;
mod smtp_smtps;
mod smtp_starttls;
mod smtp_submission_tls_required;
mod smtp_vrfy_disabled;
mod verdict;

pub use context::{Ctx, Endpoint, EndpointState, Settings, SmtpSettings, TargetInfo};
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
}

#[async_trait::async_trait]
pub trait Check: Send + Sync + 'static {
    fn info(&self) -> &'static CheckInfo;

    /// Observes the endpoint through `ctx` and judges. Never panics; a server that does the
    /// wrong thing is a `fail`, one that does not let us tell is an `error`.
    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict;
}

/// Every check, in report order.
pub static CATALOG: &[&dyn Check] = &[
    &smtp_banner_no_software::BannerNoSoftware,
    &smtp_banner_fqdn::BannerFqdn,
    &smtp_vrfy_disabled::VrfyDisabled,
    &smtp_expn_disabled::ExpnDisabled,
    &smtp_starttls::StartTls,
    &smtp_submission_tls_required::SubmissionTlsRequired,
    &smtp_auth_tls_only::AuthTlsOnly,
    &smtp_auth_offered::AuthOffered,
    &smtp_smtps::Smtps,
    &smtp_relay_refused::RelayRefused,
    &smtp_helo_invalid_rejected::HeloInvalidRejected,
    &smtp_sender_unknown_domain_rejected::SenderUnknownDomainRejected,
    &smtp_size_advertised::SizeAdvertised,
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
            let file = format!("src/check/{}.rs", info.id.replace(['.', '-'], "_"));
            let source =
                std::fs::read_to_string(env!("CARGO_MANIFEST_DIR").to_string() + "/" + &file)
                    .unwrap_or_else(|_| panic!("{} has no file {file}", info.id));
            assert!(source.contains("#[cfg(test)]"), "{file} has no unit tests");
        }
    }

    #[test]
    fn every_check_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(stem) = name.strip_suffix(".rs") else {
                continue;
            };
            if ["mod", "context", "verdict", "smtp_common"].contains(&stem) {
                continue;
            }
            assert!(
                CATALOG
                    .iter()
                    .any(|c| c.info().id.replace(['.', '-'], "_") == stem),
                "src/check/{name} is not registered in CATALOG"
            );
        }
    }

    #[test]
    fn suggestions_catch_typos() {
        assert_eq!(suggest("smtp.vrfy.disable"), Some("smtp.vrfy.disabled"));
        assert_eq!(suggest("smtp.bannr.fqdn"), Some("smtp.banner.fqdn"));
        assert_eq!(suggest("completely.different"), None);
    }
}
