//! anjian-core: the domain of the 安监 offline enforcement system.
//!
//! An inspector opens a [`Store`] on the device, imports the enterprise register, starts an
//! inspection from a checklist [`Template`], answers items, and submits. Each record is an
//! Automerge document ([`RecordDoc`]) so that two tablets working on one inspection offline
//! merge to the same state, and an answer given differently on both is kept as a
//! [`record::Conflict`] until someone chooses.
//!
//! ```no_run
//! use anjian_core::{Store, inspection::StartInspection};
//! # fn main() -> anjian_core::Result<()> {
//! let mut store = Store::open(std::path::Path::new("/data/anjian"))?;
//! let record = store.start_inspection(
//!     &StartInspection {
//!         enterprise: "914403001922038216".into(),
//!         template: "trade-enforcement".into(),
//!         ..Default::default()
//!     },
//!     chrono::Utc::now(),
//! )?;
//! store.answer_item(&record.id, "IT-001", "pass", &Default::default(), chrono::Utc::now())?;
//! # Ok(()) }
//! ```

pub mod agency;
pub mod document;
pub mod enterprise;
pub mod error;
pub mod exchange;
pub mod inspection;
pub mod numbering;
pub mod photos;
pub mod printer;
pub mod record;
pub mod store;
pub mod sync;
pub mod template;
pub mod text;
pub mod time;

pub use error::{Error, Result};
pub use record::{Record, RecordDoc};
pub use store::Store;
pub use template::Template;
