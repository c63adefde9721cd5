//! `dns.tls-rpt` (RFC 8460): one `v=TLSRPTv1` TXT record at `_smtp._tls.<domain>` whose
//! `rua=` lists `mailto:` or `https:` URIs, where senders report TLS failures (MTA-STS, DANE).
//!
//! The grammar (§3) is written here rather than taken from mail-auth 0.13.3
//! (`mta_sts/parse.rs`): that parser compares `v=TLSRPTv1` case-insensitively and silently
//! drops a `rua` entry of another scheme or without one (`rua=tlsrpt@example.com`), so a record
//! with one good URI and one broken one would look fine; the check must name the broken one.

use crate::check::dns::{Findings, on_mail_domain};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::Answer;

pub struct DnsTlsRpt;

static INFO: CheckInfo = CheckInfo {
    id: "dns.tls-rpt",
    title: "TLS-RPT reporting address is published",
    category: Category::Dns,
    severity: Severity::Low,
    scope: Scope::Target,
    what: "Looks up TXT at `_smtp._tls.<domain>`: exactly one record starting `v=TLSRPTv1;` \
           (case-sensitive) with one `rua=` of comma-separated `mailto:` or `https:` URIs \
           (RFC 8460 §3). Absent warns (optional); malformed or several records fail.",
    why: "Senders that apply MTA-STS or DANE send daily reports of the TLS failures they met to \
          the `rua` address: without it a broken certificate or policy goes unseen until mail \
          bounces, and `mode: testing` of MTA-STS tells nothing.",
    fix: "Publish `_smtp._tls.example.com. IN TXT \"v=TLSRPTv1; \
          rua=mailto:tlsrpt@example.com\"` (or an `https:` URI that accepts reports); write \
          the URI with its scheme, `mailto:` before an address.",
    opt_in: false,
    title_fr: Some("Une adresse de rapports TLS-RPT est publiée"),
    fix_fr: Some(
        "Publiez `_smtp._tls.example.com. IN TXT \"v=TLSRPTv1; \
         rua=mailto:tlsrpt@example.com\"` (ou une URI `https:` qui accepte les rapports) ; \
         écrivez l'URI avec son schéma, `mailto:` devant une adresse.",
    ),
};

/// A valid record's report URIs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsRptRecord {
    pub rua: Vec<String>,
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Parses one TXT string (§3): `%s"v=TLSRPTv1"` then `;`-separated fields, exactly one
/// `rua=` of `mailto:`/`https:` URIs, other `name=value` fields as extensions.
pub fn parse_record(text: &str) -> Result<TlsRptRecord, String> {
    let Some(rest) = text.strip_prefix("v=TLSRPTv1") else {
        return Err(if text.to_ascii_lowercase().starts_with("v=tlsrptv1") {
            format!(
                "it starts with `{}`: the version tag is case-sensitive, it must be exactly `v=TLSRPTv1`",
                &text[..10]
            )
        } else {
            "it does not start with `v=TLSRPTv1`".into()
        });
    };
    let fields: Vec<&str> = rest.split(';').collect();
    if !fields[0].trim_matches(is_wsp).is_empty() {
        return Err(format!(
            "`v=TLSRPTv1` is followed by `{}` instead of `;`",
            fields[0]
        ));
    }
    let last = fields.len() - 1;
    let mut rua = None;
    for (index, field) in fields.iter().enumerate().skip(1) {
        let field = field.trim_matches(is_wsp);
        if field.is_empty() {
            if index == last {
                continue;
            }
            return Err("an empty field (`;;`)".into());
        }
        let Some((name, value)) = field.split_once('=') else {
            return Err(format!("`{field}` is not a name=value field"));
        };
        if name == "rua" {
            if rua.is_some() {
                return Err("`rua=` appears twice".into());
            }
            let mut uris = Vec::new();
            for uri in value.split(',').map(|u| u.trim_matches(is_wsp)) {
                if let Some(problem) = uri_problem(uri) {
                    return Err(problem);
                }
                uris.push(uri.to_string());
            }
            rua = Some(uris);
        } else {
            let mut bytes = name.bytes();
            let valid_name = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
                && name.len() <= 32
                && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            let valid_value = !value.is_empty()
                && value
                    .bytes()
                    .all(|b| (0x21..=0x7e).contains(&b) && b != b';' && b != b'=');
            if !valid_name || !valid_value {
                return Err(format!("`{field}` is not a valid field"));
            }
        }
    }
    match rua {
        Some(rua) => Ok(TlsRptRecord { rua }),
        None => Err("it has no `rua=` field (RFC 8460 §3 requires one)".into()),
    }
}

/// Why one `rua` entry is not a report URI (`mailto:` with an address, or `https:` with a
/// host), or `None`.
pub fn uri_problem(uri: &str) -> Option<String> {
    if uri.is_empty() {
        return Some("an empty `rua` entry".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!("`{uri}` is not a valid URI"));
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Some(format!(
            "`{uri}` is not a URI (no scheme): write `mailto:{uri}`"
        ));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "mailto" => {
            let address = rest.split('?').next().unwrap_or("");
            match address.rsplit_once('@') {
                Some((local, domain)) if !local.is_empty() && domain.contains('.') => None,
                _ => Some(format!("`{uri}` is not a mailto: URI with an address")),
            }
        }
        "https" => {
            let host = rest
                .strip_prefix("//")
                .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
            match host {
                Some(host) if !host.is_empty() => None,
                _ => Some(format!("`{uri}` is not an https:// URI with a host")),
            }
        }
        other => Some(format!(
            "`{uri}` has the scheme `{other}`: TLS-RPT accepts only mailto: and https: (RFC 8460 §3)"
        )),
    }
}

/// Judges the TXT answer at `name`.
pub fn judge(answer: Answer<String>, name: &str, findings: &mut Findings) {
    let texts = match answer {
        Answer::Failed(why) => {
            return findings.error(format!("the TXT look-up of {name} failed: {why}"));
        }
        Answer::NxDomain | Answer::NoData => {
            return findings.warn(format!(
                "no TLS-RPT record at {name}: senders cannot report TLS failures (optional, low)"
            ));
        }
        Answer::Records(texts) => texts,
    };
    let meant: Vec<&String> = texts
        .iter()
        .filter(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("v=tlsrptv1")
        })
        .collect();
    match meant.as_slice() {
        [] => findings.warn(format!(
            "no TXT record of {name} starts with v=TLSRPTv1: senders cannot report TLS failures (optional, low)"
        )),
        [one] => match parse_record(one) {
            Ok(record) => findings.pass(format!(
                "TLS-RPT reports go to {}",
                record.rua.join(", ")
            )),
            Err(why) => findings.fail(format!(
                "the TLS-RPT record `{one}` is malformed: {why}; senders ignore it"
            )),
        },
        several => findings.fail(format!(
            "{} TLS-RPT records at {name}: senders must then assume none (RFC 8460 §3)",
            several.len()
        )),
    }
}

#[async_trait::async_trait]
impl Check for DnsTlsRpt {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let ctx = &*ctx;
        on_mail_domain(ctx, async |domain, findings| {
            let name = format!("_smtp._tls.{domain}");
            let (answer, exchange) = ctx.dns.txt(&name).await;
            findings.exchange(exchange);
            judge(answer, &name, findings);
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dns::tests::run_on;
    use crate::outcome::Status;
    use crate::probe::dns::fixture::Fixture;

    fn verdict(texts: &[&str]) -> Verdict {
        let mut findings = Findings::default();
        let answer = Answer::Records(texts.iter().map(|t| t.to_string()).collect());
        judge(answer, "_smtp._tls.ref.test", &mut findings);
        findings.verdict()
    }

    #[test]
    fn records_follow_the_grammar() {
        assert_eq!(
            parse_record("v=TLSRPTv1; rua=mailto:tlsrpt@ref.test")
                .unwrap()
                .rua,
            ["mailto:tlsrpt@ref.test"]
        );
        assert_eq!(
            parse_record("v=TLSRPTv1;rua=mailto:a@b.test, https://r.b.test/v1;")
                .unwrap()
                .rua,
            ["mailto:a@b.test", "https://r.b.test/v1"]
        );
        for (bad, why) in [
            ("v=TLSRPTv1; rua=tlsrpt@weak.test", "no scheme"),
            (
                "v=TLSRPTv1; rua=mailto:a@b.test,tlsrpt@weak.test",
                "no scheme",
            ),
            ("v=TLSRPTv1; rua=http://r.b.test/", "scheme `http`"),
            ("v=TLSRPTv1; rua=https:r", "with a host"),
            ("v=TLSRPTv1; rua=mailto:nobody", "with an address"),
            ("v=TLSRPTv1", "no `rua=`"),
            (
                "v=TLSRPTv1; rua=mailto:a@b.test; rua=mailto:c@b.test",
                "twice",
            ),
            ("v=tlsrptv1; rua=mailto:a@b.test", "case-sensitive"),
            ("v=TLSRPTv1 rua=mailto:a@b.test", "instead of `;`"),
        ] {
            let err = parse_record(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn verdicts_follow_the_spec() {
        let pass = verdict(&["v=TLSRPTv1; rua=mailto:tlsrpt@ref.test"]);
        assert_eq!(pass.status, Status::Pass);
        assert_eq!(pass.message, "TLS-RPT reports go to mailto:tlsrpt@ref.test");
        // The lab's weak.test record.
        let fail = verdict(&["v=TLSRPTv1; rua=tlsrpt@weak.test"]);
        assert_eq!(fail.status, Status::Fail);
        assert!(
            fail.message.contains("write `mailto:tlsrpt@weak.test`"),
            "{}",
            fail.message
        );
        let two = verdict(&[
            "v=TLSRPTv1; rua=mailto:a@b.test",
            "v=TLSRPTv1; rua=mailto:c@b.test",
        ]);
        assert_eq!(two.status, Status::Fail);
        assert_eq!(verdict(&["something else"]).status, Status::Warn);
        let mut findings = Findings::default();
        judge(Answer::NoData, "_smtp._tls.ref.test", &mut findings);
        assert_eq!(findings.verdict().status, Status::Warn);
        let mut findings = Findings::default();
        judge(
            Answer::Failed("SERVFAIL".into()),
            "_smtp._tls.ref.test",
            &mut findings,
        );
        assert_eq!(findings.verdict().status, Status::Error);
    }

    #[tokio::test]
    async fn the_check_asks_the_domain_record() {
        let dns = Fixture::new()
            .mx("ref.test", 10, "mail.ref.test")
            .a("mail.ref.test", "127.0.100.10")
            .txt(
                "_smtp._tls.ref.test",
                &["v=TLSRPTv1; rua=mailto:tlsrpt@ref.test"],
            )
            .dns();
        let verdict = run_on(&DnsTlsRpt, "ref.test", dns).await;
        assert_eq!(verdict.status, Status::Pass, "{verdict:?}");
        assert!(
            verdict
                .evidence
                .iter()
                .any(|l| l.starts_with("Q: _smtp._tls.ref.test. TXT")),
            "{:?}",
            verdict.evidence
        );
    }
}
