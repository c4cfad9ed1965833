//! How the heap is laid out (glibc's allocator; elsewhere these do nothing).
//!
//! Loading a large environment file makes hundreds of thousands of small
//! allocations, some 25 MB in all for 1,000 instances. In 4 KiB pages that
//! is 6,700 page faults, a fifth of the CPU time of `validate`. Transparent
//! huge pages, where the kernel offers them on request (`madvise` mode),
//! cut that to a few dozen faults of 2 MiB each. Only a large file gets
//! them (`for_large_file`): for the others, the faults are few, and the
//! rest of a command's run keeps the kernel's usual pages.

use std::sync::atomic::{AtomicBool, Ordering};

/// Files from which the heap is set up for huge pages (see `for_large_file`).
pub const LARGE_FILE: usize = 512 * 1024;

/// Whether `for_large_file` was called: threads that build parts of the
/// environment then set up their own heaps too (`prepare_thread`).
static LARGE: AtomicBool = AtomicBool::new(false);

/// Sets up the heap. Called first in `main`, before any other thread.
pub fn prepare() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of glibc's allocator,
    // before any other thread exists.
    unsafe {
        // The heap grows by 64 MiB of address space at a time instead of
        // what each allocation needs: a few system calls instead of
        // hundreds (pages are still committed only when touched).
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Sets up the heap for loading a file of `LARGE_FILE` bytes or more: huge
/// pages for the heap, and for the arenas of the threads that call
/// `prepare_thread` from now on.
pub fn for_large_file() {
    LARGE.store(true, Ordering::Relaxed);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of glibc's allocator
    // (it takes the allocator's lock); the probe is freed at once;
    // madvise(MADV_HUGEPAGE) only allows larger pages for memory the heap
    // already maps.
    unsafe {
        // Allocations up to 32 MiB (a large mapping's entries) come from
        // the heap too, instead of a mapping of their own faulted in 4 KiB
        // at a time.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        // Grow the heap now (by more than what is left of it), then allow
        // huge pages over all of it.
        let probe = libc::malloc(1 << 20);
        libc::free(probe);
        if !probe.is_null() {
            advise_huge_pages(probe as usize, libc::sbrk(0) as usize);
        }
    }
}

/// Sets up the heap of the calling thread, for threads that build large
/// parts of the environment: huge pages after `for_large_file`. glibc
/// gives such a thread an arena of its own: a region aligned to its 64 MiB
/// maximum size.
pub fn prepare_thread() {
    if !LARGE.load(Ordering::Relaxed) {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: the probe is freed at once; madvise(MADV_HUGEPAGE) only
    // allows larger pages for what is mapped in the range (should the
    // probe not come from an arena, the range is merely other memory of
    // this process, which the advice does not change otherwise).
    unsafe {
        let probe = libc::malloc(1);
        libc::free(probe);
        if !probe.is_null() {
            let arena = probe as usize & !(ARENA_SIZE - 1);
            advise_huge_pages(arena, arena + ARENA_SIZE);
        }
    }
}

/// glibc's HEAP_MAX_SIZE on 64-bit systems.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_SIZE: usize = 64 << 20;

/// Allows huge pages for the whole 2 MiB pages between `from` and `to`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn advise_huge_pages(from: usize, to: usize) {
    const HUGE: usize = 2 << 20;
    let start = from.div_ceil(HUGE) * HUGE;
    if to > start {
        // SAFETY: see the callers; a failure (no huge pages on this
        // kernel) changes nothing.
        unsafe {
            libc::madvise(start as *mut libc::c_void, to - start, libc::MADV_HUGEPAGE);
        }
    }
}
