//! `imap.banner.no-software`: the IMAP greeting names no software or version.

use crate::check::smtp::banner_no_software::findings_in_lines;
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::imap::{ImapSession, StatusResponse};

pub struct BannerNoSoftware;

static INFO: CheckInfo = CheckInfo {
    id: "imap.banner.no-software",
    title: "IMAP greeting names no software",
    category: Category::Imap,
    severity: Severity::Low,
    scope: Scope::Endpoints {
        roles: &[Role::Imap, Role::Imaps],
        stage: Stage::Own,
    },
    what: "Reads the IMAP greeting (`* OK ...`, its text, not the capability list) on 143 and \
           993 and looks for server or OS names (Dovecot, Courier, Cyrus, Debian...) and \
           version numbers.",
    why: "A greeting that names the software tells attackers which exploits to try; Dovecot's \
          default `Dovecot (Debian) ready.` says both.",
    fix: "Dovecot: `login_greeting = mail.example.com ready.` (and `imap_id_send =` so IMAP ID \
          does not tell either), then `doveadm reload`.",
    opt_in: false,
    title_fr: Some("La bannière IMAP ne nomme aucun logiciel"),
    fix_fr: Some(
        "Dovecot : `login_greeting = mail.example.com ready.` (et `imap_id_send =` pour \
                  que IMAP ID ne le dise pas non plus), puis `doveadm reload`.",
    ),
};

pub fn judge(greeting: &StatusResponse) -> Verdict {
    let found = findings_in_lines([greeting.text.as_str()]);
    let shown = format!("* {} {}", greeting.status.as_str(), greeting.text);
    if found.is_empty() {
        Verdict::pass(format!("greeting names no software: {shown}"))
    } else {
        Verdict::fail(format!("greeting reveals {}: {shown}", found.join(", ")))
    }
}

#[async_trait::async_trait]
impl Check for BannerNoSoftware {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match ctx.mailbox::<ImapSession>(false).await {
            Ok(session) => {
                let verdict = judge(&session.greeting).with_evidence(session.opening());
                session.logout().await;
                verdict
            }
            Err(failure) => ctx.unavailable(&failure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::imap::parse_status;

    #[test]
    fn custom_greeting_passes_default_dovecot_fails() {
        let custom = parse_status("OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS LOGINDISABLED] mail.ref.test ready.").unwrap();
        assert_eq!(judge(&custom).status, Status::Pass);
        let default =
            parse_status("OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.")
                .unwrap();
        let verdict = judge(&default);
        assert_eq!(verdict.status, Status::Fail);
        assert!(verdict.message.contains("`Dovecot`") && verdict.message.contains("`Debian`"));
        let versioned = parse_status("OK Cyrus IMAP v3.6.1 server ready").unwrap();
        let verdict = judge(&versioned);
        assert!(
            verdict.message.contains("version `v3.6.1`"),
            "{}",
            verdict.message
        );
    }
}
