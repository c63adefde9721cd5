//! Certificates as servers present them (DER), read for the tls.cert.* facts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rustls_pki_types::CertificateDer;

fuzz_target!(|data: &[u8]| {
    let _ = mailcheck::check::tls::facts(&CertificateDer::from(data));
});
