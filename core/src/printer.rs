//! Sending a print job to a printer. Cheap portable printers drop bytes when their buffer
//! overflows, so a job goes out in small chunks with a pause between them; a printer that stops
//! taking bytes or goes away mid-job is reported with how much of the job it got, and the same
//! job can simply be sent again.
//!
//! Links: TCP (Wi-Fi printers, port 9100), a device file (`/dev/rfcomm0` is Bluetooth SPP on
//! Linux, `/dev/usb/lp0` USB), or any [`PrinterLink`] (the Android shell sends the chunks over
//! its own Bluetooth socket, with the pacing from [`Pacing`]).

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Result};

/// How a job is cut up and paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pacing {
    /// Bytes per write; cheap printers are safe at ≤ 512.
    pub chunk_bytes: usize,
    /// Pause after each chunk.
    pub pause: Duration,
    /// How long one write may block before the printer counts as gone.
    pub timeout: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            chunk_bytes: 256,
            pause: Duration::from_millis(20),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Pacing {
    pub fn check(&self) -> Result<()> {
        if !(16..=4096).contains(&self.chunk_bytes) {
            return Err(Error::InvalidInput(format!(
                "每次发送 {} 字节不合理：应在 16 到 4096 之间（廉价打印机宜 ≤ 512）",
                self.chunk_bytes
            )));
        }
        if self.timeout.is_zero() {
            return Err(Error::InvalidInput("超时不能为 0".into()));
        }
        Ok(())
    }
}

/// Where the bytes go.
pub trait PrinterLink {
    /// Writes the whole chunk or fails.
    fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()>;
    /// Waits until the bytes written have left this side.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// A printer address as the command line writes it: `tcp://HOST:PORT` or `file:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterAddress {
    Tcp(String),
    File(PathBuf),
}

impl PrinterAddress {
    pub fn parse(text: &str) -> Result<PrinterAddress> {
        if let Some(host_port) = text.strip_prefix("tcp://") {
            let valid = host_port
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if valid {
                return Ok(PrinterAddress::Tcp(host_port.to_string()));
            }
        } else if let Some(path) = text.strip_prefix("file:")
            && !path.is_empty()
        {
            return Ok(PrinterAddress::File(PathBuf::from(path)));
        }
        Err(Error::InvalidInput(format!(
            "打印机地址 {text:?} 应为 tcp://主机:端口（如 tcp://192.168.1.87:9100）或 file:设备路径（如 file:/dev/rfcomm0）"
        )))
    }

    /// Opens the link, within the pacing's timeout.
    pub fn connect(&self, pacing: &Pacing) -> Result<Box<dyn PrinterLink>> {
        let gone = |reason: String| Error::Printer {
            sent: 0,
            total: 0,
            reason,
        };
        match self {
            PrinterAddress::Tcp(host_port) => {
                let addresses: Vec<_> = host_port
                    .to_socket_addrs()
                    .map_err(|e| gone(format!("无法解析 {host_port}：{e}")))?
                    .collect();
                let mut last = None;
                for address in addresses {
                    match TcpStream::connect_timeout(&address, pacing.timeout) {
                        Ok(stream) => {
                            stream
                                .set_write_timeout(Some(pacing.timeout))
                                .map_err(|e| gone(e.to_string()))?;
                            stream.set_nodelay(true).map_err(|e| gone(e.to_string()))?;
                            return Ok(Box::new(TcpLink(stream)));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(gone(format!(
                    "无法连接打印机 {host_port}：{}",
                    last.map_or("没有地址".to_string(), |e| e.to_string())
                )))
            }
            PrinterAddress::File(path) => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| gone(format!("无法打开打印设备 {}：{e}", path.display())))?;
                Ok(Box::new(FileLink(file)))
            }
        }
    }
}

struct TcpLink(TcpStream);

impl PrinterLink for TcpLink {
    fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.0.write_all(chunk)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        // A printer that closed its side answers the shutdown with a reset, which shows here.
        self.0.shutdown(std::net::Shutdown::Write)
    }
}

struct FileLink(std::fs::File);

impl PrinterLink for FileLink {
    fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.0.write_all(chunk)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        self.0.sync_all().or(Ok(()))
    }
}

/// What was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SendReport {
    pub bytes: usize,
    pub chunks: usize,
    pub millis: u128,
}

/// Sends a job in paced chunks. On failure the error says how many bytes the printer took.
pub fn send(link: &mut dyn PrinterLink, job: &[u8], pacing: &Pacing) -> Result<SendReport> {
    pacing.check()?;
    let started = Instant::now();
    let mut sent = 0;
    let mut chunks = 0;
    let gone = |sent: usize, e: std::io::Error| {
        let reason = match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => format!(
                "打印机 {} 秒内没有接收数据（缺纸、过热或缓冲区满？）",
                pacing.timeout.as_secs()
            ),
            std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted => "打印机断开了连接".to_string(),
            _ => e.to_string(),
        };
        Error::Printer {
            sent,
            total: job.len(),
            reason,
        }
    };
    for chunk in job.chunks(pacing.chunk_bytes) {
        link.write_chunk(chunk).map_err(|e| gone(sent, e))?;
        sent += chunk.len();
        chunks += 1;
        if sent < job.len() && !pacing.pause.is_zero() {
            std::thread::sleep(pacing.pause);
        }
    }
    link.finish().map_err(|e| gone(sent, e))?;
    Ok(SendReport {
        bytes: sent,
        chunks,
        millis: started.elapsed().as_millis(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_tcp_or_file() {
        assert_eq!(
            PrinterAddress::parse("tcp://192.168.1.87:9100").unwrap(),
            PrinterAddress::Tcp("192.168.1.87:9100".into())
        );
        assert_eq!(
            PrinterAddress::parse("file:/dev/rfcomm0").unwrap(),
            PrinterAddress::File("/dev/rfcomm0".into())
        );
        for bad in [
            "192.168.1.87:9100",
            "tcp://printer",
            "tcp://:9100",
            "tcp://p:99999",
            "file:",
            "bt://x",
        ] {
            assert!(PrinterAddress::parse(bad).is_err(), "{bad}");
        }
    }

    struct Recorder(Vec<Vec<u8>>);

    impl PrinterLink for Recorder {
        fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()> {
            self.0.push(chunk.to_vec());
            Ok(())
        }
        fn finish(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_job_goes_out_in_chunks_of_the_configured_size() {
        let job: Vec<u8> = (0..1000u32).map(|n| n as u8).collect();
        let mut link = Recorder(Vec::new());
        let pacing = Pacing {
            chunk_bytes: 256,
            pause: Duration::ZERO,
            timeout: Duration::from_secs(1),
        };
        let report = send(&mut link, &job, &pacing).unwrap();
        assert_eq!((report.bytes, report.chunks), (1000, 4));
        assert!(link.0.iter().all(|c| c.len() <= 256));
        assert_eq!(link.0.concat(), job);
        let too_big = Pacing {
            chunk_bytes: 100_000,
            ..pacing
        };
        assert!(send(&mut link, &job, &too_big).is_err());
    }
}
