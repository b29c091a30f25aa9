//! anjian-server: the sync server. Devices upload records as Automerge changes; the server
//! validates them against its reference data and the uploader's scope, locks submitted
//! records with a signed receipt and a hash-chained audit log, leases document-number blocks,
//! and sends each device the updates for its scope.
//!
//! Storage is behind [`store::Store`] (SQLite embedded, PostgreSQL for scale). The HTTP API is
//! [`api::app`]; the command line is [`cli::main`].

pub mod access;
pub mod admin;
pub mod analysis;
pub mod api;
pub mod audit;
pub mod auth;
pub mod checkpoint;
pub mod cli;
pub mod demo;
pub mod documents;
pub mod error;
pub mod extract;
pub mod follow_up;
pub mod intake;
pub mod iot;
pub mod keys;
pub mod metrics;
pub mod observe;
pub mod password;
pub mod report;
pub mod review;
pub mod seed;
pub mod state;
pub mod sync;
pub mod transport;
pub mod verify;

pub use anjian_store as store;
