//! The C allocator's settings for tensor work, applied once at start: glibc serves every
//! allocation from its heap and keeps freed memory for the next one, instead of mapping each
//! large tensor anew from the kernel (and having it zeroed page by page) and unmapping it when
//! freed. A feature-visualization step at batch 16 allocates and frees tensors of tens of MB
//! many times; with glibc's defaults a third of its time went to page faults and zeroing
//! (BENCHMARKS.md, "The C allocator"). The cost: the process keeps its peak heap until it exits.
//!
//! The CLI's one `unsafe` call (core's `pointwise::product`, calling `gemm`, is the workspace's
//! other): `mallopt` is a plain C function taking two integers, called before any other thread
//! exists.

/// Sets glibc's `M_MMAP_MAX` to 0 (no allocation is served by its own mapping) and
/// `M_TRIM_THRESHOLD` to its largest value, 2 GiB (freed heap is kept), unless the environment already sets
/// either (`MALLOC_MMAP_MAX_`, `MALLOC_TRIM_THRESHOLD_`), which then wins. Elsewhere than glibc
/// on Linux, nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_MMAP_MAX_").is_some()
            || std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_some()
        {
            return;
        }
        // `mallopt` returns 1 on success and 0 on failure; a failure leaves glibc's defaults,
        // which are correct, only slower.
        #[allow(unsafe_code)]
        // SAFETY: `mallopt` only changes two integer parameters of glibc's allocator; it is
        // called at the start of `main`, before any thread could allocate concurrently.
        unsafe {
            libc::mallopt(libc::M_MMAP_MAX, 0);
            libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
        }
    }
}
