//! The progress bar on stderr while `analyze` reads large inputs: only when stderr is a terminal,
//! so pipes, files and CI logs never see it. It implements the pipeline's [`Progress`]; the
//! pipeline only calls it.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pipeline::Progress;

/// Inputs at least this large (bytes) or this many files get a bar.
const MIN_BYTES: u64 = 64 * 1024 * 1024;
const MIN_FILES: usize = 200;

/// A bar over the bytes to read, drawn on stderr when it is a terminal and the input is large.
pub(crate) struct Bar {
    bar: ProgressBar,
    enabled: bool,
}

impl Bar {
    /// A bar that draws only if stderr is a terminal.
    pub(crate) fn for_stderr() -> Bar {
        Bar {
            bar: ProgressBar::hidden(),
            enabled: std::io::stderr().is_terminal(),
        }
    }
}

impl Progress for Bar {
    fn begin(&self, files: usize, bytes: u64) {
        if !self.enabled || (bytes < MIN_BYTES && files < MIN_FILES) {
            return;
        }
        self.bar.set_length(bytes);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} reading {msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({eta} left)",
        ) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_message(format!("{files} file(s)"));
        self.bar.set_draw_target(ProgressDrawTarget::stderr());
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn end(&self) {
        self.bar.finish_and_clear();
    }
}
