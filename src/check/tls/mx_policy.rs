//! Port 25's certificate policy: what the domain publishes (DANE-EE TLSA records, an MTA-STS
//! policy in enforce mode) decides how the `tls.cert.*` checks judge the MX certificate. Its
//! own module because it reads both the TLS observation and the DNS checks' records.

use crate::check::dns::tlsa::{TlsaRecord, owner};
use crate::check::tls::OPPORTUNISTIC;
use crate::check::{Ctx, Verdict};
use crate::probe::dnssec::{Lookup, Security};

/// How senders treat port 25's certificate, from what the domain publishes (SPEC: certificate
/// policy under MTA-STS `enforce` and DANE-EE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MxCertPolicy {
    /// Senders do not verify (RFC 7672 §1.3): a bad certificate is a warning.
    Opportunistic,
    /// The domain's MTA-STS policy is in enforce mode: senders verify the certificate and do
    /// not deliver when it fails (RFC 8461 §4.1, §5).
    MtaStsEnforce { domain: String, id: String },
    /// `record`: the usage-3 TLSA record that matches the server's certificate: its names and
    /// dates do not matter (RFC 7672 §3.1.1).
    DaneEe { record: String },
}

/// Port 25's certificate policy for this endpoint (other ports: not applicable, reported as
/// [`MxCertPolicy::Opportunistic`]). DANE comes first: a sender that finds usable TLSA records
/// uses DANE and not MTA-STS (RFC 8461 §2). No memo of its own is needed: the TLSA answer and
/// the zone's chain are cached run-wide by the validator, the MTA-STS observation per target,
/// the handshake per endpoint.
pub async fn mx_cert_policy(ctx: &Ctx<'_>) -> MxCertPolicy {
    let endpoint = ctx.endpoint();
    if !endpoint.role.opportunistic_tls() {
        return MxCertPolicy::Opportunistic;
    }
    if let Some(host) = &endpoint.host {
        let lookup = ctx
            .dns
            .dnssec()
            .lookup(
                &owner(host, endpoint.port),
                hickory_resolver::proto::rr::RecordType::TLSA,
            )
            .await;
        if lookup.state.security == Security::Secure
            && let Lookup::Records {
                data,
                verified: true,
            } = &lookup.outcome
            && let Ok(observation) = ctx.tls().await
        {
            let matched = data
                .iter()
                .filter_map(TlsaRecord::of)
                .filter(|r| r.usage == 3)
                .find(|r| r.matched_in(&observation.info.chain) == Some(0));
            if let Some(record) = matched {
                return MxCertPolicy::DaneEe {
                    record: record.show(),
                };
            }
        }
    }
    let Some(domain) = ctx.target.domain.as_deref() else {
        return MxCertPolicy::Opportunistic;
    };
    let observation = crate::check::dns::mta_sts::observe(ctx, domain).await;
    match observation.enforced() {
        Some(id) => MxCertPolicy::MtaStsEnforce {
            domain: domain.to_string(),
            id: id.to_string(),
        },
        None => MxCertPolicy::Opportunistic,
    }
}

/// A `tls.cert.*` verdict under port 25's policy: DANE-EE turns a bad name, date or issuer
/// into a pass that says why; MTA-STS `enforce` turns the opportunistic warning into a `fail`
/// that says why. Other verdicts pass unchanged.
pub fn apply_mx_policy(policy: &MxCertPolicy, mut verdict: Verdict) -> Verdict {
    use crate::outcome::Status;
    match policy {
        MxCertPolicy::DaneEe { record }
            if matches!(verdict.status, Status::Warn | Status::Fail) =>
        {
            verdict.status = Status::Pass;
            verdict.message = format!(
                "DANE-EE: the TLSA record {record} matches the certificate, so its names, dates \
                 and issuer do not matter on port 25 (RFC 7672 §3.1.1); without DANE: {}",
                verdict.message
            );
            verdict
        }
        MxCertPolicy::MtaStsEnforce { domain, id } if verdict.status == Status::Warn => {
            let Some(message) = verdict.message.strip_suffix(OPPORTUNISTIC) else {
                return verdict;
            };
            Verdict {
                status: Status::Fail,
                message: format!(
                    "{message} (port 25 under the MTA-STS policy of {domain} in enforce mode, \
                     id {id}: senders verify the certificate and will not deliver; RFC 8461 §4.1)"
                ),
                ..verdict
            }
        }
        _ => verdict,
    }
}

/// [`apply_mx_policy`] with the endpoint's policy, looked up only when it could matter (a bad
/// certificate on port 25).
pub async fn under_mx_policy(ctx: &Ctx<'_>, verdict: Verdict) -> Verdict {
    use crate::outcome::Status;
    if !ctx.endpoint().role.opportunistic_tls()
        || !matches!(verdict.status, Status::Warn | Status::Fail)
    {
        return verdict;
    }
    apply_mx_policy(&mx_cert_policy(ctx).await, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Role;
    use crate::check::tls::bad_certificate;

    #[test]
    fn mta_sts_enforce_makes_port_25_strict() {
        use crate::outcome::Status;
        let enforce = MxCertPolicy::MtaStsEnforce {
            domain: "ref.test".into(),
            id: "7".into(),
        };
        let warned = bad_certificate(Role::Mx, "certificate not trusted".into());
        let strict = apply_mx_policy(&enforce, warned.clone());
        assert_eq!(strict.status, Status::Fail);
        assert_eq!(
            strict.message,
            "certificate not trusted (port 25 under the MTA-STS policy of ref.test in enforce \
             mode, id 7: senders verify the certificate and will not deliver; RFC 8461 §4.1)"
        );
        // Opportunistic: unchanged; other warnings (expiry soon) and passes: unchanged.
        assert_eq!(
            apply_mx_policy(&MxCertPolicy::Opportunistic, warned.clone()),
            warned
        );
        let soon = Verdict::warn("expires in 3 days");
        assert_eq!(apply_mx_policy(&enforce, soon.clone()), soon);
        let pass = Verdict::pass("fine");
        assert_eq!(apply_mx_policy(&enforce, pass.clone()), pass);
    }

    #[test]
    fn dane_ee_turns_bad_certificates_on_25_into_passes() {
        use crate::outcome::Status;
        let dane = MxCertPolicy::DaneEe {
            record: "3 1 1 ab".into(),
        };
        let bad = bad_certificate(Role::Mx, "certificate expired".into());
        let verdict = apply_mx_policy(&dane, bad.clone());
        assert_eq!(verdict.status, Status::Pass);
        assert!(
            verdict.message.starts_with("DANE-EE"),
            "{}",
            verdict.message
        );
        assert!(verdict.message.contains("certificate expired"));
        // Without DANE-EE, or for errors, nothing changes.
        let same = apply_mx_policy(&MxCertPolicy::Opportunistic, bad.clone());
        assert_eq!(same.status, Status::Warn);
        let error = apply_mx_policy(&dane, Verdict::error("timed out"));
        assert_eq!(error.status, Status::Error);
    }
}
