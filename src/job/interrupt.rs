//! Ctrl-C: a run stops cleanly, writing no result for what it had not finished.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::INTERRUPTED;

static STOP: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C (SIGINT) stop running jobs cleanly: the decoder stops at the next frame and
/// the job fails with [`crate::Error::Interrupted`], before any result file is written. A second
/// Ctrl-C exits at once with code 130.
pub fn stop_on_ctrl_c() {
    let installed = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(INTERRUPTED.into());
        }
    });
    // Without a handler (one already installed by an embedding program) Ctrl-C keeps its
    // default effect, which also writes nothing.
    drop(installed);
}

/// Whether Ctrl-C was pressed.
pub fn stopped() -> bool {
    STOP.load(Ordering::SeqCst)
}
