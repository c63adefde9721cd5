//! The IMAP checks.

pub mod banner_no_software;
pub mod imaps;
pub mod login;
pub mod login_tls_only;
pub mod starttls;
