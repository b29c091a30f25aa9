//! Integration tests of anjian-core, one binary with a module per area.
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod checklists;
mod common;
mod documents;
mod exchange;
mod inspection;
mod merge;
mod migration;
mod numbering;
mod printer;
mod reinspection;
mod store;
mod text;
