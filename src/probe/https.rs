//! One HTTPS GET of a small resource (the MTA-STS policy, RFC 8461 §3.3), recorded.
//!
//! hyper's connection-level HTTP/1.1 client runs over a connection we make ourselves: the host
//! is resolved through the run's [`Dns`] (`--resolver`), the TCP connection honours `--bind`,
//! and tokio-rustls verifies the certificate for the host name (SNI) against the run's trust
//! anchors. Nothing is followed (a redirect is returned as such, with its `Location`), every
//! step is bounded by `--timeout`, and the body is read frame by frame up to a cap: reading
//! stops there, so a server sending megabytes or never ending costs at most the cap.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, LOCATION, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsConnector;

use super::dns::{Answer, Dns};
use super::net::{NetOptions, connect};

/// Most addresses of the host tried, one after the other, when connecting fails.
const MAX_ADDRESSES: usize = 3;
/// Most body lines copied into the evidence, and most characters of each.
const MAX_SHOWN_LINES: usize = 40;
const MAX_SHOWN_CHARS: usize = 200;

/// What to fetch.
pub struct Request<'a> {
    /// Resolved, sent in SNI and `Host`, and matched against the certificate.
    pub host: &'a str,
    pub port: u16,
    /// Origin-form path (`/.well-known/mta-sts.txt`).
    pub path: &'a str,
    /// Most body bytes read.
    pub max_body: usize,
    /// Verifying client configuration (trust anchors).
    pub tls: Arc<ClientConfig>,
}

/// A response, as far as it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub addr: SocketAddr,
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    /// At most `max_body` bytes.
    pub body: Vec<u8>,
    /// The body went on past `max_body` (or said so in its `Content-Length`): reading stopped.
    pub truncated: bool,
}

/// Why there is no response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The host has no address (or the look-up failed).
    #[error("{0}")]
    Resolve(String),
    #[error("cannot connect to {addr}: {why}")]
    Connect { addr: SocketAddr, why: String },
    /// The certificate does not verify for the host name.
    #[error("the certificate of {host} does not verify: {why}")]
    Certificate { host: String, why: String },
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("no answer within {} s during {during}", after.as_secs_f64())]
    Timeout {
        during: &'static str,
        after: Duration,
    },
    /// The server broke HTTP (garbage, closed before a response, an over-long header).
    #[error("HTTP failed: {0}")]
    Http(String),
}

/// Fetches `request.path` from `request.host`; the evidence (DNS, connection, TLS, request,
/// response head and body lines) comes with the outcome either way.
pub async fn get(
    request: &Request<'_>,
    dns: &Dns,
    net: &NetOptions,
) -> (Result<Response, FetchError>, Vec<String>) {
    let mut evidence = Vec::new();
    let result = fetch(request, dns, net, &mut evidence).await;
    if let Err(err) = &result {
        evidence.push(format!("* {err}"));
    }
    (result, evidence)
}

async fn fetch(
    request: &Request<'_>,
    dns: &Dns,
    net: &NetOptions,
    evidence: &mut Vec<String>,
) -> Result<Response, FetchError> {
    let (answer, exchange) = dns.addresses(request.host).await;
    evidence.extend(exchange.lines);
    let addresses: Vec<IpAddr> = match answer {
        Answer::Records(ips) => ips,
        Answer::NxDomain => {
            return Err(FetchError::Resolve(format!(
                "{} does not exist (NXDOMAIN)",
                request.host
            )));
        }
        Answer::NoData => {
            return Err(FetchError::Resolve(format!(
                "{} has no A/AAAA record",
                request.host
            )));
        }
        Answer::Failed(why) => {
            return Err(FetchError::Resolve(format!(
                "cannot resolve {}: {why}",
                request.host
            )));
        }
    };
    let name = super::tls::server_name(request.host).map_err(|e| FetchError::Tls(e.to_string()))?;

    let mut last = None;
    let mut connected = None;
    for ip in addresses.into_iter().take(MAX_ADDRESSES) {
        let addr = SocketAddr::new(ip, request.port);
        evidence.push(format!("* connecting to {addr}"));
        match connect(addr, net).await {
            Ok(stream) => {
                connected = Some((addr, stream));
                break;
            }
            Err(err) => {
                let err = FetchError::Connect {
                    addr,
                    why: err.to_string(),
                };
                evidence.push(format!("* {err}"));
                last = Some(err);
            }
        }
    }
    let Some((addr, stream)) = connected else {
        // Already in the evidence: `get` would say it twice.
        let err = last.unwrap_or_else(|| FetchError::Resolve("no address".into()));
        evidence.pop();
        return Err(err);
    };

    let connector = TlsConnector::from(request.tls.clone());
    let tls = match timeout(net.timeout, connector.connect(name, stream)).await {
        Err(_) => {
            return Err(FetchError::Timeout {
                during: "the TLS handshake",
                after: net.timeout,
            });
        }
        Ok(Err(err)) => return Err(tls_error(request.host, &err)),
        Ok(Ok(tls)) => tls,
    };
    {
        let (_, session) = tls.get_ref();
        evidence.push(format!(
            "* TLS {} {}: the certificate verifies for {}",
            session
                .protocol_version()
                .and_then(|v| v.as_str())
                .unwrap_or("?"),
            session
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str())
                .unwrap_or("?"),
            request.host
        ));
    }

    let mut builder = hyper::client::conn::http1::Builder::new();
    // Bounds the response head (status line and headers) too.
    builder.max_buf_size(request.max_body.max(8192));
    let handshake = builder.handshake::<_, Empty<Bytes>>(TokioIo::new(tls));
    let (mut sender, connection) = match timeout(net.timeout, handshake).await {
        Err(_) => {
            return Err(FetchError::Timeout {
                during: "the HTTP handshake",
                after: net.timeout,
            });
        }
        Ok(Err(err)) => return Err(FetchError::Http(err.to_string())),
        Ok(Ok(pair)) => pair,
    };
    let driver = Abort(tokio::spawn(connection));

    let user_agent = concat!("mailcheck/", env!("CARGO_PKG_VERSION"));
    let http_request = hyper::Request::get(request.path)
        .header(HOST, request.host)
        .header(USER_AGENT, user_agent)
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::Http(e.to_string()))?;
    evidence.push(format!("C: GET {} HTTP/1.1", request.path));
    evidence.push(format!("C: Host: {}", request.host));
    let response = match timeout(net.timeout, sender.send_request(http_request)).await {
        Err(_) => {
            return Err(FetchError::Timeout {
                during: "the response headers",
                after: net.timeout,
            });
        }
        Ok(Err(err)) => return Err(FetchError::Http(describe_hyper(&err))),
        Ok(Ok(response)) => response,
    };
    let (head, mut body) = response.into_parts();
    let header = |name| {
        head.headers
            .get(name)
            .map(|v: &hyper::header::HeaderValue| {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            })
    };
    let content_type = header(CONTENT_TYPE);
    let location = header(LOCATION);
    let length = header(CONTENT_LENGTH);
    evidence.push(format!(
        "S: {:?} {} {}",
        head.version,
        head.status.as_u16(),
        head.status.canonical_reason().unwrap_or("")
    ));
    for (name, value) in [
        ("Content-Type", &content_type),
        ("Content-Length", &length),
        ("Location", &location),
    ] {
        if let Some(value) = value {
            evidence.push(format!("S: {name}: {}", shown(value)));
        }
    }

    let mut response = Response {
        addr,
        status: head.status.as_u16(),
        content_type,
        location,
        body: Vec::new(),
        truncated: false,
    };
    // A declared length over the cap is enough to know: nothing of it is read.
    if length
        .as_deref()
        .and_then(|l| l.trim().parse::<u64>().ok())
        .is_some_and(|l| l > request.max_body as u64)
    {
        response.truncated = true;
        evidence.push(format!(
            "* the body is larger than {} bytes: not read",
            request.max_body
        ));
        drop(driver);
        return Ok(response);
    }
    let deadline = Instant::now() + net.timeout;
    loop {
        let frame = match timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(FetchError::Timeout {
                    during: "the body",
                    after: net.timeout,
                });
            }
            Ok(None) => break,
            Ok(Some(Err(err))) => return Err(FetchError::Http(describe_hyper(&err))),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let room = request.max_body - response.body.len();
        if data.len() > room {
            response.body.extend_from_slice(&data[..room]);
            response.truncated = true;
            break;
        }
        response.body.extend_from_slice(&data);
    }
    drop(driver);
    let text = String::from_utf8_lossy(&response.body);
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(MAX_SHOWN_LINES) {
        evidence.push(format!("S: | {}", shown(line)));
    }
    if lines.len() > MAX_SHOWN_LINES {
        evidence.push(format!(
            "* ({} more body lines not shown)",
            lines.len() - MAX_SHOWN_LINES
        ));
    }
    if response.truncated {
        evidence.push(format!(
            "* the body goes on past {} bytes: reading stopped there",
            request.max_body
        ));
    } else {
        evidence.push(format!("* body: {} bytes", response.body.len()));
    }
    Ok(response)
}

/// The connection task, ended when the fetch is done (or abandoned).
struct Abort(tokio::task::JoinHandle<Result<(), hyper::Error>>);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A certificate the verifier refused, told apart from other handshake failures.
fn tls_error(host: &str, err: &std::io::Error) -> FetchError {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(why)) => FetchError::Certificate {
            host: host.to_string(),
            why: format!("{why:?}"),
        },
        Some(other) => FetchError::Tls(other.to_string()),
        None => FetchError::Tls(err.to_string()),
    }
}

/// hyper's error with its cause (`connection closed before message completed`, ...).
fn describe_hyper(err: &hyper::Error) -> String {
    match std::error::Error::source(err) {
        Some(cause) => format!("{err}: {cause}"),
        None => err.to_string(),
    }
}

/// A server's text as it may be shown: control characters escaped, length bounded.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_SHOWN_CHARS)
        .flat_map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > MAX_SHOWN_CHARS {
        out.push('…');
    }
    out
}

/// A client configuration that verifies server certificates against `anchors` (webpki roots
/// plus `--ca-file`), with the provider every TLS use of mailcheck shares.
pub fn verifying_config(anchors: rustls::RootCertStore) -> Arc<ClientConfig> {
    let config = ClientConfig::builder_with_provider(super::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(anchors)
        .with_no_client_auth();
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_escaped_and_bounded() {
        assert_eq!(shown("mode: enforce\r"), "mode: enforce\\r");
        assert_eq!(shown("a\u{1b}[31m"), "a\\u{1b}[31m");
        let long = "x".repeat(500);
        assert_eq!(shown(&long).chars().count(), MAX_SHOWN_CHARS + 1);
    }
}
