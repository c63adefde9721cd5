//! Authenticated message submission for the end-to-end checks, through lettre.
//!
//! Unlike the probes, this is ordinary sending, which lettre does well: STARTTLS (or implicit
//! TLS), SASL, MAIL/RCPT/DATA. Each step is written to a [`Transcript`] with the password
//! redacted, since lettre keeps none.

use std::net::SocketAddr;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use lettre::{Address, address::Envelope};

use super::transcript::Transcript;

/// Where and how to submit.
#[derive(Clone, Debug)]
pub struct Submission {
    pub addr: SocketAddr,
    /// Host name for SNI.
    pub server_name: String,
    /// 465: TLS from the first byte; otherwise STARTTLS, required.
    pub implicit_tls: bool,
    pub bind: Option<std::net::IpAddr>,
    pub timeout: Duration,
    /// `None`: submit without authenticating (port 25, inbound mail).
    pub login: Option<(String, String)>,
    pub helo_name: String,
    pub from: String,
    pub to: String,
}

/// Why a submission did not go through.
#[derive(Clone, Debug)]
pub struct NotSent {
    pub reason: String,
    /// The server said no for good (a 5xx): a finding. Otherwise (4xx, timeout, broken
    /// connection, TLS trouble) nobody can tell whether it would have worked.
    pub refused: bool,
}

impl NotSent {
    fn local(reason: String) -> NotSent {
        NotSent {
            reason,
            refused: false,
        }
    }

    fn smtp(step: &str, e: lettre::transport::smtp::Error) -> NotSent {
        NotSent {
            reason: format!("{step}: {e}"),
            refused: e.is_permanent(),
        }
    }
}

/// What happened, step by step: the final reply on success, the reason otherwise.
pub struct Submitted {
    pub transcript: Transcript,
    pub result: Result<String, NotSent>,
    /// When the server accepted the message (its final reply to DATA).
    pub accepted_at: Option<std::time::Instant>,
    /// Whether the session was upgraded with STARTTLS.
    pub starttls: bool,
}

fn summary(response: &Response) -> String {
    let text: Vec<&str> = response.message().collect();
    format!("{} {}", response.code(), text.join(" "))
}

fn tls(server_name: &str) -> Result<TlsParameters, NotSent> {
    // Certificates are judged by the tls.* checks; here the question is whether mail flows.
    TlsParameters::builder(server_name.to_string())
        .dangerous_accept_invalid_certs(true)
        .dangerous_accept_invalid_hostnames(true)
        .build_rustls()
        .map_err(|e| NotSent::local(format!("cannot set up TLS: {e}")))
}

/// Submits `message` (a complete RFC 5322 message) and reports every step.
pub async fn submit(request: &Submission, message: &[u8]) -> Submitted {
    let mut transcript = Transcript::default();
    let result = tokio::time::timeout(
        request.timeout * 4,
        steps(request, message, &mut transcript),
    )
    .await
    .unwrap_or_else(|_| {
        Err(NotSent::local(format!(
            "submission did not finish within {} s",
            (request.timeout * 4).as_secs()
        )))
    });
    if let Err(not_sent) = &result {
        transcript.note(&not_sent.reason);
    }
    let accepted_at = result.is_ok().then(std::time::Instant::now);
    let starttls = transcript.lines().iter().any(|l| l == "C: STARTTLS");
    Submitted {
        transcript,
        result,
        accepted_at,
        starttls,
    }
}

async fn steps(
    request: &Submission,
    message: &[u8],
    transcript: &mut Transcript,
) -> Result<String, NotSent> {
    let hello = ClientId::Domain(request.helo_name.clone());
    let implicit = if request.implicit_tls {
        Some(tls(&request.server_name)?)
    } else {
        None
    };
    transcript.note(&format!(
        "connecting to {}{} (lettre; certificate not verified here)",
        request.addr,
        if request.implicit_tls {
            " with implicit TLS"
        } else {
            ""
        }
    ));
    let mut connection = AsyncSmtpConnection::connect_tokio1(
        request.addr,
        Some(request.timeout),
        &hello,
        implicit,
        request.bind,
    )
    .await
    .map_err(|e| NotSent::smtp("cannot open the session", e))?;
    transcript.server(&format!(
        "250 {} (EHLO answered)",
        connection.server_info().name()
    ));
    // Authenticated submission requires TLS; an MTA delivering mail uses it when offered.
    if !request.implicit_tls && (request.login.is_some() || connection.can_starttls()) {
        transcript.client("STARTTLS");
        connection
            .starttls(tls(&request.server_name)?, &hello)
            .await
            .map_err(|e| NotSent::smtp("STARTTLS failed", e))?;
        transcript.note("TLS established, EHLO sent again");
    }
    if let Some((user, password)) = &request.login {
        transcript.client_redacted(&format!("AUTH PLAIN <redacted: {user}>"));
        let credentials = Credentials::new(user.clone(), password.clone());
        match connection
            .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
            .await
        {
            Ok(response) => transcript.server(&summary(&response)),
            Err(e) => return Err(NotSent::smtp("authentication failed", e)),
        }
    }
    // An empty sender is the null reverse-path `MAIL FROM:<>` (RFC 5321 §4.5.5), not an
    // address to parse.
    let from: Option<Address> = match request.from.as_str() {
        "" => None,
        from => Some(
            from.parse()
                .map_err(|e| NotSent::local(format!("bad sender {from}: {e}")))?,
        ),
    };
    let to: Address = request
        .to
        .parse()
        .map_err(|e| NotSent::local(format!("bad recipient {}: {e}", request.to)))?;
    let envelope =
        Envelope::new(from, vec![to]).map_err(|e| NotSent::local(format!("bad envelope: {e}")))?;
    transcript.client(&format!(
        "MAIL FROM:<{}> RCPT TO:<{}> DATA ({} bytes)",
        request.from,
        request.to,
        message.len()
    ));
    let response = connection
        .send(&envelope, message)
        .await
        .map_err(|e| NotSent::smtp("the message was not accepted", e))?;
    let accepted = summary(&response);
    transcript.server(&accepted);
    transcript.client("QUIT");
    let _ = connection.quit().await;
    Ok(accepted)
}
