//! `cargo run -p uniffi-bindgen -- generate …`: the generator must be the same UniFFI version as
//! the library it reads, so it is built from this workspace rather than installed.

fn main() {
    uniffi::uniffi_bindgen_main()
}
