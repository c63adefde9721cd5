//! The reply patterns of custom dialog checks (`code: 5xx`, `enhanced: 5.7.x`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailcheck::check::{CodePattern, EnhancedPattern};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(pattern) = CodePattern::parse(text) {
        for code in [220, 250, 421, 454, 502, 535, 550, 999] {
            let _ = pattern.matches(code);
        }
    }
    let _ = EnhancedPattern::parse(text);
});
