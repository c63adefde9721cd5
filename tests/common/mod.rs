//! Shared helpers for the integration tests: running the built binary, and small fake servers.
#![allow(dead_code)] // each test binary uses a different subset

pub mod schema;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output};
use std::thread;
use std::time::Duration;

/// The lab's state directory (`MAILCHECK_LAB_DIR`, else where `scripts/lab-up` puts it).
pub fn lab_dir() -> String {
    std::env::var("MAILCHECK_LAB_DIR").unwrap_or_else(|_| "/var/lib/mailcheck-lab".into())
}

/// The lab's private CA, for `--ca-file`.
pub fn ca_file() -> String {
    format!("{}/ca/ca.pem", lab_dir())
}

/// The file holding the lab mailboxes' password, for `--password-file`.
pub fn password_file() -> String {
    format!("{}/secrets/test-password", lab_dir())
}

/// The lab mailboxes' password.
pub fn password() -> String {
    std::fs::read_to_string(password_file())
        .expect("the lab's test password file is readable (run the tests as root)")
        .trim()
        .to_string()
}

/// Runs `mailcheck` with `args`, colour off.
pub fn mailcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the mailcheck binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Parses JSON from stdout; a `mailcheck/report/v1` report must also pass the schema
/// (`docs/report.schema.json`, checked by a real validator: see `schema.rs`).
pub fn json(output: &Output) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    });
    if value["schema"] == "mailcheck/report/v1" {
        schema::valid_report(&stdout(output));
    }
    value
}

/// Reads a JSON report file (`--json FILE`) and checks it against the schema.
pub fn report_file(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    schema::valid_report(&text)
}

/// Every result of the first target as (id, endpoint, status).
pub fn statuses(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["targets"][0]["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["endpoint"].as_str().unwrap_or("dns").to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// How a fake server behaves on each accepted connection.
#[derive(Clone, Copy, Debug)]
pub enum Fake {
    /// Accepts and never says anything.
    Tarpit,
    /// Answers with an HTTP error and closes.
    Garbage,
    /// Sends `220-` continuation lines forever.
    Endless,
    /// Greets with `421` and closes.
    Busy,
    /// Greets properly, then stops answering after EHLO.
    MuteAfterEhlo,
    /// Speaks the protocol of its port (SMTP on 25/587, IMAP on 143, POP3 on 110), offers
    /// STARTTLS/STLS, says yes to it, then sends nothing: no ServerHello ever comes.
    SilentAfterStartTls,
}

/// Starts a fake server on `addr` (in a background thread that lives as long as the test).
pub fn spawn_fake(addr: &str, fake: Fake) -> SocketAddr {
    let listener = TcpListener::bind(addr)
        .unwrap_or_else(|e| panic!("cannot bind fake server on {addr}: {e}"));
    let local = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream, fake));
        }
    });
    local
}

/// What a [`Fake::SilentAfterStartTls`] server answers to one command line; `None` after the
/// go-ahead for TLS (from then on it stays silent).
fn silent_tls_answer(port: u16, line: &str) -> Option<String> {
    let upper = line.to_ascii_uppercase();
    match port {
        143 => {
            let (tag, command) = upper.split_once(' ').unwrap_or((&upper, ""));
            let tag = &line[..tag.len()];
            Some(match command.trim() {
                "CAPABILITY" => {
                    format!("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n{tag} OK done\r\n")
                }
                "STARTTLS" => return None,
                "LOGOUT" => format!("* BYE bye\r\n{tag} OK done\r\n"),
                _ => format!("{tag} BAD unknown\r\n"),
            })
        }
        110 => Some(match upper.trim() {
            "CAPA" => "+OK\r\nSTLS\r\nUSER\r\n.\r\n".into(),
            "STLS" => return None,
            "QUIT" => "+OK bye\r\n".into(),
            _ => "-ERR unknown\r\n".into(),
        }),
        _ => Some(match upper.split(' ').next().unwrap_or("").trim() {
            "EHLO" => "250-fake.example.test\r\n250 STARTTLS\r\n".into(),
            "HELO" | "RSET" | "NOOP" => "250 ok\r\n".into(),
            "STARTTLS" => return None,
            "QUIT" => "221 bye\r\n".into(),
            _ => "502 5.5.2 unknown\r\n".into(),
        }),
    }
}

fn serve_silent_after_start_tls(mut stream: TcpStream) {
    let port = stream.local_addr().map(|a| a.port()).unwrap_or(25);
    let greeting: &[u8] = match port {
        143 => b"* OK fake IMAP ready\r\n",
        110 => b"+OK fake POP3 ready\r\n",
        _ => b"220 fake.example.test ESMTP\r\n",
    };
    if stream.write_all(greeting).is_err() {
        return;
    }
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if !matches!(std::io::BufRead::read_line(&mut reader, &mut line), Ok(n) if n > 0) {
            return;
        }
        let command = line.trim_end();
        match silent_tls_answer(port, command) {
            Some(answer) => {
                if stream.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
            None => {
                let go_ahead = match port {
                    143 => format!(
                        "{} OK Begin TLS negotiation now\r\n",
                        command.split(' ').next().unwrap_or("")
                    ),
                    110 => "+OK Begin TLS negotiation\r\n".into(),
                    _ => "220 2.0.0 Ready to start TLS\r\n".into(),
                };
                let _ = stream.write_all(go_ahead.as_bytes());
                // The ClientHello is read and never answered.
                let mut buf = [0u8; 4096];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
                return;
            }
        }
    }
}

fn serve(mut stream: TcpStream, fake: Fake) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    match fake {
        Fake::Tarpit => {
            let mut buf = [0u8; 512];
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        }
        Fake::Garbage => {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
        Fake::Endless => {
            for _ in 0..100_000 {
                if stream.write_all(b"220-still greeting you\r\n").is_err() {
                    break;
                }
            }
        }
        Fake::Busy => {
            let _ = stream
                .write_all(b"421 4.3.2 Service not available, closing transmission channel\r\n");
        }
        Fake::MuteAfterEhlo => {
            let _ = stream.write_all(b"220 fake.example.test ESMTP\r\n");
            let mut buf = [0u8; 512];
            if matches!(stream.read(&mut buf), Ok(n) if n > 0) {
                let _ = stream.write_all(b"250-fake.example.test\r\n250 SIZE 1000\r\n");
            }
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        }
        Fake::SilentAfterStartTls => serve_silent_after_start_tls(stream),
    }
}

/// Fails (never skips) when the lab is down: the base servers (reference and weak SMTP, DNS)
/// and `more` addresses must answer.
pub fn require_lab(more: &[&str]) {
    let base = ["127.0.100.10:25", "127.0.100.20:25", "127.0.100.53:53"];
    for addr in base.iter().chain(more) {
        let addr: SocketAddr = addr.parse().expect("a socket address");
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok(),
            "the lab is not running ({addr} does not answer): start it with `scripts/lab-up`"
        );
    }
}

/// Every result of the first target, keyed `id @ port` (`dns` when it has no endpoint).
pub fn results_by_port(
    report: &serde_json::Value,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    report["targets"][0]["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .map(|r| {
            let endpoint = r["endpoint"].as_str().unwrap_or("dns");
            let port = endpoint
                .split('/')
                .next()
                .unwrap_or("")
                .rsplit(':')
                .next()
                .unwrap_or("");
            (
                format!("{} @ {port}", r["id"].as_str().unwrap_or("?")),
                r.clone(),
            )
        })
        .collect()
}
