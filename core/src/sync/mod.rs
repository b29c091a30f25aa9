//! Sync with the server: the wire types ([`protocol`]), receipts and the audit chain
//! ([`receipt`]), the device's side of an exchange ([`device`]) and, with the `client`
//! feature, the HTTP client ([`client`]).

#[cfg(feature = "client")]
pub mod client;
pub mod device;
pub mod protocol;
pub mod receipt;
