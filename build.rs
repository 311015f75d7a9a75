//! Link settings of the `cairn` binary.
fn main() {
    // The binary is position-independent, so the loader patches some 79 000 addresses at
    // every start, read from a 1.8 MB table (`.rela.dyn`) that then stays resident. Packed
    // (RELR, glibc 2.36+ and binutils 2.38+, as in Debian 12 and the Docker image) the
    // table is a few kilobytes: 1.8 MB less RSS for nothing (issue 11's memory bound).
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
