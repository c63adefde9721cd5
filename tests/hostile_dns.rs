//! Hostile DNS servers against dns.dnssec, dns.tlsa and dns.mx: in-process fakes on
//! 127.0.100.216-219 (UDP and TCP, port 53), answers written byte by byte. Every case must
//! end in `error` with the reason, within the timeouts, without a panic.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use common::{json, mailcheck, stderr};

/// One resource record, owner written as a pointer to the question's name.
fn rr(rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut out = vec![0xc0, 0x0c];
    out.extend(rtype.to_be_bytes());
    out.extend(1u16.to_be_bytes());
    out.extend(300u32.to_be_bytes());
    out.extend((rdata.len() as u16).to_be_bytes());
    out.extend(rdata);
    out
}

/// A CNAME pointing back at the question's name.
fn self_cname() -> Vec<u8> {
    rr(5, &[0xc0, 0x0c])
}

fn rrsig(covered: u16) -> Vec<u8> {
    let mut rdata = covered.to_be_bytes().to_vec();
    rdata.extend([13, 1]);
    rdata.extend(300u32.to_be_bytes());
    rdata.extend(u32::MAX.to_be_bytes());
    rdata.extend(0u32.to_be_bytes());
    rdata.extend(1234u16.to_be_bytes());
    rdata.push(0); // signer: the root
    rdata.extend([1, 2, 3, 4]);
    rr(46, &rdata)
}

type Behaviour = fn(&str, u16) -> Vec<Vec<u8>>;

/// Answers shared by every fake: the MX host resolves to the fake's own address.
fn common_answer(name: &str, qtype: u16, ip: [u8; 4]) -> Option<Vec<Vec<u8>>> {
    match qtype {
        1 if name.starts_with("mail.") => Some(vec![rr(1, &ip)]),
        1 | 15 | 28 | 16 | 12 | 5 => Some(vec![]),
        _ => None,
    }
}

/// Parses the question; returns (id, question bytes, name, type).
fn question(query: &[u8]) -> Option<([u8; 2], Vec<u8>, String, u16)> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *query.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let end = at + 4;
    Some((
        [query[0], query[1]],
        query.get(12..end)?.to_vec(),
        labels.join("."),
        qtype,
    ))
}

/// A fake's answers: `own` is asked first when `first` is set (else after the common ones).
#[derive(Clone, Copy)]
struct Fake {
    own: Behaviour,
    first: bool,
}

fn response(query: &[u8], ip: [u8; 4], fake: Fake, udp: bool) -> Option<Vec<u8>> {
    let (id, q, name, qtype) = question(query)?;
    let own = || (fake.own)(&name, qtype);
    let answers = match fake.first {
        true => Some(own())
            .filter(|a| !a.is_empty())
            .or_else(|| common_answer(&name, qtype, ip))
            .unwrap_or_default(),
        false => common_answer(&name, qtype, ip).unwrap_or_else(own),
    };
    let mut body: Vec<u8> = answers.concat();
    let mut count = answers.len() as u16;
    let mut flags: u16 = 0x8400;
    if udp && body.len() > 1200 {
        flags |= 0x0200; // TC: ask again over TCP
        body.clear();
        count = 0;
    }
    let mut out = id.to_vec();
    out.extend(flags.to_be_bytes());
    out.extend(1u16.to_be_bytes());
    out.extend(count.to_be_bytes());
    out.extend([0, 0, 0, 0]);
    out.extend(q);
    out.extend(body);
    Some(out)
}

fn spawn_dns(ip: [u8; 4], behaviour: Behaviour) {
    spawn_fake_dns(
        ip,
        Fake {
            own: behaviour,
            first: false,
        },
    )
}

fn spawn_fake_dns(ip: [u8; 4], behaviour: Fake) {
    let addr = format!("{}.{}.{}.{}:53", ip[0], ip[1], ip[2], ip[3]);
    let udp = UdpSocket::bind(&addr).unwrap_or_else(|e| panic!("bind {addr}/udp: {e}"));
    let tcp = TcpListener::bind(&addr).unwrap_or_else(|e| panic!("bind {addr}/tcp: {e}"));
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            if let Some(out) = response(&buf[..n], ip, behaviour, true) {
                let _ = udp.send_to(&out, peer);
            }
        }
    });
    thread::spawn(move || {
        for mut stream in tcp.incoming().flatten() {
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                loop {
                    let mut len = [0u8; 2];
                    if stream.read_exact(&mut len).is_err() {
                        return;
                    }
                    let mut query = vec![0u8; u16::from_be_bytes(len) as usize];
                    if stream.read_exact(&mut query).is_err() {
                        return;
                    }
                    let Some(out) = response(&query, ip, behaviour, false) else {
                        return;
                    };
                    let mut framed = (out.len() as u16).to_be_bytes().to_vec();
                    framed.extend(out);
                    if stream.write_all(&framed).is_err() {
                        return;
                    }
                }
            });
        }
    });
}

/// Runs dns.dnssec and dns.tlsa on `mail.<zone>` through the fake, the anchor being a DS for
/// `<zone>` that nothing can match. Returns the two results and the wall time.
fn run(ip: &str, zone: &str) -> (Vec<(String, String, String)>, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.ds");
    std::fs::write(
        &anchor,
        format!("{zone}. IN DS 12345 13 2 {}\n", "ab".repeat(32)),
    )
    .unwrap();
    let started = Instant::now();
    let output = mailcheck(&[
        "run",
        &format!("mail.{zone}"),
        "--resolver",
        ip,
        "--trust-anchor",
        anchor.to_str().unwrap(),
        "--only",
        "dns.dnssec",
        "--only",
        "dns.tlsa",
        "--timeout",
        "2",
        "--format",
        "json",
    ]);
    let elapsed = started.elapsed();
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    let report = json(&output);
    let results = report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (results, elapsed)
}

fn find<'a>(results: &'a [(String, String, String)], id: &str) -> &'a (String, String, String) {
    results
        .iter()
        .find(|(i, _, _)| i == id)
        .unwrap_or_else(|| panic!("no {id} in {results:?}"))
}

#[test]
fn thousands_of_rrsigs_are_refused_unread() {
    spawn_dns([127, 0, 100, 216], |_, qtype| {
        (0..1700).map(|_| rrsig(qtype)).collect()
    });
    let (results, elapsed) = run("127.0.100.216", "flood.test");
    let (_, status, message) = find(&results, "dns.dnssec");
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("over the limit"), "{message}");
    let (_, status, message) = find(&results, "dns.tlsa");
    assert_eq!(status, "error", "{message}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[test]
fn a_garbage_tlsa_record_is_an_error() {
    spawn_dns([127, 0, 100, 217], |_, qtype| match qtype {
        // One byte of TLSA rdata: usage only, no selector, matching type or data.
        52 => vec![rr(52, &[3])],
        _ => vec![],
    });
    let (results, elapsed) = run("127.0.100.217", "garbage.test");
    let (_, status, message) = find(&results, "dns.tlsa");
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("TLSA"), "{message}");
    // No DNSKEY for the anchored zone: said, not waited for.
    let (_, status, message) = find(&results, "dns.dnssec");
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("no DNSKEY"), "{message}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[test]
fn dnskey_and_cname_loops_are_errors() {
    spawn_dns([127, 0, 100, 218], |_, qtype| match qtype {
        48 | 52 => vec![self_cname()],
        _ => vec![],
    });
    let (results, elapsed) = run("127.0.100.218", "loop.test");
    let (_, status, message) = find(&results, "dns.dnssec");
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("alias"), "{message}");
    let (_, status, message) = find(&results, "dns.tlsa");
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("CNAME loop"), "{message}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[test]
fn an_mx_cname_loop_is_an_error_with_its_reason_not_a_missing_mx() {
    spawn_fake_dns(
        [127, 0, 100, 219],
        Fake {
            own: |_, qtype| match qtype {
                15 => vec![self_cname()],
                _ => vec![],
            },
            first: true,
        },
    );
    let started = Instant::now();
    let output = mailcheck(&[
        "run",
        "mail.cnameloop.test",
        "--resolver",
        "127.0.100.219",
        "--only",
        "dns.mx",
        "--timeout",
        "2",
        "--format",
        "json",
    ]);
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    let report = json(&output);
    let result = &report["targets"][0]["results"][0];
    assert_eq!(result["id"], "dns.mx", "{report}");
    assert_eq!(result["status"], "error", "{result}");
    let message = result["message"].as_str().unwrap();
    assert!(
        message.contains("CNAME loop: cnameloop.test → cnameloop.test"),
        "{message}"
    );
    assert!(!message.contains("no MX record"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(6));
}
