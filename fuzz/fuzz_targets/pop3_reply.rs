//! POP3 status lines and multi-line replies (`+OK`, `-ERR`, CAPA lists ending in `.`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailcheck::probe::pop3::parse_reply(data);
    let _ = mailcheck::probe::pop3::parse_multiline(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mailcheck::probe::pop3::parse_status_line(text);
    }
});
