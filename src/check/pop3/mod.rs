//! The POP3 checks.

pub mod login_tls_only;
pub mod pop3s;
pub mod stls;
