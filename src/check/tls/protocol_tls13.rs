//! `tls.protocol.tls13`: the server negotiates TLS 1.3 (warn when only TLS 1.2).

use crate::check::tls::{Observed, evidence, observe, openssl_command};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::ProbeError;

pub struct ProtocolTls13;

static INFO: CheckInfo = CheckInfo {
    id: "tls.protocol.tls13",
    title: "TLS 1.3 is negotiated",
    category: Category::Tls,
    severity: Severity::Low,
    scope: Scope::Endpoints {
        roles: &Role::TLS,
        stage: Stage::Own,
    },
    what: "Offers TLS 1.3 and 1.2 (as current clients do) and reads what the server picks: \
           TLS 1.3 passes, TLS 1.2 warns, a server that refuses both fails.",
    why: "TLS 1.3 (RFC 8446) removes the legacy ciphers and renegotiation of 1.2, encrypts more \
          of the handshake and saves a round trip; every maintained OpenSSL offers it.",
    fix: "Postfix and Dovecot negotiate TLS 1.3 by themselves with OpenSSL >= 1.1.1: make sure \
          it is not excluded (`smtpd_tls_protocols` / `smtpd_tls_mandatory_protocols` without \
          `!TLSv1.3`, e.g. `>=TLSv1.2`; Dovecot `ssl_min_protocol = TLSv1.2` and no \
          `ssl_max_protocol`), then update OpenSSL if the server still stops at 1.2.",
    opt_in: false,
    title_fr: Some("TLS 1.3 est négocié"),
    fix_fr: Some(
        "Postfix et Dovecot négocient TLS 1.3 d'eux-mêmes avec OpenSSL >= 1.1.1 : \
                  vérifiez qu'il n'est pas exclu (`smtpd_tls_protocols` / \
                  `smtpd_tls_mandatory_protocols` sans `!TLSv1.3`, par exemple `>=TLSv1.2` ; \
                  Dovecot `ssl_min_protocol = TLSv1.2` et pas de `ssl_max_protocol`), puis mettez \
                  OpenSSL à jour si le serveur s'arrête encore à 1.2.",
    ),
};

pub fn judge(version: &str, cipher: &str) -> Verdict {
    match version {
        "TLSv1.3" => Verdict::pass(format!("TLS 1.3 negotiated ({cipher})")),
        "TLSv1.2" => Verdict::warn(format!(
            "only TLS 1.2 negotiated ({cipher}) although TLS 1.3 was offered"
        )),
        other => Verdict::fail(format!("{other} negotiated ({cipher})")),
    }
}

/// A failed TLS 1.2/1.3 handshake: a server that answered with an alert or an older version
/// refuses both (fail); anything else leaves us unable to tell (error).
pub fn judge_handshake_failure(err: &ProbeError) -> Verdict {
    let text = err.to_string();
    if text.contains("received fatal alert") || text.contains("peer is incompatible") {
        Verdict::fail(format!(
            "the server refused a TLS 1.3/1.2 handshake ({text}): it speaks neither (only TLS 1.0/1.1? see tls.protocol.min)"
        ))
    } else {
        Verdict::error(format!("the TLS handshake failed ({text})"))
    }
}

#[async_trait::async_trait]
impl Check for ProtocolTls13 {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let command = openssl_command(ctx, " -brief");
        match observe(ctx).await {
            Observed::Tls(observation) => {
                judge(&observation.info.version, &observation.info.cipher)
                    .with_evidence(evidence(observation, &command))
            }
            Observed::NoTls => Verdict::omitted(),
            Observed::HandshakeFailed(err, evidence) => judge_handshake_failure(&err)
                .with_evidence(evidence)
                .with_evidence([format!("* reproduce: {command}")]),
            Observed::Unknown(failure) => Verdict::error(format!(
                "port {}: {}",
                ctx.endpoint().port,
                failure.kind.describe()
            ))
            .with_evidence(failure.evidence),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;

    #[test]
    fn versions() {
        assert_eq!(
            judge("TLSv1.3", "TLS13_AES_256_GCM_SHA384").status,
            Status::Pass
        );
        let only12 = judge("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(only12.status, Status::Warn);
        assert!(only12.message.contains("TLS 1.2"));
        assert_eq!(judge("unknown", "x").status, Status::Fail);
    }

    #[test]
    fn refusals_fail_other_failures_are_unknown() {
        let alert = ProbeError::Tls("received fatal alert: HandshakeFailure".into());
        assert_eq!(judge_handshake_failure(&alert).status, Status::Fail);
        let old = ProbeError::Tls("peer is incompatible: ServerDoesNotSupportTls12Or13".into());
        assert_eq!(judge_handshake_failure(&old).status, Status::Fail);
        let eof = ProbeError::Tls("tls handshake eof".into());
        assert_eq!(judge_handshake_failure(&eof).status, Status::Error);
    }
}
