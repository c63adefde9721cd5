//! What a check sees while it runs: its endpoint, the run's settings, and sessions to talk
//! through. Sessions come from the runner, which shares them between checks and bounds them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::{Role, Stage, Verdict};
use crate::probe::ProbeError;
use crate::probe::dns::Dns;
use crate::probe::net::NetOptions;
use crate::probe::smtp::{OpenFailure, OpenFailureKind, OpenOptions, Session};
use crate::runner::{Contact, SessionSlot};

/// One port of one address of a target.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
    pub role: Role,
    /// The host name that led to this address (MX target or the target itself), used for SNI
    /// and certificate checks; `None` when the target was an address.
    pub host: Option<String>,
}

impl Endpoint {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// `127.0.0.10:587/smtp+starttls`: the address, port and what was spoken there.
    pub fn label(&self, stage: Stage) -> String {
        let proto = match (self.role, stage) {
            (Role::Smtps, _) => "smtps",
            (_, Stage::Secured) => "smtp+starttls",
            _ => "smtp",
        };
        format!("{}/{proto}", self.addr())
    }

    /// The name to present in SNI and to match certificates against.
    pub fn server_name(&self) -> String {
        self.host.clone().unwrap_or_else(|| self.ip.to_string())
    }
}

/// The target as resolved: what the checks may need to know about it.
#[derive(Clone, Debug, Default)]
pub struct TargetInfo {
    /// As the user gave it.
    pub input: String,
    /// The mail domain (`--domain`, the target when it has MX, or the host's parent).
    pub domain: Option<String>,
}

/// Parameters of the SMTP checks (scenario `settings.smtp`).
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    /// HELO name for probes; `None`: the address literal of our end, which is honest.
    pub helo_name: Option<String>,
    /// A mailbox every server has, for VRFY/EXPN comparisons (RFC 5321 §4.5.1).
    pub known_user: String,
    /// A domain that does not exist, for `smtp.sender.unknown-domain-rejected`.
    pub unknown_domain: String,
    /// Pause before the one polite retry.
    pub retry_pause: Duration,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            helo_name: None,
            known_user: "postmaster".into(),
            // RFC 2606 reserves .invalid: it never resolves anywhere.
            unknown_domain: format!("mailcheck-{:08x}.invalid", rand::random::<u32>()),
            retry_pause: Duration::from_secs(2),
        }
    }
}

/// Everything from the scenario and the command line that checks read.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub smtp: SmtpSettings,
    /// The outside domain of open-relay probes (`--relay-domain`).
    pub relay_domain: Option<String>,
}

/// A check's view of the run while it runs on one endpoint.
pub struct Ctx<'a> {
    pub endpoint: &'a Endpoint,
    pub stage: Stage,
    pub target: &'a TargetInfo,
    pub settings: &'a Settings,
    pub net: &'a NetOptions,
    pub dns: &'a Dns,
    pub(crate) contact: &'a Contact,
    pub(crate) slot: Option<&'a mut SessionSlot>,
}

impl Ctx<'_> {
    /// Options to open a session on this endpoint, at this check's stage.
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            addr: self.endpoint.addr(),
            server_name: self.endpoint.server_name(),
            implicit_tls: self.endpoint.role.implicit_tls(),
            starttls: self.stage == Stage::Secured,
            helo_name: self.settings.smtp.helo_name.clone(),
            retry_pause: self.settings.smtp.retry_pause,
        }
    }

    /// The session shared by this stage's checks on this endpoint, opened on first use.
    pub async fn session(&mut self) -> Result<&mut Session, OpenFailure> {
        let options = self.open_options();
        let slot = self
            .slot
            .as_deref_mut()
            .expect("only Greeted/Secured checks share a session");
        if slot.session.is_none() {
            slot.session = Some(self.contact.open(&options, self.net).await);
        }
        match slot.session.as_mut().expect("just filled") {
            Ok(session) => Ok(session),
            Err(failure) => Err(failure.clone()),
        }
    }

    /// A fresh session of the caller's making (for `Stage::Own` checks).
    pub async fn open(&self, options: &OpenOptions) -> Result<Session, OpenFailure> {
        self.contact.open(options, self.net).await
    }

    /// The usual verdict when a session could not be opened: a closed optional port is a
    /// `skip`, anything else means we could not tell (`error`).
    pub fn unavailable(&self, failure: &OpenFailure) -> Verdict {
        let port = self.endpoint.port;
        let verdict = match &failure.kind {
            OpenFailureKind::Unreachable(ProbeError::Refused) if !self.endpoint.role.required() => {
                Verdict::skip(format!("port {port} is closed (connection refused)"))
            }
            kind => Verdict::error(format!("port {port}: {}", kind.describe())),
        };
        verdict.with_evidence(failure.evidence.clone())
    }
}
