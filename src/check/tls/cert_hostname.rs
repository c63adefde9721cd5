//! `tls.cert.hostname`: the certificate is valid for the host name checked.

use crate::check::tls::{NO_CERTIFICATE, bad_certificate, facts, judge_handshake, verify_name};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::tls::TlsObservation;

pub struct CertHostname;

static INFO: CheckInfo = CheckInfo {
    id: "tls.cert.hostname",
    title: "Certificate matches the host name",
    category: Category::Tls,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &Role::TLS,
        stage: Stage::Own,
    },
    what: "Matches the host name as given (the target, or the MX host it led to; the address \
           when the target is one) against the certificate's subjectAltName entries, wildcards \
           included (RFC 6125; the subject CN is not used, as in browsers). Port 25: warn; \
           other ports: fail.",
    why: "A certificate for another name is what an interception looks like: clients that verify \
          refuse it, and users learn to accept warnings.",
    fix: "Request the certificate for the name clients use (e.g. `certbot certonly -d \
          mail.example.com`) and point Postfix (`smtpd_tls_chain_files`, or \
          `smtpd_tls_cert_file`/`smtpd_tls_key_file`) and Dovecot (`ssl_cert`, `ssl_key`) at \
          it; the MX record and the clients' settings must use that same name.",
    opt_in: false,
    title_fr: Some("Le certificat correspond au nom d'hôte"),
    fix_fr: Some(
        "Demandez le certificat pour le nom qu'utilisent les clients (par exemple \
                  `certbot certonly -d mail.example.com`) et faites-y pointer Postfix \
                  (`smtpd_tls_chain_files`, ou `smtpd_tls_cert_file`/`smtpd_tls_key_file`) et \
                  Dovecot (`ssl_cert`, `ssl_key`) ; l'enregistrement MX et les réglages des \
                  clients doivent utiliser ce même nom.",
    ),
};

pub fn judge(role: Role, observation: &TlsObservation, name: &str) -> Verdict {
    let Some(leaf) = observation.info.chain.first() else {
        return Verdict::error(NO_CERTIFICATE);
    };
    let names = facts(leaf)
        .map(|f| {
            if f.sans.is_empty() {
                format!("no subjectAltName (subject {})", f.subject)
            } else {
                f.sans.join(", ")
            }
        })
        .unwrap_or_else(|e| e);
    match verify_name(leaf, name) {
        Ok(()) => Verdict::pass(format!("valid for {name}: {names}")),
        Err(why) => bad_certificate(role, format!("{why}: it names {names}")),
    }
}

#[async_trait::async_trait]
impl Check for CertHostname {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let (role, name) = (ctx.endpoint().role, ctx.endpoint().server_name());
        let verdict = judge_handshake(ctx, &format!(" -verify_hostname {name}"), |observation| {
            judge(role, observation, &name)
        })
        .await;
        crate::check::tls::mx_policy::under_mx_policy(ctx, verdict).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tls::now;
    use crate::check::tls::test_certs::leaf;
    use crate::outcome::Status;
    use crate::probe::tls::TlsInfo;

    fn observation(names: &[&str]) -> TlsObservation {
        let now = now();
        TlsObservation {
            info: TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "TLS13_AES_128_GCM_SHA256".into(),
                server_name: "mail.weak.test".into(),
                chain: vec![leaf(
                    names,
                    now - 60,
                    now + 86_400,
                    None,
                    &rcgen::PKCS_ECDSA_P256_SHA256,
                )],
            },
            evidence: vec![],
        }
    }

    #[test]
    fn matching_name_passes_wrong_name_fails_by_role() {
        let good = judge(
            Role::Imaps,
            &observation(&["mail.ref.test"]),
            "mail.ref.test",
        );
        assert_eq!(good.status, Status::Pass);
        assert!(good.message.contains("DNS:mail.ref.test"));
        let wrong = observation(&["wrong.example"]);
        let fail = judge(Role::Submission, &wrong, "mail.weak.test");
        assert_eq!(fail.status, Status::Fail);
        assert!(
            fail.message.contains("not valid for mail.weak.test"),
            "{}",
            fail.message
        );
        assert!(fail.message.contains("DNS:wrong.example"));
        assert_eq!(
            judge(Role::Mx, &wrong, "mail.weak.test").status,
            Status::Warn
        );
    }

    #[test]
    fn an_address_target_needs_an_ip_san() {
        let obs = observation(&["mail.ref.test", "127.0.100.10"]);
        assert_eq!(
            judge(Role::Pop3s, &obs, "127.0.100.10").status,
            Status::Pass
        );
        assert_eq!(
            judge(Role::Pop3s, &obs, "127.0.100.30").status,
            Status::Fail
        );
    }

    #[test]
    fn no_certificate_is_an_error() {
        let mut obs = observation(&["x.test"]);
        obs.info.chain.clear();
        assert_eq!(judge(Role::Imap, &obs, "x.test").status, Status::Error);
    }
}
