//! IMAP response lines and status responses (`* OK [CAPABILITY ...]`, tagged NO/BAD, literals).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailcheck::probe::imap::parse_response(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mailcheck::probe::imap::parse_status(text);
    }
});
