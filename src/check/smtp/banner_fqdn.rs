//! `smtp.banner.fqdn`: the greeting starts with the server's fully qualified host name.

use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::Reply;

pub struct BannerFqdn;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.banner.fqdn",
    title: "Greeting starts with a fully qualified host name",
    category: Category::Smtp,
    severity: Severity::Low,
    scope: Scope::Endpoints {
        roles: &[Role::Mx, Role::Submission, Role::Smtps],
        stage: Stage::Greeted,
    },
    what: "Reads the first word of the 220 greeting and checks it is a fully qualified domain \
           name (RFC 5321 §4.3.1: the greeting names the server).",
    why: "Senders and anti-spam systems compare the greeting name with the PTR and the HELO \
          the server uses; `localhost` or a bare name looks misconfigured.",
    fix: "Postfix: set `myhostname = mail.example.com` (a name with an A record and a matching \
          PTR) and keep `smtpd_banner = $myhostname ESMTP`.",
    opt_in: false,
    title_fr: Some("La bannière commence par un nom d'hôte complet (FQDN)"),
    fix_fr: Some(
        "Postfix : réglez `myhostname = mail.example.com` (un nom avec un enregistrement \
                  A et un PTR qui lui correspond) et gardez `smtpd_banner = $myhostname ESMTP`.",
    ),
};

/// A name with at least two labels, valid host-name syntax and an alphabetic TLD.
pub fn is_fqdn(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

pub fn judge(greeting: &Reply) -> Verdict {
    let first = greeting
        .first_line()
        .split_whitespace()
        .next()
        .unwrap_or("");
    if is_fqdn(first) {
        Verdict::pass(format!("greeting names {first}"))
    } else if first.is_empty() {
        Verdict::fail(format!("greeting names no host: {}", greeting.summary()))
    } else {
        Verdict::fail(format!(
            "greeting starts with {first:?}, not a fully qualified host name"
        ))
    }
}

#[async_trait::async_trait]
impl Check for BannerFqdn {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match ctx.session().await {
            Ok(session) => judge(&session.greeting)
                .with_evidence(session.greeting.wire_lines().map(|l| format!("S: {l}"))),
            Err(failure) => ctx.unavailable(&failure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    fn judge_raw(raw: &str) -> Status {
        judge(&parse_reply(raw.as_bytes()).unwrap().unwrap().0).status
    }

    #[test]
    fn fqdn_passes_others_fail() {
        assert_eq!(judge_raw("220 mail.ref.test ESMTP\r\n"), Status::Pass);
        assert_eq!(judge_raw("220 mx1.example.co.uk. ESMTP\r\n"), Status::Pass);
        assert_eq!(judge_raw("220 localhost ESMTP\r\n"), Status::Fail);
        assert_eq!(judge_raw("220 ESMTP ready\r\n"), Status::Fail);
        assert_eq!(judge_raw("220 127.0.0.1 ESMTP\r\n"), Status::Fail);
        assert_eq!(judge_raw("220 mail_server.example.com\r\n"), Status::Fail);
        assert_eq!(judge_raw("220\r\n"), Status::Fail);
    }
}
