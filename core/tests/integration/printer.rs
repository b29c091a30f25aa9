//! A printer that stops taking bytes for good is reported within the timeout.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use anjian_core::Error;
use anjian_core::printer::{Pacing, PrinterAddress, send};

#[test]
fn a_printer_that_never_reads_again_times_out_with_what_it_got() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = PrinterAddress::Tcp(listener.local_addr().unwrap().to_string());
    // Accept and hold the connection without reading: the socket buffers fill, then writes
    // block until the timeout.
    let holder = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(4));
        drop(stream);
    });
    let pacing = Pacing {
        chunk_bytes: 4096,
        pause: Duration::ZERO,
        timeout: Duration::from_secs(1),
    };
    let job = vec![0x20u8; 64 * 1024 * 1024];
    let mut link = address.connect(&pacing).unwrap();
    let started = Instant::now();
    let err = send(link.as_mut(), &job, &pacing).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    match err {
        Error::Printer {
            sent,
            total,
            reason,
        } => {
            assert!(sent > 0 && sent < total, "{sent}/{total}");
            assert!(reason.contains("没有接收数据"), "{reason}");
        }
        other => panic!("{other}"),
    }
    holder.join().unwrap();
}
