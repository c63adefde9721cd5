//! The RFC 7208 test suite (openspf.org's 2014.04 release, as pyspf ships it in its source
//! distribution on PyPI, with its licence file) run against our `check_host` evaluation.
//!
//! The suite is fetched at test time (`pip download pyspf`), never copied into the
//! repository; `MAILCHECK_RFC7208_SUITE=FILE` points at a copy instead. Its zone data becomes
//! a DNS [`Source`] with the semantics of pyspf's own driver (`test/testspf.py`): a `TIMEOUT`
//! entry makes every query of a type not listed before it time out, an `SPF` (type 99) record
//! stands for a TXT record when the name has no TXT entry, `TXT: NONE` means no TXT record,
//! names under `error.` time out and unknown names are NXDOMAIN.
//!
//! Every scenario's result must match; the few that still differ are listed in
//! [`KNOWN_DIFFERENCES`] with the reason, and the test fails on any other difference (and on
//! a documented one that no longer differs, so the list stays true).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, TXT};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use serde_json::Value;

use super::eval::{Client, Lookups, evaluate};
use super::result_name;
use crate::probe::dns::{Answer, Dns, Rr, Source, normal};

/// The pyspf release whose test directory holds the suite.
const PYSPF: &str = "pyspf==2.0.14";

/// Scenarios where our answer still differs from the suite's, each with the reason: (test
/// name, why). All come from mail-auth 0.13's record parser, which `dns.spf` uses for the
/// record text (our own strict pass in `grammar.rs` only rejects more, never accepts more);
/// replacing it with our own grammar is the fix.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "modifier-charset-good",
        "mail-auth rejects an unknown modifier name with `.`/`_`",
    ),
    (
        "redirect-after-mechanisms2",
        "redirects to modifier-charset-good's record",
    ),
    (
        "a-colon-domain",
        "mail-auth rejects a `:` inside an a: domain-spec",
    ),
    (
        "a-colon-domain-ip4mapped",
        "mail-auth rejects a `:` inside an a: domain-spec",
    ),
    (
        "mx-colon-domain",
        "mail-auth rejects a `:` inside an mx: domain-spec",
    ),
    (
        "mx-colon-domain-ip4mapped",
        "mail-auth rejects a `:` inside an mx: domain-spec",
    ),
    (
        "macro-mania-in-domain",
        "mail-auth rejects the macro-string's literal run",
    ),
    (
        "exp-syntax-error",
        "mail-auth accepts the malformed exp= value",
    ),
    (
        "redirect-syntax-error",
        "mail-auth accepts the malformed redirect= value",
    ),
    (
        "p-macro-multiple",
        "mail-auth's macro evaluator has no validated %{p} name",
    ),
];

/// One entry of a name's zone data.
#[derive(Clone, Debug)]
enum Entry {
    Record(RData),
    /// Queries of this type time out.
    TypeTimeout(RecordType),
    /// Queries of any type not answered by an earlier entry time out.
    Timeout,
}

#[derive(Default)]
struct SuiteZone {
    names: HashMap<String, Vec<Entry>>,
}

impl SuiteZone {
    fn from_yaml(zonedata: &serde_json::Map<String, Value>) -> SuiteZone {
        let mut names = HashMap::new();
        for (owner, entries) in zonedata {
            let mut out = Vec::new();
            let mut spf_as_txt = Vec::new();
            let mut has_txt = false;
            for entry in entries.as_array().into_iter().flatten() {
                let Some(map) = entry.as_object() else {
                    if entry.as_str() == Some("TIMEOUT") {
                        out.push(Entry::Timeout);
                    }
                    continue;
                };
                for (rtype, value) in map {
                    if rtype == "TXT" {
                        has_txt = true;
                    }
                    if value.as_str() == Some("TIMEOUT") {
                        if let Ok(rtype) = rtype.parse::<RecordType>() {
                            out.push(Entry::TypeTimeout(rtype));
                        }
                        continue;
                    }
                    match rtype.as_str() {
                        // RFC 7208 dropped type SPF: it only stands for a TXT record.
                        "SPF" => spf_as_txt.push(txt(value)),
                        "TXT" if value.as_str() == Some("NONE") => {}
                        "TXT" => out.push(Entry::Record(txt(value))),
                        _ => out.extend(rdata(rtype, value).into_iter().map(Entry::Record)),
                    }
                }
            }
            if !has_txt {
                out.extend(spf_as_txt.into_iter().map(Entry::Record));
            }
            names.insert(normal(owner), out);
        }
        SuiteZone { names }
    }

    fn answer(&self, name: &str, rtype: RecordType, follow: bool) -> Answer<Rr> {
        let name = normal(name);
        if name.split('.').any(|label| label.len() > 63) {
            return Answer::Failed("DNS label too long".into());
        }
        let Some(entries) = self.names.get(&name) else {
            if name.starts_with("error.") {
                return Answer::Failed("timed out".into());
            }
            return Answer::NxDomain;
        };
        let mut records = Vec::new();
        for entry in entries {
            match entry {
                Entry::Timeout if records.is_empty() => return Answer::Failed("timed out".into()),
                Entry::Timeout => break,
                Entry::TypeTimeout(t) if *t == rtype => {
                    return Answer::Failed("timed out".into());
                }
                Entry::TypeTimeout(_) => {}
                Entry::Record(data) if data.record_type() == rtype => {
                    records.push((name.clone(), data.clone()));
                }
                Entry::Record(RData::CNAME(target)) if follow => {
                    records.push((name.clone(), RData::CNAME(target.clone())));
                    if let Answer::Records(more) = self.answer(&target.0.to_string(), rtype, false)
                    {
                        records.extend(more);
                    }
                }
                Entry::Record(_) => {}
            }
        }
        if records.is_empty() {
            Answer::NoData
        } else {
            Answer::Records(records)
        }
    }
}

#[async_trait::async_trait]
impl Source for SuiteZone {
    async fn lookup(&self, name: &str, rtype: RecordType) -> Answer<Rr> {
        self.answer(name, rtype, rtype != RecordType::CNAME)
    }

    fn describe(&self) -> String {
        "the RFC 7208 suite's zone data".into()
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::String(text) => vec![text.clone()],
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

fn txt(value: &Value) -> RData {
    RData::TXT(TXT::new(strings(value)))
}

fn name(text: &str) -> Option<Name> {
    Name::from_ascii(format!("{}.", normal(text))).ok()
}

fn rdata(rtype: &str, value: &Value) -> Vec<RData> {
    let values = strings(value);
    match rtype {
        "A" => values
            .iter()
            .filter_map(|v| v.parse().ok().map(|ip| RData::A(A(ip))))
            .collect(),
        "AAAA" => values
            .iter()
            .filter_map(|v| v.parse().ok().map(|ip| RData::AAAA(AAAA(ip))))
            .collect(),
        "PTR" => values
            .iter()
            .filter_map(|v| name(v).map(|n| RData::PTR(PTR(n))))
            .collect(),
        "CNAME" => values
            .iter()
            .filter_map(|v| name(v).map(|n| RData::CNAME(CNAME(n))))
            .collect(),
        "MX" => match values.as_slice() {
            [preference, exchange] => {
                let exchange = if exchange == "." {
                    Some(Name::root())
                } else {
                    name(exchange)
                };
                match (preference.parse(), exchange) {
                    (Ok(preference), Some(exchange)) => {
                        vec![RData::MX(MX::new(preference, exchange))]
                    }
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The suite file: `MAILCHECK_RFC7208_SUITE`, or fetched once into `target/`.
fn suite_file() -> PathBuf {
    if let Ok(path) = std::env::var("MAILCHECK_RFC7208_SUITE") {
        return PathBuf::from(path);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/rfc7208");
    let file = dir.join("rfc7208-tests.yml");
    if file.exists() {
        return file;
    }
    std::fs::create_dir_all(&dir).expect("target/rfc7208 can be created");
    let download = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-binary", ":all:", "--no-deps", "--dest"])
        .arg(&dir)
        .arg(PYSPF)
        .status();
    assert!(
        matches!(download, Ok(status) if status.success()),
        "cannot fetch {PYSPF} from PyPI for the RFC 7208 suite ({download:?}); \
         set MAILCHECK_RFC7208_SUITE=FILE to a copy of rfc7208-tests.yml"
    );
    let archive = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.to_string_lossy().ends_with(".tar.gz"))
        .expect("pip downloaded a source archive");
    let unpacked = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&dir)
        .arg("--wildcards")
        .arg("--strip-components=2")
        .arg("*/test/rfc7208-tests.yml")
        .arg("*/test/rfc7208-tests.LICENSE")
        .status();
    assert!(
        matches!(unpacked, Ok(status) if status.success()) && file.exists(),
        "cannot unpack the suite from {}",
        archive.display()
    );
    file
}

/// One scenario's outcome.
struct Outcome {
    section: String,
    test: String,
    expected: Vec<String>,
    ours: String,
}

/// The identity checked (RFC 7208 §4.1, §4.3): the MAIL FROM domain, or the HELO name when
/// the reverse path is empty; `postmaster` stands in for a missing local part.
fn identity(mailfrom: &str, helo: &str) -> (String, String) {
    if mailfrom.is_empty() {
        return (format!("postmaster@{helo}"), helo.to_string());
    }
    match mailfrom.rsplit_once('@') {
        Some(("", domain)) => (format!("postmaster@{domain}"), domain.to_string()),
        Some((_, domain)) => (mailfrom.to_string(), domain.to_string()),
        None => (format!("postmaster@{mailfrom}"), mailfrom.to_string()),
    }
}

async fn run_suite(text: &str) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for document in text.split("\n---\n").skip(1) {
        let doc: Value = marked_yaml::from_yaml(0, document)
            .unwrap_or_else(|e| panic!("the suite's YAML parses: {e}"));
        let section = doc["description"].as_str().unwrap_or("?").to_string();
        let zone = SuiteZone::from_yaml(doc["zonedata"].as_object().expect("zonedata"));
        let dns = Dns::with_source(Arc::new(zone));
        for (test, data) in doc["tests"].as_object().expect("tests") {
            let helo = data["helo"].as_str().unwrap_or_default();
            let mailfrom = data["mailfrom"].as_str().unwrap_or_default();
            let ip: IpAddr = data["host"]
                .as_str()
                .and_then(|h| h.parse().ok())
                .expect("each scenario has a client address");
            let (sender, domain) = identity(mailfrom, helo);
            let client = Client {
                ip,
                sender,
                helo: helo.to_string(),
            };
            let mut lookups = Lookups::new(&dns);
            let ours = result_name(evaluate(&mut lookups, &client, &domain).await).to_string();
            outcomes.push(Outcome {
                section: section.clone(),
                test: test.clone(),
                expected: strings(&data["result"]),
                ours,
            });
        }
    }
    outcomes
}

#[tokio::test]
async fn the_rfc7208_suite_agrees_with_our_evaluation() {
    let file = suite_file();
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let outcomes = run_suite(&text).await;
    assert!(outcomes.len() > 150, "the suite has its scenarios");

    let mut per_section: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut differences = Vec::new();
    for outcome in &outcomes {
        let counts = per_section.entry(&outcome.section).or_default();
        counts.1 += 1;
        if outcome.expected.contains(&outcome.ours) {
            counts.0 += 1;
        } else {
            differences.push(format!(
                "{} ({}): suite {}, ours {}",
                outcome.test,
                outcome.section,
                outcome.expected.join("|"),
                outcome.ours
            ));
        }
    }
    for (section, (matched, total)) in &per_section {
        println!("rfc7208 {section}: {matched}/{total}");
    }
    let documented: Vec<&str> = KNOWN_DIFFERENCES.iter().map(|(test, _)| *test).collect();
    let undocumented: Vec<&String> = differences
        .iter()
        .filter(|d| !documented.iter().any(|t| d.starts_with(&format!("{t} ("))))
        .collect();
    assert!(
        undocumented.is_empty(),
        "{} scenario(s) differ from the suite:\n{}",
        undocumented.len(),
        undocumented
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for test in documented {
        assert!(
            differences
                .iter()
                .any(|d| d.starts_with(&format!("{test} ("))),
            "{test} is listed as a documented difference but now agrees with the suite"
        );
    }
}
