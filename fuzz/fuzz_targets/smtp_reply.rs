//! SMTP replies as a server sends them (greetings, EHLO, multi-line, bare LF, garbage).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    // Consume replies one after the other, as the client does on a pipelined stream.
    while let Ok(Some((_reply, used))) = mailcheck::probe::reply::parse_reply(rest) {
        assert!(used > 0 && used <= rest.len(), "a reply uses bytes it was given");
        rest = &rest[used..];
    }
});
