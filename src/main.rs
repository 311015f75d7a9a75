fn main() -> std::process::ExitCode {
    fewer_malloc_arenas();
    big_allocations_returned();
    cairn::cli::run()
}

/// glibc gives a thread that allocates while the arenas in use are locked an arena of its
/// own (up to eight per core) and keeps what each frees for reuse there. With actix's
/// workers, tokio's blocking threads and a thread per SQLite connection, that held about
/// 12 MB of the 10 000-contact bench's peak RSS; two arenas served the same load with no
/// measurable loss of requests/s. `MALLOC_ARENA_MAX` in the environment still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fewer_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    // SAFETY: first thing in `main`, before any other thread exists; mallopt only sets
    // an allocator parameter (its failure leaves the default, which is harmless).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fewer_malloc_arenas() {}

/// Allocations of 1 MiB and more get pages of their own, given back when freed. glibc
/// starts so (at 128 KiB) but raises the threshold to the size of any such block freed,
/// up to 32 MiB: after the first sign-in freed argon2id's 19 MiB, the next sign-in's
/// came from the heap and stayed resident (18 MB of the 10 000-contact bench's 66 MB
/// peak RSS). A fixed threshold also keeps glibc's default trim threshold (128 KiB)
/// rather than twice the raised one. `MALLOC_MMAP_THRESHOLD_` in the environment wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn big_allocations_returned() {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return;
    }
    // SAFETY: as in `fewer_malloc_arenas`, before any other thread; only a parameter.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn big_allocations_returned() {}
