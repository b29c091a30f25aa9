//! Printing over a link the app owns (a Bluetooth SPP socket on Android): the app hands over a
//! sink that writes bytes to the radio, and core cuts the job into paced chunks and reports how
//! far it got when the printer goes away.

use std::sync::Arc;
use std::time::Duration;

use anjian_core::printer::{self, Pacing, PrinterLink};

use crate::error::{AnjianError, invalid};

/// Where a print job's bytes go, implemented by the app.
#[uniffi::export(with_foreign)]
pub trait PrinterSink: Send + Sync {
    /// Writes the whole chunk, or fails with [`AnjianError::Printer`].
    fn write_chunk(&self, chunk: Vec<u8>) -> Result<(), AnjianError>;
    /// Returns once the bytes written have left the device.
    fn finish(&self) -> Result<(), AnjianError>;
}

/// How a job is cut up and paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PrintPacing {
    /// Bytes per write; cheap printers are safe at ≤ 512.
    pub chunk_bytes: u32,
    /// Pause after each chunk, so the printer's buffer drains.
    pub pause_millis: u32,
    /// How long one write may block before the printer counts as gone; the sink enforces it.
    pub timeout_millis: u32,
}

/// The pacing that suits the common 58 and 80 mm Bluetooth printers.
#[uniffi::export]
pub fn default_print_pacing() -> PrintPacing {
    let pacing = Pacing::default();
    PrintPacing {
        chunk_bytes: pacing.chunk_bytes as u32,
        pause_millis: pacing.pause.as_millis() as u32,
        timeout_millis: pacing.timeout.as_millis() as u32,
    }
}

impl PrintPacing {
    pub(crate) fn to_core(self) -> Pacing {
        Pacing {
            chunk_bytes: self.chunk_bytes as usize,
            pause: Duration::from_millis(self.pause_millis.into()),
            timeout: Duration::from_millis(self.timeout_millis.into()),
        }
    }
}

/// What reached the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PrintReport {
    pub bytes: u64,
    pub chunks: u64,
    pub millis: u64,
}

struct SinkLink(Arc<dyn PrinterSink>);

fn io_error(error: AnjianError) -> std::io::Error {
    std::io::Error::other(error.to_string())
}

impl PrinterLink for SinkLink {
    fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.0.write_chunk(chunk.to_vec()).map_err(io_error)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.0.finish().map_err(io_error)
    }
}

/// Sends a job through the app's sink in paced chunks.
pub(crate) fn send(
    sink: Arc<dyn PrinterSink>,
    job: &[u8],
    pacing: PrintPacing,
) -> Result<PrintReport, AnjianError> {
    if job.is_empty() {
        return Err(invalid("打印内容为空".into()));
    }
    let report = printer::send(&mut SinkLink(sink), job, &pacing.to_core())?;
    Ok(PrintReport {
        bytes: report.bytes as u64,
        chunks: report.chunks as u64,
        millis: report.millis as u64,
    })
}
