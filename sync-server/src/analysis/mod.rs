//! The supervisors' analyses: the rules they apply, independent of storage. `grading` turns a
//! town's indicator rates into an A/B/C/D grade from the configured weights; `monthly` is the
//! monthly self-inspection deadline rule.

pub mod grading;
pub mod monthly;
