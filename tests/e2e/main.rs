//! Whole-system tests: the real server and several real devices.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod attacks;
mod audit;
mod authz;
mod bad_input;
mod browser;
mod exports;
mod faults;
mod forms_and_input;
mod iot;
mod observe;
mod openapi;
mod review;
mod sync_flow;
mod verify;
