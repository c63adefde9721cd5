//! TLS client handshakes that complete whatever the certificate, recording what was offered.
//!
//! Checks judge certificates later (`tls.*`), so the handshake itself must not refuse a bad
//! chain: the verifier here accepts any certificate but still checks the handshake signature,
//! and keeps the peer's chain, protocol version and cipher suite for the evidence.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::ProbeError;

/// What a completed handshake showed.
#[derive(Clone, Debug)]
pub struct TlsInfo {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// IANA name of the negotiated suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// The server name sent in SNI (or the address when the host has no name).
    pub server_name: String,
    /// The peer's chain, leaf first, as sent.
    pub chain: Vec<CertificateDer<'static>>,
}

impl TlsInfo {
    /// One line for transcripts.
    pub fn describe(&self) -> String {
        format!(
            "TLS handshake complete: {} {} (server name {}, {} certificate(s) presented)",
            self.version,
            self.cipher,
            self.server_name,
            self.chain.len()
        )
    }
}

#[derive(Debug)]
struct RecordingVerifier(Arc<CryptoProvider>);

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The chain is judged by the tls.* checks from TlsInfo::chain, not here.
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The provider every TLS use of mailcheck shares.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

fn recording_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = provider();
            let config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(RecordingVerifier(provider)))
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// The name to send in SNI: the host name when known, else the address.
pub fn server_name(name: &str) -> Result<ServerName<'static>, ProbeError> {
    ServerName::try_from(name.to_string())
        .map_err(|_| ProbeError::Tls(format!("{name:?} is not a valid TLS server name")))
}

/// Runs a client handshake over `stream`, bounded by `timeout`.
pub async fn handshake<S>(
    stream: S,
    name: &str,
    timeout: std::time::Duration,
) -> Result<(TlsStream<S>, TlsInfo), ProbeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let connector = TlsConnector::from(recording_config());
    let server = server_name(name)?;
    let tls = match tokio::time::timeout(timeout, connector.connect(server, stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(err)) => return Err(ProbeError::Tls(err.to_string())),
        Err(_) => {
            return Err(ProbeError::Timeout {
                during: "TLS handshake".into(),
                after: timeout,
            });
        }
    };
    let (_, connection) = tls.get_ref();
    let info = TlsInfo {
        version: connection
            .protocol_version()
            .map(|v| v.as_str().unwrap_or("unknown").replace("TLSv1_", "TLSv1."))
            .unwrap_or_else(|| "unknown".into()),
        cipher: connection
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("unknown")
            .to_string(),
        server_name: name.to_string(),
        chain: connection
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default(),
    };
    Ok((tls, info))
}

/// A completed handshake as a client would do it on one endpoint, with the dialog that led
/// to it: what the `tls.*` checks judge.
#[derive(Clone, Debug)]
pub struct TlsObservation {
    pub info: TlsInfo,
    pub evidence: Vec<String>,
}

impl TlsObservation {
    /// From an opened session's TLS state and transcript; a session without TLS is a bug of
    /// the caller, reported as a broken opening rather than a panic.
    pub fn of(
        info: Option<&TlsInfo>,
        evidence: Vec<String>,
    ) -> Result<TlsObservation, super::failure::OpenFailure> {
        match info {
            Some(info) => Ok(TlsObservation {
                info: info.clone(),
                evidence,
            }),
            None => Err(super::failure::OpenFailure {
                kind: super::failure::OpenFailureKind::Broken(ProbeError::Tls(
                    "no TLS on this session".into(),
                )),
                evidence,
            }),
        }
    }
}
