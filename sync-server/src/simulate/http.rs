//! A minimal HTTP/1.1 client over one kept-alive TCP connection: what the simulator needs to
//! post JSON to a server beside it (plain `http://` only), without a second HTTP stack in the
//! server binary.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// `http://host:port` → `host:port`.
pub fn authority(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("服务器地址 {url} 应以 http:// 开头（模拟器只用明文 HTTP，请在服务器旁运行）")
    })?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err(format!("服务器地址 {url} 应为 http://主机:端口"));
    }
    Ok(if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    })
}

pub struct Connection {
    authority: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    pub fn new(authority: &str) -> Connection {
        Connection {
            authority: authority.to_string(),
            stream: None,
        }
    }

    /// Sends one request and reads its answer: (status, body). A connection the server closed
    /// while idle is reopened once.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        match self.exchange(method, path, bearer, body).await {
            Ok(answer) => Ok(answer),
            Err(_) => {
                self.stream = None;
                self.exchange(method, path, bearer, body).await
            }
        }
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let io = |e: std::io::Error| format!("与服务器 {} 通信失败：{e}", self.authority);
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.authority).await.map_err(io)?;
            stream.set_nodelay(true).map_err(io)?;
            self.stream = Some(BufReader::new(stream));
        }
        let authority = self.authority.clone();
        let io = |e: std::io::Error| format!("与服务器 {authority} 通信失败：{e}");
        let Some(stream) = self.stream.as_mut() else {
            return Err("no connection".into());
        };
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n",
            body.len()
        );
        if let Some(token) = bearer {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        let writer = stream.get_mut();
        writer.write_all(head.as_bytes()).await.map_err(io)?;
        writer.write_all(body).await.map_err(io)?;
        writer.flush().await.map_err(io)?;

        let mut line = String::new();
        if stream.read_line(&mut line).await.map_err(io)? == 0 {
            return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("服务器的答复无法识别：{line:?}"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            line.clear();
            stream.read_line(&mut line).await.map_err(io)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse::<usize>().ok(),
                    "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                    "connection" => close = value.eq_ignore_ascii_case("close"),
                    _ => {}
                }
            }
        }
        let mut answer = Vec::new();
        if chunked {
            loop {
                line.clear();
                stream.read_line(&mut line).await.map_err(io)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| format!("分块长度无法识别：{line:?}"))?;
                let mut chunk = vec![0; size + 2];
                stream.read_exact(&mut chunk).await.map_err(io)?;
                if size == 0 {
                    break;
                }
                answer.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(length) = length {
            answer.resize(length, 0);
            stream.read_exact(&mut answer).await.map_err(io)?;
        } else {
            stream.read_to_end(&mut answer).await.map_err(io)?;
            close = true;
        }
        if close {
            self.stream = None;
        }
        Ok((status, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_addresses_are_taken() {
        assert_eq!(
            authority("http://127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080"
        );
        assert_eq!(authority("http://server/").unwrap(), "server:80");
        assert!(authority("https://server").unwrap_err().contains("http://"));
        assert!(authority("http://server/api").is_err());
    }
}
