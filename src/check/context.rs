//! What a check sees while it runs: its endpoint, the run's settings, and sessions to talk
//! through. Sessions come from the runner, which shares them between checks and bounds them.

use std::any::Any;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};

use super::{Protocol, Role, Stage, Verdict};
use crate::probe::ProbeError;
use crate::probe::contact::Contact;
use crate::probe::dns::Dns;
use crate::probe::failure::{OpenFailure, OpenFailureKind};
use crate::probe::imap::ImapSession;
use crate::probe::legacy_tls::LegacyProbe;
use crate::probe::net::NetOptions;
use crate::probe::pop3::Pop3Session;
use crate::probe::session::MailboxSession;
use crate::probe::smtp::{OpenOptions, Session};
use crate::probe::tls::TlsObservation;
use crate::settings::Value;
use crate::target::TargetKind;

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
    pub fn label(&self, stage: Stage) -> crate::outcome::Endpoint {
        use crate::outcome::Transport;
        let secured = stage == Stage::Secured;
        let transport = match (self.role.protocol(), self.role.implicit_tls(), secured) {
            (Protocol::Smtp, true, _) => Transport::Smtps,
            (Protocol::Smtp, false, true) => Transport::SmtpStarttls,
            (Protocol::Smtp, false, false) => Transport::Smtp,
            (Protocol::Imap, true, _) => Transport::Imaps,
            (Protocol::Imap, false, true) => Transport::ImapStarttls,
            (Protocol::Imap, false, false) => Transport::Imap,
            (Protocol::Pop3, true, _) => Transport::Pop3s,
            (Protocol::Pop3, false, true) => Transport::Pop3Starttls,
            (Protocol::Pop3, false, false) => Transport::Pop3,
        };
        crate::outcome::Endpoint {
            address: self.addr(),
            transport,
        }
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
    /// The hosts checked (MX hosts, or the target) with their addresses.
    pub hosts: Vec<(Option<String>, Vec<IpAddr>)>,
    /// The DNS exchanges that resolved the target.
    pub evidence: Vec<String>,
    /// Address, domain with MX, or host.
    pub kind: TargetKind,
    /// `* mail domain ...: why` — which domain the DNS checks use, for their evidence.
    pub domain_note: String,
}

/// Observations several checks of one target share (one end-to-end delivery feeds four
/// checks), each computed once by whichever check asks first.
#[derive(Default)]
pub struct TargetMemo {
    cells: std::sync::Mutex<HashMap<&'static str, Arc<MemoCell>>>,
}

/// One memoized value, of whatever type its key's checks agree on.
type MemoCell = OnceCell<Arc<dyn Any + Send + Sync>>;

/// The session a group of checks shares: the runner gives one slot to each group and closes
/// what is left in it at the end.
#[derive(Default)]
pub struct SessionSlot {
    pub session: Option<Result<Session, OpenFailure>>,
}

/// What the runner keeps per endpoint for every check that touches it.
#[derive(Default)]
pub struct EndpointState {
    /// The first-contact gate: a dead endpoint is found out once.
    pub contact: Contact,
    /// The TLS handshake as a client would do it, observed once for all `tls.*` checks.
    pub tls: OnceCell<Result<TlsObservation, OpenFailure>>,
    /// A TLS 1.1-and-below handshake with its chain, read once (`tls.protocol.min`, and
    /// `tls.cert.*` when the server speaks nothing newer).
    pub legacy_tls: OnceCell<Result<LegacyProbe, OpenFailure>>,
}

/// A job of [`Ctx::concurrently`], holding its permit (if it has one of its own) until done.
async fn tagged<T>(
    index: usize,
    job: impl std::future::Future<Output = T>,
    permit: Option<SemaphorePermit<'_>>,
) -> (usize, bool, T) {
    let value = job.await;
    (index, permit.is_some(), value)
}

/// Parameters of the SMTP checks (scenario `settings:`).
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
    /// DKIM selectors to look up (`--dkim-selector`, scenario `dkim_selectors`); empty: probe.
    pub dkim_selectors: Vec<String>,
    /// DNSBL zones for `dns.rbl` (`--dnsbl`, scenario `dnsbl`); empty: the course's two.
    pub dnsbl: Vec<String>,
    /// A test mailbox for login and end-to-end checks (`--user`, `--password-env`/`--password-file`).
    pub credentials: Option<Credentials>,
    /// Trust anchors (`--ca-file`) and the expiry warning window of the `tls.cert.*` checks.
    pub tls: crate::check::tls::TlsSettings,
    /// DNSSEC trust anchors file (`--trust-anchor`); `None`: the IANA root key.
    pub trust_anchor: Option<PathBuf>,
    /// What the host must offer (scenario `expect:`): what a closed port means.
    pub expect: super::Services,
}

impl Settings {
    /// Sets a scenario setting from its typed value (see [`crate::settings`]); `false` when
    /// `key` is not one a scenario sets or the value is not of its kind, which the registry's
    /// tests rule out.
    pub fn set(&mut self, key: &str, value: &Value) -> bool {
        match (key, value) {
            ("relay_domain", Value::Domain(domain)) => {
                self.relay_domain = Some(domain.to_string());
            }
            ("helo_name", Value::Helo(name)) => self.smtp.helo_name = Some(name.to_string()),
            ("known_user", Value::User(user)) => self.smtp.known_user = user.to_string(),
            ("unknown_domain", Value::Domain(domain)) => {
                self.smtp.unknown_domain = domain.to_string();
            }
            ("retry_pause_ms", Value::Millis(millis)) => {
                self.smtp.retry_pause = Duration::from_millis(millis.get());
            }
            ("expiry_warn_days", Value::Days(days)) => {
                // At most 365 by its type.
                self.tls.expiry_warn_days = u32::try_from(days.get()).unwrap_or(u32::MAX);
            }
            ("dkim_selectors", Value::Selectors(selectors)) => {
                self.dkim_selectors = selectors.iter().map(ToString::to_string).collect();
            }
            ("dnsbl", Value::Zones(zones)) => {
                self.dnsbl = zones.iter().map(ToString::to_string).collect();
            }
            _ => return false,
        }
        true
    }
}

/// A mailbox login. The password only ever comes from the environment or a file, and never
/// shows in `Debug` output; reporters also scrub it (`RenderOptions::secrets`).
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    password: String,
}

impl Credentials {
    pub fn new(user: String, password: String) -> Credentials {
        Credentials { user, password }
    }

    pub fn password(&self) -> &str {
        &self.password
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A check's view of the run while it runs on one endpoint (or, for DNS checks, on the target).
pub struct Ctx<'a> {
    /// `None` only for [`super::Scope::Target`] checks.
    pub endpoint: Option<&'a Endpoint>,
    pub stage: Stage,
    pub target: &'a TargetInfo,
    pub settings: &'a Settings,
    pub net: &'a NetOptions,
    pub dns: &'a Dns,
    /// The port of each role (scenario `ports:`).
    pub ports: &'a BTreeMap<Role, u16>,
    pub(crate) state: &'a EndpointState,
    pub(crate) slot: Option<&'a mut SessionSlot>,
    pub(crate) memo: &'a TargetMemo,
    /// The target's connection permits (`--concurrency`), for checks that open several
    /// connections at once; `None`: one at a time.
    pub(crate) permits: Option<&'a Semaphore>,
}

impl Ctx<'_> {
    /// The endpoint of an endpoint-scoped check. The runner gives one to every check whose
    /// scope is `Endpoints`; only `Target` checks run without.
    pub fn endpoint(&self) -> &Endpoint {
        self.endpoint
            .expect("endpoint-scoped checks always run with an endpoint")
    }

    /// The port a role listens on in this run.
    pub fn port(&self, role: Role) -> u16 {
        self.ports
            .get(&role)
            .copied()
            .unwrap_or_else(|| role.default_port())
    }

    /// Options to open an SMTP session on this endpoint, at this check's stage.
    pub fn open_options(&self) -> OpenOptions {
        let endpoint = self.endpoint();
        OpenOptions {
            addr: endpoint.addr(),
            server_name: endpoint.server_name(),
            implicit_tls: endpoint.role.implicit_tls(),
            starttls: self.stage == Stage::Secured,
            helo_name: self.settings.smtp.helo_name.clone(),
            retry_pause: self.settings.smtp.retry_pause,
        }
    }

    /// The SMTP session shared by this stage's checks on this endpoint, opened on first use.
    pub async fn session(&mut self) -> Result<&mut Session, OpenFailure> {
        let options = self.open_options();
        let (state, net) = (self.state, self.net);
        let slot = self
            .slot
            .as_deref_mut()
            .expect("only Greeted/Secured checks share a session");
        if slot.session.is_none() {
            slot.session = Some(state.contact.open(Session::open(&options, net)).await);
        }
        match slot.session.as_mut().expect("just filled") {
            Ok(session) => Ok(session),
            Err(failure) => Err(failure.clone()),
        }
    }

    /// A fresh SMTP session of the caller's making (for `Stage::Own` checks).
    pub async fn open(&self, options: &OpenOptions) -> Result<Session, OpenFailure> {
        self.state
            .contact
            .open(Session::open(options, self.net))
            .await
    }

    /// Runs any opening (IMAP, POP3, raw probes) through this endpoint's first-contact gate.
    pub async fn gate<T>(
        &self,
        open: impl std::future::Future<Output = Result<T, OpenFailure>>,
    ) -> Result<T, OpenFailure> {
        self.state.contact.open(open).await
    }

    /// Runs `jobs` (each one connection) concurrently within the target's connection limit,
    /// results in the order given: the first runs on the permit this check already holds,
    /// each further one on a permit of its own when one is free. It waits for a permit only
    /// while its own jobs make progress, so checks doing this never wait on each other.
    pub async fn concurrently<T, F>(&self, jobs: Vec<F>) -> Vec<T>
    where
        F: std::future::Future<Output = T>,
    {
        use futures::stream::{FuturesUnordered, StreamExt};
        let count = jobs.len();
        let mut waiting = jobs.into_iter().enumerate();
        let mut results: Vec<Option<T>> = (0..count).map(|_| None).collect();
        let mut running = FuturesUnordered::new();
        let mut own_free = true;
        loop {
            if own_free && let Some((index, job)) = waiting.next() {
                own_free = false;
                running.push(tagged(index, job, None));
            }
            if running.is_empty() {
                break;
            }
            let more = waiting.len() > 0 && self.permits.is_some();
            tokio::select! {
                Some((index, extra, value)) = running.next() => {
                    results[index] = Some(value);
                    own_free |= !extra;
                }
                Ok(permit) = async { self.permits.expect("checked").acquire().await }, if more => {
                    if let Some((index, job)) = waiting.next() {
                        running.push(tagged(index, job, Some(permit)));
                    }
                }
            }
        }
        results.into_iter().flatten().collect()
    }

    /// An IMAP or POP3 session on this endpoint through its first-contact gate: implicit TLS
    /// on 993/995, else in clear and then STARTTLS/STLS when `starttls`.
    pub async fn mailbox<S: MailboxSession>(&self, starttls: bool) -> Result<S, OpenFailure> {
        let endpoint = self.endpoint();
        let open = S::open_on(
            endpoint.addr(),
            endpoint.server_name(),
            endpoint.role.implicit_tls(),
            starttls,
            self.net,
        );
        self.gate(open).await
    }

    /// The TLS observation of a mailbox session opened with STARTTLS (or implicit TLS).
    async fn observe<S: MailboxSession>(&self) -> Result<TlsObservation, OpenFailure> {
        let session = self.mailbox::<S>(true).await?;
        let observation = TlsObservation::of(session.tls(), session.opening());
        session.close().await;
        observation
    }

    /// The TLS handshake on this endpoint (STARTTLS or implicit), done once and shared.
    pub async fn tls(&self) -> Result<&TlsObservation, OpenFailure> {
        let endpoint = self.endpoint();
        let result = self
            .state
            .tls
            .get_or_init(|| async {
                match endpoint.role.protocol() {
                    Protocol::Smtp => {
                        let mut options = self.open_options();
                        options.starttls = !endpoint.role.implicit_tls();
                        let session = self.open(&options).await?;
                        let observation = TlsObservation::of(session.tls(), session.opening());
                        session.client.quit().await;
                        observation
                    }
                    Protocol::Imap => self.observe::<ImapSession>().await,
                    Protocol::Pop3 => self.observe::<Pop3Session>().await,
                }
            })
            .await;
        result.as_ref().map_err(Clone::clone)
    }

    /// The value shared under `key` by the checks of this target, computed by the first caller.
    pub async fn shared<T, F>(&self, key: &'static str, init: impl FnOnce() -> F) -> Arc<T>
    where
        T: Any + Send + Sync,
        F: std::future::Future<Output = T>,
    {
        let cell = {
            let mut cells = self
                .memo
                .cells
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            cells.entry(key).or_default().clone()
        };
        let value = cell
            .get_or_init(|| async { Arc::new(init().await) as Arc<dyn Any + Send + Sync> })
            .await
            .clone();
        value
            .downcast::<T>()
            .unwrap_or_else(|_| panic!("memo key {key} is used with two different types"))
    }

    /// The usual verdict when a session could not be opened: a closed port is judged by the
    /// host's role ([`Ctx::closed_port`]), anything else means we could not tell (`error`).
    pub fn unavailable(&self, failure: &OpenFailure) -> Verdict {
        let verdict = match &failure.kind {
            OpenFailureKind::Unreachable(ProbeError::Refused) => self.closed_port(),
            kind => Verdict::error(format!(
                "port {}: {}",
                self.endpoint().port,
                kind.describe()
            )),
        };
        verdict.with_evidence(failure.evidence.clone())
    }

    /// A refused connection on this endpoint, by what the scenario expects of the host
    /// (`expect:`): on the port of an expected service, a `fail` when the host answers on
    /// another port and an `error` when nothing answers (it may be down); anywhere else a
    /// `skip`, saying which service is not there.
    pub fn closed_port(&self) -> Verdict {
        let endpoint = self.endpoint();
        let port = endpoint.port;
        let expect = self.settings.expect;
        match expect.requires(endpoint.role) {
            Some(service) => {
                let (what, fix) = match service {
                    super::Service::Mx => (
                        "a mail exchanger receiving on it (expect: mx)",
                        "Postfix: the `smtp inet n - y - - smtpd` service of master.cf,                          `inet_interfaces = all` in main.cf, and port 25 open in the firewall.",
                    ),
                    _ => (
                        "a submission service on it for mail clients (expect: submission)",
                        "Postfix: enable the `submission inet n - y - - smtpd` service of                          master.cf (with `-o smtpd_tls_security_level=encrypt -o                          smtpd_sasl_auth_enable=yes`), and open port 587 in the firewall.",
                    ),
                };
                Verdict::fail(format!(
                    "port {port} is closed (connection refused) while the host answers on other ports: the scenario expects {what}"
                ))
                .with_fix(fix)
                .or_if_host_silent(Verdict::error(format!(
                    "port {port}: cannot connect: connection refused, and nothing answers on this host (is it down?)"
                )))
            }
            None => Verdict::skip(match endpoint.role {
                super::Role::Submission => format!(
                    "no submission service on this host (port {port} refused the connection; the scenario does not expect one)"
                ),
                super::Role::Mx => format!(
                    "no SMTP service on port {port} (connection refused; the scenario does not expect this host to receive mail)"
                ),
                _ => format!("port {port} is closed (connection refused)"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{self, Kind};

    /// A value of `kind` unlike any default, to see that setting it changes the run.
    fn unusual(kind: Kind) -> &'static str {
        match kind {
            Kind::Domain => "unusual.example",
            Kind::Helo => "[192.0.2.99]",
            Kind::User => "unusual-user",
            Kind::Millis => "1234",
            Kind::Days => "99",
            Kind::Selectors => "unusual",
            Kind::Zones => "unusual.example",
            other => panic!("no scenario setting is of kind {other:?}"),
        }
    }

    #[test]
    fn every_scenario_setting_reaches_the_run() {
        for setting in settings::in_scenario() {
            let text = unusual(setting.kind);
            let value = if setting.kind.is_list() {
                setting.kind.parse_list([text]).unwrap()
            } else {
                setting.kind.parse(text).unwrap()
            };
            let mut run = Settings::default();
            let before = format!("{:?}", run);
            assert!(
                run.set(setting.key, &value),
                "`{}` is not applied",
                setting.key
            );
            assert_ne!(
                before,
                format!("{run:?}"),
                "`{}` changed nothing",
                setting.key
            );
            assert!(format!("{run:?}").contains(text), "{}", setting.key);
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let run = Settings::default();
        assert_eq!(
            run.smtp.retry_pause.as_millis().to_string(),
            settings::RETRY_PAUSE_MS.default
        );
        assert_eq!(
            run.tls.expiry_warn_days.to_string(),
            settings::EXPIRY_WARN_DAYS.default
        );
        assert_eq!(
            format!("`{}`", run.smtp.known_user),
            settings::KNOWN_USER.default
        );
    }
}
