//! What a server answers to a hand-made ClientHello: TLS records holding a ServerHello,
//! Certificate, alerts, or garbage.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailcheck::probe::legacy_tls::parse_answer(data);
});
