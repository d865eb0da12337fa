//! A counting global allocator: every byte each thread requests (`alloc`, `alloc_zeroed`, and
//! `realloc` at its full new size; frees are not subtracted). Shared by the fuzz targets and
//! the allocation-bound test, which include this file.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static REQUESTED: Cell<usize> = const { Cell::new(0) };
}

fn add(n: usize) {
    // `try_with`: the counter may already be gone while the thread shuts down.
    let _ = REQUESTED.try_with(|r| r.set(r.get().saturating_add(n)));
}

/// Counts, per thread, every byte requested from the system allocator.
#[derive(Debug)]
pub struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// The bytes this thread has requested so far.
pub fn requested() -> usize {
    REQUESTED.with(Cell::get)
}

/// The bytes this thread requests while running `f` (its result dropped inside).
#[allow(dead_code)]
pub fn requested_by<R>(f: impl FnOnce() -> R) -> usize {
    let before = requested();
    drop(f());
    requested() - before
}
