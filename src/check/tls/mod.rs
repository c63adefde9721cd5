//! What the `tls.*` checks share: the trust store (webpki roots plus `--ca-file`), certificate
//! facts read with x509-parser, chain and name verification with rustls-webpki (the verifier
//! rustls itself uses), the port-role policy, and the evidence lines that let a reader compare
//! with `openssl s_client -showcerts`.

pub mod cert_expiry;
pub mod cert_hostname;
pub mod cert_key;
pub mod cert_trusted;
pub mod ciphers_weak;
pub mod mx_policy;
pub mod protocol_min;
pub mod protocol_tls13;

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::check::{Ctx, Protocol, Role, Verdict};
use crate::probe::ProbeError;
use crate::probe::failure::{OpenFailure, OpenFailureKind};
use crate::probe::legacy_tls::{LegacyProbe, LegacyVersion, Opener, Outcome, probe};
use crate::probe::tls::TlsObservation;

/// Default days before expiry under which `tls.cert.expiry` warns.
pub const DEFAULT_EXPIRY_WARN_DAYS: u32 = 14;

/// What the `tls.cert.*` checks are told by the scenario and the command line.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    /// webpki roots plus `--ca-file`.
    pub trust: Arc<TrustStore>,
    /// `tls.cert.expiry` warns when fewer days are left (scenario `expiry_warn_days`).
    pub expiry_warn_days: u32,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            trust: TrustStore::webpki(),
            expiry_warn_days: DEFAULT_EXPIRY_WARN_DAYS,
        }
    }
}

/// The trust anchors certificates are judged against: the webpki (Mozilla) roots, plus the
/// PEM certificates of `--ca-file` (a private CA, a lab). Loaded once per run.
#[derive(Debug)]
pub struct TrustStore {
    anchors: Vec<TrustAnchor<'static>>,
    /// The subjects (DER) of the anchors that came from `--ca-file`.
    extra_subjects: Vec<Vec<u8>>,
    /// `--ca-file`, when given.
    pub ca_file: Option<PathBuf>,
}

impl TrustStore {
    /// The webpki roots alone.
    pub fn webpki() -> Arc<TrustStore> {
        static DEFAULT: LazyLock<Arc<TrustStore>> = LazyLock::new(|| {
            Arc::new(TrustStore {
                anchors: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                extra_subjects: Vec::new(),
                ca_file: None,
            })
        });
        DEFAULT.clone()
    }

    /// The webpki roots plus every certificate of the PEM file at `path`.
    pub fn with_ca_file(path: &Path) -> Result<TrustStore, String> {
        let pem =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        TrustStore::with_pem(&pem, Some(path.to_path_buf()))
            .map_err(|e| format!("--ca-file {}: {e}", path.display()))
    }

    /// The webpki roots plus the PEM certificates in `pem`.
    pub fn with_pem(pem: &[u8], ca_file: Option<PathBuf>) -> Result<TrustStore, String> {
        let mut anchors = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        let mut extra_subjects = Vec::new();
        for (index, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let cert =
                cert.map_err(|e| format!("certificate {} is not valid PEM: {e}", index + 1))?;
            let anchor = webpki::anchor_from_trusted_cert(&cert)
                .map_err(|e| format!("certificate {} cannot be a trust anchor: {e:?}", index + 1))?
                .to_owned();
            extra_subjects.push(anchor.subject.as_ref().to_vec());
            anchors.push(anchor);
        }
        if extra_subjects.is_empty() {
            return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into());
        }
        Ok(TrustStore {
            anchors,
            extra_subjects,
            ca_file,
        })
    }

    /// The same anchors for a verifying rustls client (the MTA-STS policy fetch).
    pub fn root_store(&self) -> rustls::RootCertStore {
        rustls::RootCertStore {
            roots: self.anchors.clone(),
        }
    }

    /// How many anchors came from `--ca-file`.
    pub fn extra_count(&self) -> usize {
        self.extra_subjects.len()
    }

    fn describe_source(&self, subject: &[u8]) -> String {
        match &self.ca_file {
            Some(path) if self.extra_subjects.iter().any(|s| s == subject) => {
                format!("a trust anchor of --ca-file {}", path.display())
            }
            _ => "the webpki (Mozilla) roots".into(),
        }
    }
}

/// The facts of one certificate that the checks judge and the evidence shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    /// `DNS:mail.ref.test`, `IP Address:127.0.100.10`, as openssl prints them.
    pub sans: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub key: KeyFacts,
    /// Signature algorithm short name (`sha256WithRSAEncryption`).
    pub signature: String,
}

impl CertFacts {
    pub fn self_signed(&self) -> bool {
        self.subject == self.issuer
    }
}

/// A public key's type and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyFacts {
    Rsa { bits: usize },
    Ec { bits: usize, curve: String },
    Ed25519,
    Ed448,
    Other { what: String, bits: usize },
}

impl KeyFacts {
    /// `RSA 2048 bit`, `EC 256 bit (prime256v1)`.
    pub fn describe(&self) -> String {
        match self {
            KeyFacts::Rsa { bits } => format!("RSA {bits} bit"),
            KeyFacts::Ec { bits, curve } => format!("EC {bits} bit ({curve})"),
            KeyFacts::Ed25519 => "Ed25519 (256 bit)".into(),
            KeyFacts::Ed448 => "Ed448 (456 bit)".into(),
            KeyFacts::Other { what, bits } => format!("{what} {bits} bit"),
        }
    }
}

/// Reads a certificate's facts; `Err` says why it cannot be read.
pub fn facts(der: &CertificateDer<'_>) -> Result<CertFacts, String> {
    let (_, cert) = X509Certificate::from_der(der.as_ref())
        .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
    let registry = x509_parser::objects::oid_registry();
    let name_of = |oid: &x509_parser::der_parser::oid::Oid<'_>| {
        x509_parser::objects::oid2sn(oid, registry)
            .map(str::to_string)
            .unwrap_or_else(|_| oid.to_id_string())
    };
    let mut sans = Vec::new();
    if let Ok(Some(extension)) = cert.subject_alternative_name() {
        for name in &extension.value.general_names {
            sans.push(match name {
                GeneralName::DNSName(dns) => format!("DNS:{dns}"),
                GeneralName::IPAddress(bytes) => format!("IP Address:{}", ip_text(bytes)),
                GeneralName::RFC822Name(mail) => format!("email:{mail}"),
                GeneralName::URI(uri) => format!("URI:{uri}"),
                other => format!("{other:?}"),
            });
        }
    }
    let spki = cert.public_key();
    let algorithm = spki.algorithm.algorithm.to_id_string();
    let key = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => KeyFacts::Rsa {
            bits: rsa.key_size(),
        },
        Ok(PublicKey::EC(point)) => KeyFacts::Ec {
            bits: point.key_size(),
            curve: spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| name_of(&oid))
                .unwrap_or_else(|| "unknown curve".into()),
        },
        _ if algorithm == "1.3.101.112" => KeyFacts::Ed25519,
        _ if algorithm == "1.3.101.113" => KeyFacts::Ed448,
        Ok(other) => KeyFacts::Other {
            what: name_of(&spki.algorithm.algorithm),
            bits: other.key_size(),
        },
        Err(_) => KeyFacts::Other {
            what: name_of(&spki.algorithm.algorithm),
            bits: 0,
        },
    };
    Ok(CertFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        key,
        signature: name_of(&cert.signature_algorithm.algorithm),
    })
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).expect("4 bytes")).to_string(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).expect("16 bytes")).to_string(),
        _ => format!("{bytes:02x?}"),
    }
}

pub use crate::probe::transcript::openssl_date;

pub fn now() -> i64 {
    UnixTime::now().as_secs() as i64
}

/// The evidence of a handshake: the dialog, what was negotiated, each certificate as
/// `openssl s_client -showcerts` shows it, and the command line that shows the same.
pub fn evidence(observation: &TlsObservation, reproduce: &str) -> Vec<String> {
    let info = &observation.info;
    let mut lines = observation.evidence.clone();
    lines.push(format!(
        "* negotiated: Protocol {}, Cipher {}",
        info.version, info.cipher
    ));
    lines.push(format!(
        "* certificate chain ({} presented, server name {}):",
        info.chain.len(),
        info.server_name
    ));
    for (index, der) in info.chain.iter().enumerate() {
        match facts(der) {
            Ok(cert) => {
                lines.push(format!("* {index:2} s:{}", cert.subject));
                lines.push(format!("*    i:{}", cert.issuer));
                lines.push(format!(
                    "*    a:PKEY: {}; sigalg: {}",
                    cert.key.describe(),
                    cert.signature
                ));
                lines.push(format!(
                    "*    v:NotBefore: {}; NotAfter: {}",
                    openssl_date(cert.not_before),
                    openssl_date(cert.not_after)
                ));
                if !cert.sans.is_empty() {
                    lines.push(format!(
                        "*    X509v3 Subject Alternative Name: {}",
                        cert.sans.join(", ")
                    ));
                }
            }
            Err(err) => lines.push(format!("* {index:2} {err}")),
        }
    }
    lines.push(format!("* reproduce: {reproduce}"));
    lines
}

/// `openssl s_client` options that reach this endpoint's TLS.
pub fn openssl_command(ctx: &Ctx<'_>, extra: &str) -> String {
    let endpoint = ctx.endpoint();
    let starttls = if endpoint.role.implicit_tls() {
        ""
    } else {
        match endpoint.role.protocol() {
            Protocol::Smtp => " -starttls smtp",
            Protocol::Imap => " -starttls imap",
            Protocol::Pop3 => " -starttls pop3",
        }
    };
    let name = endpoint.server_name();
    // No SNI for an address (RFC 6066 §3): rustls sends none either.
    let sni = if name.parse::<std::net::IpAddr>().is_ok() {
        String::new()
    } else {
        format!(" -servername {name}")
    };
    format!(
        "openssl s_client -connect {}{starttls}{sni}{extra}",
        endpoint.addr()
    )
}

/// How a bad certificate is judged on this port: `fail` where clients must verify (587, 465,
/// 143, 993, 110, 995: RFC 8314), `warn` on 25, where TLS is opportunistic and senders do not
/// verify (RFC 7672 §1.3, DANE aside).
pub fn bad_certificate(role: Role, message: String) -> Verdict {
    if role.opportunistic_tls() {
        Verdict::warn(format!("{message}{OPPORTUNISTIC}"))
    } else {
        Verdict::fail(message)
    }
}

/// What [`bad_certificate`] adds on port 25, where the certificate policy may change it.
pub(crate) const OPPORTUNISTIC: &str =
    " (port 25: opportunistic TLS, senders do not verify certificates; RFC 7672 §1.3)";

/// What the endpoint's shared handshake showed, for the certificate checks.
pub enum Observed<'a> {
    Tls(&'a TlsObservation),
    /// Not for `tls.*` to report: no TLS is offered here (or the port is closed).
    NoTls,
    /// TLS was attempted and the handshake failed: the reason, with the dialog.
    HandshakeFailed(ProbeError, Vec<String>),
    /// We could not tell (timeout, refused greeting, broken dialog).
    Unknown(OpenFailure),
}

/// Classifies the endpoint's handshake as the `tls.*` checks need it.
pub async fn observe<'c>(ctx: &'c Ctx<'_>) -> Observed<'c> {
    match ctx.tls().await {
        Ok(observation) => Observed::Tls(observation),
        Err(failure) => classify(failure),
    }
}

pub fn classify<'a>(failure: OpenFailure) -> Observed<'a> {
    match failure.kind {
        OpenFailureKind::Unreachable(ProbeError::Refused)
        | OpenFailureKind::StartTlsNotOffered
        | OpenFailureKind::StartTlsRefused(_) => Observed::NoTls,
        OpenFailureKind::ImplicitTls(ref err) | OpenFailureKind::StartTlsHandshake(ref err)
            if !err.is_timeout() =>
        {
            Observed::HandshakeFailed(err.clone(), failure.evidence)
        }
        _ => Observed::Unknown(failure),
    }
}

/// How the raw probes reach this endpoint's TLS: the protocol's own opener, or implicit TLS.
pub fn opener(ctx: &Ctx<'_>) -> Opener {
    let endpoint = ctx.endpoint();
    if endpoint.role.implicit_tls() {
        return Opener::Implicit;
    }
    match endpoint.role.protocol() {
        Protocol::Smtp => Opener::Smtp(ctx.open_options()),
        Protocol::Imap => Opener::Imap(crate::check::mailbox::imap_options(ctx, false)),
        Protocol::Pop3 => Opener::Pop3(crate::check::mailbox::pop3_options(ctx, false)),
    }
}

/// The endpoint's raw handshake offering TLS 1.1 and below, with the chain after an
/// accepting ServerHello: done once, for `tls.protocol.min` and, when no TLS 1.2/1.3
/// handshake succeeds, the `tls.cert.*` checks.
pub async fn legacy_handshake<'c>(ctx: &'c Ctx<'_>) -> &'c Result<LegacyProbe, OpenFailure> {
    let endpoint = ctx.endpoint();
    ctx.state
        .legacy_tls
        .get_or_init(|| async {
            let opener = opener(ctx);
            let name = endpoint.server_name();
            ctx.gate(probe(
                endpoint.addr(),
                &opener,
                &name,
                LegacyVersion::Tls11,
                ctx.net,
                true,
            ))
            .await
        })
        .await
}

/// For the checks that need a completed handshake: the observation, or the verdict to give
/// instead (no result without TLS; `error` when the handshake failed or we could not tell).
/// A server that speaks only TLS 1.0/1.1 is judged on the chain of its legacy handshake.
pub async fn handshake<'c>(ctx: &'c Ctx<'_>) -> Result<&'c TlsObservation, Verdict> {
    match observe(ctx).await {
        Observed::Tls(observation) => Ok(observation),
        Observed::NoTls => Err(Verdict::omitted()),
        Observed::HandshakeFailed(err, evidence) => {
            let legacy = legacy_handshake(ctx).await;
            if let Ok(LegacyProbe {
                handshake: Some(Ok(observation)),
                ..
            }) = legacy
            {
                return Ok(observation);
            }
            let why = match legacy {
                Ok(LegacyProbe {
                    handshake: Some(Err(why)),
                    ..
                }) => format!("a TLS 1.1-or-older handshake gave no chain: {why}"),
                Ok(LegacyProbe {
                    outcome: Outcome::Refused(how) | Outcome::Unknown(how),
                    ..
                }) => format!("nor a TLS 1.1-or-older one: {how}"),
                Ok(_) => "nor a TLS 1.1-or-older one".into(),
                Err(failure) => format!("nor a TLS 1.1-or-older one: {}", failure.kind.describe()),
            };
            let mut lines = evidence;
            if let Ok(probe) = legacy {
                lines.extend(probe.evidence.iter().cloned());
            }
            Err(Verdict::error(format!(
                "the TLS 1.2/1.3 handshake failed ({err}), {why}: no certificate to judge"
            ))
            .with_evidence(lines))
        }
        Observed::Unknown(failure) => Err(Verdict::error(format!(
            "port {}: {}",
            ctx.endpoint().port,
            failure.kind.describe()
        ))
        .with_evidence(failure.evidence)),
    }
}

/// The frame of the `tls.cert.*` checks: the endpoint's handshake (or the verdict to give
/// instead, see [`handshake`]), the check's judgement of it, and as evidence the handshake with
/// the `openssl s_client` line (`openssl_extra` appended) that shows the same.
pub async fn judge_handshake(
    ctx: &Ctx<'_>,
    openssl_extra: &str,
    judge: impl FnOnce(&TlsObservation) -> Verdict,
) -> Verdict {
    let observation = match handshake(ctx).await {
        Ok(observation) => observation,
        Err(verdict) => return verdict,
    };
    // A chain from a legacy handshake: openssl must offer what that handshake did.
    let legacy = match observation.info.version.as_str() {
        "TLSv1" => " -tls1 -cipher 'DEFAULT:@SECLEVEL=0'",
        "TLSv1.1" => " -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'",
        _ => "",
    };
    let command = openssl_command(ctx, &format!("{openssl_extra}{legacy}"));
    judge(observation).with_evidence(evidence(observation, &command))
}

/// Said when the handshake completed without a certificate to judge.
pub const NO_CERTIFICATE: &str = "the server presented no certificate";

/// The facts of the server's own certificate (the first presented), or the `error` verdict
/// when there is none or it cannot be read.
pub fn leaf_facts(observation: &TlsObservation) -> Result<CertFacts, Verdict> {
    match observation.info.chain.first().map(facts) {
        Some(Ok(cert)) => Ok(cert),
        Some(Err(err)) => Err(Verdict::error(err)),
        None => Err(Verdict::error(NO_CERTIFICATE)),
    }
}

/// What chain verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainResult {
    /// The chain leads to a trust anchor (named by where it came from).
    Trusted { anchor: String },
    /// It does, but only within the certificates' validity period: at the time of the check
    /// a certificate has expired or is not valid yet (`tls.cert.expiry` reports that).
    TrustedOutsideValidity { anchor: String, problem: String },
    /// It does not: why, in words.
    Untrusted(String),
}

/// Verifies `chain` (leaf first, as presented) for TLS server use at `now`, without looking at
/// the name (that is `tls.cert.hostname`'s job).
pub fn verify_chain(
    chain: &[CertificateDer<'static>],
    store: &TrustStore,
    now: i64,
) -> ChainResult {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return ChainResult::Untrusted(NO_CERTIFICATE.into());
    };
    let cert = match webpki::EndEntityCert::try_from(leaf) {
        Ok(cert) => cert,
        Err(err) => {
            return ChainResult::Untrusted(format!("the certificate is malformed ({err:?})"));
        }
    };
    let at = |time: i64| {
        cert.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &store.anchors,
            intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(time.max(0) as u64)),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map(|path| store.describe_source(path.anchor().subject.as_ref()))
    };
    match at(now) {
        Ok(anchor) => ChainResult::Trusted { anchor },
        Err(err @ (webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. })) => {
            // Judge the chain itself at a moment when the leaf was valid.
            let inside = facts(leaf)
                .map(|f| now.clamp(f.not_before, f.not_after))
                .unwrap_or(now);
            match at(inside) {
                Ok(anchor) => ChainResult::TrustedOutsideValidity {
                    anchor,
                    problem: describe_webpki(&err),
                },
                Err(again) => ChainResult::Untrusted(describe_webpki(&again)),
            }
        }
        Err(err) => ChainResult::Untrusted(describe_webpki(&err)),
    }
}

/// webpki's errors in words a mail admin reads.
fn describe_webpki(err: &webpki::Error) -> String {
    match err {
        webpki::Error::UnknownIssuer => {
            "no chain to a trusted root: the issuer is unknown (self-signed, a private CA, or a missing intermediate certificate)".into()
        }
        webpki::Error::CertExpired { .. } => "a certificate of the chain has expired".into(),
        webpki::Error::CertNotValidYet { .. } => "a certificate of the chain is not valid yet".into(),
        webpki::Error::CaUsedAsEndEntity => "the server presents a CA certificate as its own".into(),
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "the certificate is not issued for TLS servers (extended key usage serverAuth missing)".into()
        }
        webpki::Error::InvalidSignatureForPublicKey => "a signature in the chain does not verify".into(),
        webpki::Error::UnsupportedSignatureAlgorithmContext(_)
        | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "the chain uses a signature algorithm no longer accepted (e.g. SHA-1)".into()
        }
        other => format!("the chain does not verify ({other:?})"),
    }
}

/// Whether the leaf is valid for `name` (subjectAltName only, as browsers and RFC 6125 do).
pub fn verify_name(leaf: &CertificateDer<'_>, name: &str) -> Result<(), String> {
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|_| format!("{name:?} is not a host name or address"))?;
    let cert = webpki::EndEntityCert::try_from(leaf)
        .map_err(|e| format!("the certificate is malformed ({e:?})"))?;
    cert.verify_is_valid_for_subject_name(&server_name)
        .map_err(|err| match err {
            webpki::Error::CertNotValidForName(_) => {
                format!("the certificate is not valid for {name}")
            }
            other => format!("the name check failed ({other:?})"),
        })
}

#[cfg(test)]
pub(crate) mod test_certs {
    //! Certificates made on the fly with rcgen for the judgement tests.

    use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use rustls_pki_types::CertificateDer;

    pub struct Ca {
        pub pem: String,
        issuer: Issuer<'static, KeyPair>,
    }

    pub fn ca() -> Ca {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "test CA");
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names` valid from `from` to `until` (unix seconds),
    /// signed by `ca` or self-signed.
    pub fn leaf(
        names: &[&str],
        from: i64,
        until: i64,
        ca: Option<&Ca>,
        alg: &'static rcgen::SignatureAlgorithm,
    ) -> CertificateDer<'static> {
        let key = KeyPair::generate_for(alg).unwrap();
        // rcgen makes an IP SAN of a name that parses as an address.
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().copied().unwrap_or("x"));
        params.not_before = time::OffsetDateTime::from_unix_timestamp(from).unwrap();
        params.not_after = time::OffsetDateTime::from_unix_timestamp(until).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = match ca {
            Some(ca) => params.signed_by(&key, &ca.issuer).unwrap(),
            None => params.self_signed(&key).unwrap(),
        };
        cert.der().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::test_certs::{ca, leaf};
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn facts_read_subject_sans_dates_and_key() {
        let now = now();
        let der = leaf(
            &["mail.ref.test", "127.0.100.10"],
            now - DAY,
            now + 90 * DAY,
            None,
            &rcgen::PKCS_ECDSA_P256_SHA256,
        );
        let cert = facts(&der).unwrap();
        assert_eq!(cert.subject, "CN=mail.ref.test");
        assert!(cert.self_signed());
        assert_eq!(cert.sans, ["DNS:mail.ref.test", "IP Address:127.0.100.10"]);
        assert_eq!(cert.not_after, now + 90 * DAY);
        assert!(
            matches!(&cert.key, KeyFacts::Ec { bits: 256, curve } if curve == "prime256v1"),
            "{:?}",
            cert.key
        );
        assert_eq!(cert.signature, "ecdsa-with-SHA256");
        assert!(facts(&CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])).is_err());
    }

    #[test]
    fn openssl_dates() {
        assert_eq!(openssl_date(0), "Jan  1 00:00:00 1970 GMT");
        assert_eq!(openssl_date(1_795_313_460), "Nov 22 02:11:00 2026 GMT");
    }

    #[test]
    fn chain_verification_with_and_without_the_private_ca() {
        let now = now();
        let authority = ca();
        let der = leaf(
            &["mail.ref.test"],
            now - DAY,
            now + 90 * DAY,
            Some(&authority),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        );
        let chain = vec![der];
        assert!(matches!(
            verify_chain(&chain, &TrustStore::webpki(), now),
            ChainResult::Untrusted(why) if why.contains("issuer is unknown")
        ));
        let store = TrustStore::with_pem(authority.pem.as_bytes(), Some("ca.pem".into())).unwrap();
        assert_eq!(store.extra_count(), 1);
        assert!(matches!(
            verify_chain(&chain, &store, now),
            ChainResult::Trusted { anchor } if anchor.contains("--ca-file ca.pem")
        ));
        // A self-signed leaf is not made trusted by an unrelated CA.
        let own = vec![leaf(
            &["mail.ref.test"],
            now - DAY,
            now + DAY,
            None,
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )];
        assert!(matches!(
            verify_chain(&own, &store, now),
            ChainResult::Untrusted(_)
        ));
        assert!(matches!(
            verify_chain(&[], &store, now),
            ChainResult::Untrusted(_)
        ));
    }

    #[test]
    fn an_expired_chain_is_still_judged_on_its_issuer() {
        let now = now();
        let authority = ca();
        let store = TrustStore::with_pem(authority.pem.as_bytes(), None).unwrap();
        let expired = vec![leaf(
            &["mail.weak.test"],
            now - 400 * DAY,
            now - 30 * DAY,
            Some(&authority),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )];
        assert!(matches!(
            verify_chain(&expired, &store, now),
            ChainResult::TrustedOutsideValidity { problem, .. } if problem.contains("expired")
        ));
        assert!(matches!(
            verify_chain(&expired, &TrustStore::webpki(), now),
            ChainResult::Untrusted(_)
        ));
    }

    #[test]
    fn names_are_matched_against_sans() {
        let now = now();
        let der = leaf(
            &["mail.ref.test", "127.0.100.10"],
            now - DAY,
            now + DAY,
            None,
            &rcgen::PKCS_ECDSA_P256_SHA256,
        );
        assert!(verify_name(&der, "mail.ref.test").is_ok());
        assert!(verify_name(&der, "MAIL.REF.TEST").is_ok());
        assert!(verify_name(&der, "127.0.100.10").is_ok());
        assert!(
            verify_name(&der, "mail.weak.test")
                .unwrap_err()
                .contains("not valid for")
        );
        assert!(verify_name(&der, "127.0.100.20").is_err());
        let wildcard = leaf(
            &["*.ref.test"],
            now - DAY,
            now + DAY,
            None,
            &rcgen::PKCS_ED25519,
        );
        assert!(verify_name(&wildcard, "mail.ref.test").is_ok());
        assert!(verify_name(&wildcard, "a.mail.ref.test").is_err());
    }

    #[test]
    fn ca_file_errors_are_clear() {
        assert!(
            TrustStore::with_pem(b"not a certificate", None)
                .unwrap_err()
                .contains("no PEM certificate")
        );
        assert!(
            TrustStore::with_ca_file(Path::new("/nonexistent/ca.pem"))
                .unwrap_err()
                .contains("cannot read")
        );
    }

    #[test]
    fn the_leaf_is_read_or_the_error_says_why() {
        let now = now();
        let mut observation = TlsObservation {
            info: crate::probe::tls::TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "TLS13_AES_128_GCM_SHA256".into(),
                server_name: "mail.ref.test".into(),
                chain: vec![leaf(
                    &["mail.ref.test"],
                    now - DAY,
                    now + DAY,
                    None,
                    &rcgen::PKCS_ECDSA_P256_SHA256,
                )],
            },
            evidence: vec![],
        };
        assert_eq!(
            leaf_facts(&observation).unwrap().subject,
            "CN=mail.ref.test"
        );
        observation.info.chain[0] = CertificateDer::from(vec![0x30, 0x03, 1, 2, 3]);
        let unreadable = leaf_facts(&observation).unwrap_err();
        assert_eq!(unreadable.status, crate::outcome::Status::Error);
        assert!(unreadable.message.contains("cannot be parsed"));
        observation.info.chain.clear();
        assert_eq!(
            leaf_facts(&observation).unwrap_err().message,
            NO_CERTIFICATE
        );
    }

    #[test]
    fn policy_follows_the_port_role() {
        assert_eq!(
            bad_certificate(Role::Mx, "x".into()).status,
            crate::outcome::Status::Warn
        );
        for role in [
            Role::Submission,
            Role::Smtps,
            Role::Imap,
            Role::Imaps,
            Role::Pop3,
            Role::Pop3s,
        ] {
            assert_eq!(
                bad_certificate(role, "x".into()).status,
                crate::outcome::Status::Fail
            );
        }
    }

    #[test]
    fn classification_of_failed_openings() {
        let failure = |kind| OpenFailure {
            kind,
            evidence: vec![],
        };
        assert!(matches!(
            classify(failure(OpenFailureKind::Unreachable(ProbeError::Refused))),
            Observed::NoTls
        ));
        assert!(matches!(
            classify(failure(OpenFailureKind::StartTlsNotOffered)),
            Observed::NoTls
        ));
        assert!(matches!(
            classify(failure(OpenFailureKind::StartTlsHandshake(
                ProbeError::Tls("peer is incompatible".into())
            ))),
            Observed::HandshakeFailed(..)
        ));
        let timeout = ProbeError::Timeout {
            during: "TLS handshake".into(),
            after: std::time::Duration::from_secs(1),
        };
        assert!(matches!(
            classify(failure(OpenFailureKind::ImplicitTls(timeout))),
            Observed::Unknown(_)
        ));
        assert!(matches!(
            classify(failure(OpenFailureKind::NoGreeting(ProbeError::Closed))),
            Observed::Unknown(_)
        ));
    }
}
