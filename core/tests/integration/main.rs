//! Integration tests of anjian-core, one binary with a module per area.

mod common;
mod exchange;
mod inspection;
mod merge;
mod migration;
mod store;
