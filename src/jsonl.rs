//! Streamed results (`batch --jsonl FILE`), resuming (`--resume FILE`) and sharding
//! (`--shard K/N`).
//!
//! A JSONL file holds one line per finished target: `{"key": ..., <the target's report>}`,
//! the target's fields exactly as in the JSON report's `targets[]`, with `key` first. The key
//! names a target stably from run to run: a roster row's `name|target`, a domain list's line.
//! Each line is written whole and flushed as its target finishes, so a crash or Ctrl-C loses
//! only the targets in flight; a line cut short by a crash (the last one) is skipped on reading.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::outcome::TargetReport;

/// One line of a JSONL file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub key: String,
    #[serde(flatten)]
    pub target: TargetReport,
}

/// The stable key of a roster row: its name and target.
pub fn row_key(name: &str, target: &str) -> String {
    format!("{name}|{target}")
}

/// The key of a target report read back from a JSON report (no key stored there): a named
/// target's `name|target`, else its target.
pub fn report_key(target: &TargetReport) -> String {
    match &target.name {
        Some(name) => row_key(name, &target.target),
        None => target.target.clone(),
    }
}

/// FNV-1a (64 bits) of `text`: a hash that is the same on every machine and in every run
/// (std's hasher is randomly seeded per process, which would deal targets differently to
/// each shard).
pub fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `--shard K/N`: shard `index` (0-based, as Kubernetes' `JOB_COMPLETION_INDEX`) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether the target of `key` belongs to this shard.
    pub fn holds(&self, key: &str) -> bool {
        fnv1a(key) % self.count == self.index
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let usage = || format!("`{text}` is not K/N (shard K of N, 0 <= K < N, e.g. 0/3)");
        let (k, n) = text.split_once('/').ok_or_else(usage)?;
        let index: u64 = k.trim().parse().map_err(|_| usage())?;
        let count: u64 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

/// Reads a JSONL file. A line that does not parse is an error naming it, except the last one
/// when it is cut short (what a crash in the middle of a write leaves): that one is skipped
/// with a warning, and its target is run again.
pub fn read(path: &Path) -> Result<Vec<Line>, String> {
    let file =
        File::open(path).map_err(|e| format!("error: cannot read {}: {e}", path.display()))?;
    let mut lines = Vec::new();
    let mut raw: Vec<String> = Vec::new();
    for line in BufReader::new(file).lines() {
        raw.push(line.map_err(|e| format!("error: cannot read {}: {e}", path.display()))?);
    }
    let last = raw.len();
    for (number, text) in raw.iter().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(text) {
            Ok(line) => lines.push(line),
            Err(e) if number + 1 == last => {
                eprintln!(
                    "warning: {}:{}: last line cut short ({e}); its target is not counted as done",
                    path.display(),
                    number + 1
                );
            }
            Err(e) => {
                return Err(format!(
                    "error: {}:{}: not a mailcheck JSONL line: {e}",
                    path.display(),
                    number + 1
                ));
            }
        }
    }
    Ok(lines)
}

/// The `--jsonl` file, written line by line from the runtime's threads.
pub struct Writer {
    file: Mutex<File>,
    path: std::path::PathBuf,
    failed: std::sync::atomic::AtomicBool,
}

impl Writer {
    /// Creates (or, with `append`, extends) the file.
    pub fn open(path: &Path, append: bool) -> Result<Writer, String> {
        let mut options = OpenOptions::new();
        options.create(true);
        if append {
            options.append(true);
        } else {
            options.write(true).truncate(true);
        }
        let file = options
            .open(path)
            .map_err(|e| format!("error: cannot write {}: {e}", path.display()))?;
        Ok(Writer {
            file: Mutex::new(file),
            path: path.to_path_buf(),
            failed: Default::default(),
        })
    }

    /// Writes one target's line and flushes it; the first failure is said on stderr.
    pub fn write(&self, key: &str, target: &TargetReport, secrets: &[String]) {
        let line = Line {
            key: key.to_string(),
            target: target.clone(),
        };
        let Ok(mut text) = serde_json::to_string(&line) else {
            return;
        };
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            text = text.replace(secret.as_str(), "********");
        }
        text.push('\n');
        let mut file = match self.file.lock() {
            Ok(file) => file,
            Err(poisoned) => poisoned.into_inner(),
        };
        // One write of the whole line: a reader (or a crash) never sees half a line but the last.
        if let Err(e) = file.write_all(text.as_bytes()).and_then(|()| file.flush())
            && !self.failed.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!("error: cannot write {}: {e}", self.path.display());
        }
    }

    pub fn failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_the_published_function() {
        // Test vectors of the FNV reference (draft-eastlake-fnv).
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn shards_split_every_key_once() {
        let shards: Vec<Shard> = (0..3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        let mut sizes = [0usize; 3];
        for n in 0..3000 {
            let key = format!("student {n}|mail{n}.test");
            let owners: Vec<usize> = (0..3).filter(|&k| shards[k].holds(&key)).collect();
            assert_eq!(owners.len(), 1, "{key}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&s| s > 800), "{sizes:?}");
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_line_cut_short_at_the_end_is_skipped() {
        let dir = std::env::temp_dir().join(format!("mailcheck-jsonl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.jsonl");
        let writer = Writer::open(&path, false).unwrap();
        let target = TargetReport::new("mail.a.test".into(), None, vec![], vec![]);
        writer.write("A|mail.a.test", &target, &[]);
        drop(writer);
        let mut text = std::fs::read_to_string(&path).unwrap();
        let whole = text.clone();
        text.push_str(&whole[..whole.len() / 2]);
        std::fs::write(&path, &text).unwrap();
        let lines = read(&path).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].key, "A|mail.a.test");
        assert_eq!(lines[0].target, target);
        // A bad line in the middle is an error.
        std::fs::write(&path, format!("{{}}\n{whole}")).unwrap();
        assert!(read(&path).unwrap_err().contains(":1:"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
