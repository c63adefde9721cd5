use super::*;
use crate::check::dns::tests::run_with;
use crate::check::{Settings, TlsSettings, TrustStore};
use crate::outcome::Status;
use crate::probe::dns::fixture::Fixture;

fn observation(published: Published, fetched: Option<Fetched>) -> StsObservation {
    StsObservation {
        domain: "ref.test".into(),
        published,
        fetched,
        evidence: Vec::new(),
    }
}

fn response(status: u16, content_type: Option<&str>, body: &str) -> Response {
    Response {
        addr: "127.0.100.80:443".parse().unwrap(),
        status,
        content_type: content_type.map(str::to_string),
        location: None,
        body: body.as_bytes().to_vec(),
        truncated: false,
    }
}

fn served(body: &str) -> Option<Fetched> {
    let response = response(200, Some("text/plain; charset=utf-8"), body);
    let policy = grammar::parse_policy(body);
    Some(Fetched::Response { response, policy })
}

fn one() -> Published {
    Published::One(StsRecord { id: "1".into() })
}

fn verdict(observation: &StsObservation, mx: &[&str]) -> Verdict {
    let mut findings = Findings::default();
    let hosts = MxHosts::Hosts(mx.iter().map(|h| h.to_string()).collect());
    judge(observation, &hosts, &mut findings);
    findings.verdict()
}

const ENFORCE: &str = "version: STSv1\nmode: enforce\nmx: mail.ref.test\nmax_age: 604800\n";

#[test]
fn txt_answers_are_classified() {
    let name = "_mta-sts.ref.test";
    let records = |texts: &[&str]| Answer::Records(texts.iter().map(|t| t.to_string()).collect());
    assert_eq!(
        published(records(&["v=STSv1; id=20240101"]), name),
        Published::One(StsRecord {
            id: "20240101".into()
        })
    );
    // Unrelated TXT beside it is discarded (§3.1).
    assert!(matches!(
        published(
            records(&["google-site-verification=x", "v=STSv1; id=2"]),
            name
        ),
        Published::One(_)
    ));
    assert!(matches!(
        published(records(&["v=STSV1; id=20240101T000000;"]), name),
        Published::Invalid(why) if why.contains("case-sensitive")
    ));
    assert!(matches!(
        published(records(&["v=STSv1; id=1", "v=STSv1; id=2"]), name),
        Published::Several(list) if list.len() == 2
    ));
    assert!(matches!(
        published(records(&["hello"]), name),
        Published::Absent(_)
    ));
    assert!(matches!(
        published(Answer::NxDomain, name),
        Published::Absent(_)
    ));
    assert!(matches!(
        published(Answer::Failed("SERVFAIL".into()), name),
        Published::Failed(_)
    ));
}

#[test]
fn verdicts_follow_the_spec() {
    let pass = verdict(&observation(one(), served(ENFORCE)), &["mail.ref.test"]);
    assert_eq!(pass.status, Status::Pass, "{pass:?}");
    assert!(
        pass.evidence
            .iter()
            .any(|l| l == "* MX mail.ref.test matches `mx: mail.ref.test`"),
        "{:?}",
        pass.evidence
    );
    let observed = observation(one(), served(ENFORCE));
    assert_eq!(observed.enforced(), Some("1"));

    let testing = ENFORCE.replace("enforce", "testing");
    let warn = verdict(&observation(one(), served(&testing)), &["mail.ref.test"]);
    assert_eq!(warn.status, Status::Warn);
    assert!(warn.message.contains("testing mode"), "{}", warn.message);
    assert_eq!(observation(one(), served(&testing)).enforced(), None);

    let none = "version: STSv1\nmode: none\nmax_age: 86400\n";
    assert_eq!(
        verdict(&observation(one(), served(none)), &["mail.ref.test"]).status,
        Status::Warn
    );

    let short = ENFORCE.replace("604800", "3600");
    let warn = verdict(&observation(one(), served(&short)), &["mail.ref.test"]);
    assert_eq!(warn.status, Status::Warn);
    assert!(warn.message.contains("under a day"), "{}", warn.message);

    // An MX the policy does not list (the lab's stsmiss.test).
    let fail = verdict(
        &observation(one(), served(ENFORCE)),
        &["mail.ref.test", "mx2.ref.test"],
    );
    assert_eq!(fail.status, Status::Fail);
    assert!(
        fail.message.contains("MX mx2.ref.test not matched"),
        "{}",
        fail.message
    );

    // Implicit MX: the domain itself must be listed.
    let mut findings = Findings::default();
    judge(
        &observation(one(), served(ENFORCE)),
        &MxHosts::Implicit("ref.test".into()),
        &mut findings,
    );
    assert_eq!(findings.verdict().status, Status::Fail);

    let fail = verdict(
        &observation(one(), served("version: STSv1\nmode: enforce\n")),
        &["mail.ref.test"],
    );
    assert_eq!(fail.status, Status::Fail);
    assert!(
        fail.message.starts_with("the policy does not parse"),
        "{}",
        fail.message
    );

    let absent = verdict(
        &observation(Published::Absent("x has no TXT record".into()), None),
        &[],
    );
    assert_eq!(absent.status, Status::Warn);
    let failed = verdict(
        &observation(Published::Failed("SERVFAIL".into()), None),
        &[],
    );
    assert_eq!(failed.status, Status::Error);
    let several = verdict(
        &observation(Published::Several(vec!["a".into(), "b".into()]), None),
        &[],
    );
    assert_eq!(several.status, Status::Fail);
}

#[test]
fn responses_must_be_plain_200s() {
    let mut redirect = response(301, None, "");
    redirect.location = Some("https://elsewhere.test/".into());
    let problem = response_problem(&redirect).unwrap();
    assert!(
        problem.contains("HTTP 301 to https://elsewhere.test/"),
        "{problem}"
    );
    assert!(
        response_problem(&response(404, Some("text/plain"), ""))
            .unwrap()
            .contains("404")
    );
    assert!(
        response_problem(&response(200, Some("text/html"), ENFORCE))
            .unwrap()
            .contains("text/html")
    );
    assert!(response_problem(&response(200, None, ENFORCE)).is_some());
    let mut big = response(200, Some("text/plain"), ENFORCE);
    big.truncated = true;
    assert!(response_problem(&big).unwrap().contains("64 KiB"));
    assert_eq!(
        response_problem(&response(200, Some("Text/Plain; charset=utf-8"), ENFORCE)),
        None
    );
    // A wrong content type is no policy for the certificate checks either.
    let html = Some(Fetched::Response {
        response: response(200, Some("text/html"), ENFORCE),
        policy: grammar::parse_policy(ENFORCE),
    });
    assert_eq!(observation(one(), html).enforced(), None);
}

#[test]
fn fetch_failures_are_fail_or_error() {
    let failed = |err| Some(Fetched::Failed(err));
    let refused = FetchError::Connect {
        addr: "127.0.100.80:443".parse().unwrap(),
        why: "connection refused".into(),
    };
    assert_eq!(
        verdict(&observation(one(), failed(refused)), &[]).status,
        Status::Fail
    );
    let certificate = FetchError::Certificate {
        host: "mta-sts.ref.test".into(),
        why: "UnknownIssuer".into(),
    };
    assert_eq!(
        verdict(&observation(one(), failed(certificate)), &[]).status,
        Status::Fail
    );
    let timeout = FetchError::Timeout {
        during: "the TLS handshake",
        after: std::time::Duration::from_secs(2),
    };
    assert_eq!(
        verdict(&observation(one(), failed(timeout)), &[]).status,
        Status::Error
    );
    let nx = FetchError::Resolve("mta-sts.ref.test does not exist (NXDOMAIN)".into());
    assert_eq!(
        verdict(&observation(one(), failed(nx)), &[]).status,
        Status::Fail
    );
    let servfail = FetchError::Resolve("cannot resolve mta-sts.ref.test: SERVFAIL".into());
    assert_eq!(
        verdict(&observation(one(), failed(servfail)), &[]).status,
        Status::Error
    );
}

// Hostile and well-behaved policy servers, in process, on 127.0.100.221-223 port 443.

mod fakes {
    use std::sync::{Arc, OnceLock};

    use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use rustls::ServerConfig;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Serves per `Host`: good, big, endless, loop, html, notfound, mute (`mta-sts.<case>.sts.test`).
    pub const BEHAVING: &str = "127.0.100.221";
    /// Accepts TCP and never says anything.
    pub const SILENT: &str = "127.0.100.222";
    /// A certificate that no trusted CA issued.
    pub const UNTRUSTED: &str = "127.0.100.223";
    pub const CASES: [&str; 7] = ["good", "big", "endless", "loop", "html", "notfound", "mute"];

    /// The test CA's PEM; the servers are started once for the whole test process.
    pub fn start() -> &'static str {
        static CA: OnceLock<String> = OnceLock::new();
        CA.get_or_init(|| {
            let (ca_pem, issuer) = ca();
            let names: Vec<String> = CASES
                .iter()
                .map(|c| format!("mta-sts.{c}.sts.test"))
                .collect();
            let good = server_config(&names, Some(&issuer));
            let untrusted = server_config(&["mta-sts.untrusted.sts.test".into()], None);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let behaving = TcpListener::bind((BEHAVING, 443)).await.unwrap();
                    let silent = TcpListener::bind((SILENT, 443)).await.unwrap();
                    let bad = TcpListener::bind((UNTRUSTED, 443)).await.unwrap();
                    tokio::spawn(serve(behaving, good));
                    tokio::spawn(serve(bad, untrusted));
                    let mut held = Vec::new();
                    loop {
                        if let Ok((stream, _)) = silent.accept().await {
                            held.push(stream);
                        }
                    }
                });
            });
            // Let the listeners bind before the first test connects.
            std::thread::sleep(std::time::Duration::from_millis(200));
            ca_pem
        })
    }

    fn ca() -> (String, Issuer<'static, KeyPair>) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "sts test CA");
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), Issuer::new(params, key))
    }

    fn server_config(
        names: &[String],
        issuer: Option<&Issuer<'static, KeyPair>>,
    ) -> Arc<ServerConfig> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = CertificateParams::new(names.to_vec()).unwrap();
        let cert = match issuer {
            Some(issuer) => params.signed_by(&key, issuer).unwrap(),
            None => params.self_signed(&key).unwrap(),
        };
        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = ServerConfig::builder_with_provider(crate::probe::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }

    async fn serve(listener: TcpListener, config: Arc<ServerConfig>) {
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let case = CASES
                    .iter()
                    .find(|c| head.contains(&format!("host: mta-sts.{c}.sts.test")))
                    .copied()
                    .unwrap_or("notfound");
                let _ = answer(&mut tls, case).await;
            });
        }
    }

    async fn answer(
        tls: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        case: &str,
    ) -> std::io::Result<()> {
        let policy =
            "version: STSv1\r\nmode: enforce\r\nmx: mail.good.sts.test\r\nmax_age: 604800\r\n";
        match case {
            "good" => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    policy.len()
                );
                tls.write_all(head.as_bytes()).await?;
                tls.write_all(policy.as_bytes()).await?;
            }
            "big" => {
                // 10 MB, with its length declared.
                let size = 10 * 1024 * 1024;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n\r\n"
                );
                tls.write_all(head.as_bytes()).await?;
                let chunk = vec![b'a'; 64 * 1024];
                for _ in 0..size / chunk.len() {
                    tls.write_all(&chunk).await?;
                }
            }
            "endless" => {
                // Chunked, never ending: only the reader's cap stops it.
                tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .await?;
                let line = format!("{:x}\r\n{}\r\n", 1024, "b".repeat(1024));
                loop {
                    tls.write_all(line.as_bytes()).await?;
                }
            }
            "loop" => {
                tls.write_all(b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://mta-sts.loop.sts.test/.well-known/mta-sts.txt\r\nContent-Length: 0\r\n\r\n")
                    .await?;
            }
            "mute" => {
                // TLS done, the request read, and never an answer.
                std::future::pending::<()>().await;
            }
            "html" => {
                let body = "<html>welcome</html>";
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                tls.write_all(head.as_bytes()).await?;
                tls.write_all(body.as_bytes()).await?;
            }
            _ => {
                tls.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found")
                    .await?;
            }
        }
        tls.flush().await
    }
}

/// Runs dns.mta-sts on `<case>.sts.test`, whose policy host is at `address`.
async fn run_case(case: &str, address: &str) -> (Verdict, std::time::Duration) {
    let ca = fakes::start();
    let domain = format!("{case}.sts.test");
    let mx = format!("mail.{domain}");
    let fixture = Fixture::new()
        .txt(&format!("_mta-sts.{domain}"), &["v=STSv1; id=20240101"])
        .a(&format!("mta-sts.{domain}"), address)
        .mx(&domain, 10, &mx)
        .a(&mx, "127.0.100.221");
    let settings = Settings {
        tls: TlsSettings {
            trust: Arc::new(TrustStore::with_pem(ca.as_bytes(), None).unwrap()),
            ..TlsSettings::default()
        },
        ..Settings::default()
    };
    let started = std::time::Instant::now();
    let verdict = run_with(&DnsMtaSts, &domain, fixture.dns(), &settings).await;
    (verdict, started.elapsed())
}

#[tokio::test]
async fn a_good_policy_server_passes() {
    let (verdict, _) = run_case("good", fakes::BEHAVING).await;
    assert_eq!(verdict.status, Status::Pass, "{verdict:#?}");
    for line in [
        "S: HTTP/1.1 200 OK",
        "S: Content-Type: text/plain",
        "S: | mode: enforce",
        "* MX mail.good.sts.test matches `mx: mail.good.sts.test`",
    ] {
        assert!(
            verdict.evidence.iter().any(|l| l == line),
            "{line}: {:#?}",
            verdict.evidence
        );
    }
}

#[tokio::test]
async fn hostile_policy_servers_fail_within_the_timeouts() {
    // The fixture's run has a 2 s timeout.
    for (case, address, status, said) in [
        ("big", fakes::BEHAVING, Status::Fail, "larger than 64 KiB"),
        (
            "endless",
            fakes::BEHAVING,
            Status::Fail,
            "larger than 64 KiB",
        ),
        (
            "loop",
            fakes::BEHAVING,
            Status::Fail,
            "redirect (HTTP 301 to https://mta-sts.loop.sts.test/",
        ),
        ("html", fakes::BEHAVING, Status::Fail, "not `text/plain`"),
        ("notfound", fakes::BEHAVING, Status::Fail, "HTTP 404"),
        (
            "mute",
            fakes::BEHAVING,
            Status::Error,
            "no answer within 2 s during the response headers",
        ),
        (
            "silent",
            fakes::SILENT,
            Status::Error,
            "no answer within 2 s during the TLS handshake",
        ),
        (
            "untrusted",
            fakes::UNTRUSTED,
            Status::Fail,
            "does not verify",
        ),
    ] {
        let (verdict, took) = run_case(case, address).await;
        assert_eq!(verdict.status, status, "{case}: {verdict:#?}");
        assert!(
            verdict.message.contains(said),
            "{case}: {}",
            verdict.message
        );
        assert!(
            took < std::time::Duration::from_secs(4),
            "{case} took {took:?}"
        );
    }
}
