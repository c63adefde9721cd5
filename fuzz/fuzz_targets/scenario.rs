//! Scenario files as users write them: any YAML, any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = mailcheck::scenario::load_str("fuzz.yaml", text) {
        // Rendering the error (file:line:column, caret) must not panic either.
        let _ = error.to_string();
    }
});
