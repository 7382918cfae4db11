//! The jobs in flight and their cancel flags: a cancel request reaches whichever job (render
//! or photo) has that number.

use std::cell::RefCell;
use std::collections::HashMap;

use microscope_core::fv::CancelFlag;

thread_local! {
    static RUNNING: RefCell<HashMap<u32, CancelFlag>> = RefCell::new(HashMap::new());
}

/// Registers job `job` and returns the flag that [`cancel`] sets.
pub fn begin(job: u32) -> CancelFlag {
    let flag = CancelFlag::new();
    RUNNING.with(|running| running.borrow_mut().insert(job, flag.clone()));
    flag
}

/// Forgets job `job` once it has ended.
pub fn end(job: u32) {
    RUNNING.with(|running| running.borrow_mut().remove(&job));
}

/// Asks job `job` to stop at its next pause (nothing happens if it has ended).
pub fn cancel(job: u32) {
    RUNNING.with(|running| {
        if let Some(flag) = running.borrow().get(&job) {
            flag.cancel();
        }
    });
}
