//! anjian-ffi: the Kotlin face of anjian-core, through UniFFI. Wrappers and nothing else: every
//! rule lives in core, and this crate only turns core's types into ones UniFFI can carry.
//!
//! Storage calls are synchronous (the app calls them on `Dispatchers.IO`); login, sync and
//! logout are `suspend` functions run on tokio. Times cross as RFC 3339 strings in China time
//! and dates as `YYYY-MM-DD`, the way the documents print them.

mod error;
mod printing;
mod store;
mod views;

pub use error::AnjianError;
pub use printing::{PrintPacing, PrintReport, PrinterSink, default_print_pacing};
pub use store::DeviceStore;
pub use views::*;

uniffi::setup_scaffolding!();
