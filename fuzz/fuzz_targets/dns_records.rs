//! TXT records as DNS publishes them: DMARC tags and report URIs, DKIM keys.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailcheck::probe::dns::Answer;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if mailcheck::check::dns::dmarc::is_dmarc(text) {
        let (tags, _problems) = mailcheck::check::dns::dmarc::tags(text);
        for (_, value) in tags {
            for uri in value.split(',') {
                let _ = mailcheck::check::dns::dmarc::uri_problem(uri);
            }
        }
    }
    let _ = mailcheck::check::dns::dkim::inspect(&Answer::Records(vec![text.to_string()]));
});
