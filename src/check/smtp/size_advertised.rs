//! `smtp.size.advertised`: the EHLO reply on 25 announces the message size limit (RFC 1870).

use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::Capabilities;

pub struct SizeAdvertised;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.size.advertised",
    title: "SIZE limit is advertised",
    category: Category::Smtp,
    severity: Severity::Info,
    scope: Scope::Endpoints {
        roles: &[Role::Mx],
        stage: Stage::Greeted,
    },
    what: "Reads the EHLO reply on 25 for the SIZE extension and its limit.",
    why: "Senders that know the limit refuse oversized mail up front instead of sending it \
          and having it bounce.",
    fix: "Postfix advertises SIZE from `message_size_limit` (e.g. `message_size_limit = 26214400`); \
          a value of 0 disables it.",
    opt_in: false,
    title_fr: Some("La limite SIZE est annoncée"),
    fix_fr: Some(
        "Postfix annonce SIZE d'après `message_size_limit` (par exemple \
                  `message_size_limit = 26214400`) ; la valeur 0 le désactive.",
    ),
};

pub fn judge(capabilities: &Capabilities) -> Verdict {
    match capabilities.size() {
        Some(Some(0)) | Some(None) => Verdict::pass("SIZE advertised, without a limit"),
        Some(Some(limit)) => Verdict::pass(format!(
            "SIZE {limit} ({:.1} MiB)",
            limit as f64 / 1_048_576.0
        )),
        None => Verdict::fail("SIZE is not advertised"),
    }
}

#[async_trait::async_trait]
impl Check for SizeAdvertised {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match ctx.session().await {
            Ok(session) => judge(&session.capabilities)
                .with_evidence(session.hello.wire_lines().map(|l| format!("S: {l}"))),
            Err(failure) => ctx.unavailable(&failure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    #[test]
    fn size_line_decides() {
        let caps =
            |raw: &str| Capabilities::from_ehlo(&parse_reply(raw.as_bytes()).unwrap().unwrap().0);
        assert!(
            judge(&caps("250-x\r\n250 SIZE 10240000\r\n"))
                .message
                .contains("9.8 MiB")
        );
        assert_eq!(
            judge(&caps("250-x\r\n250 PIPELINING\r\n")).status,
            Status::Fail
        );
    }
}
