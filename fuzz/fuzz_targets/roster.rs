//! Rosters for `batch`, in YAML and CSV.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = std::path::Path::new("/nonexistent");
    if let Err(error) = mailcheck::roster::load_yaml("fuzz.yaml", text, base) {
        let _ = error.to_string();
    }
    if let Err(error) = mailcheck::roster::load_csv("fuzz.csv", text, base) {
        let _ = error.to_string();
    }
});
