//! A fault-injecting HTTP proxy in front of a real storage server. Each
//! request is forwarded on a connection of its own (the proxy asks for
//! `Connection: close`), so that every request can be seen and given a
//! fault: stalled (accepted, never answered), answered with an error status,
//! or cut off after some bytes of its body or of the answer, as when the
//! server dies. [`RequestKind::of`] tells S3 requests apart by their request
//! line, so that a fault can be aimed at one kind.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it.
    Pass,
    /// Take it and never answer.
    Stall,
    /// Answer with this status and an S3 error body, without forwarding.
    Status(u16),
    /// Forward it, then cut both connections after this many bytes of the
    /// request's body have gone through.
    CutAfter(u64),
    /// Forward it, then cut both connections after this many bytes of the
    /// answer (status line and headers included) have gone back.
    CutReply(u64),
}

/// What an S3 request does, as its request line shows it (path-style
/// addressing: `/bucket/key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestKind {
    /// `HEAD` of an object or a bucket.
    Head,
    /// `GET` of a bucket with listing parameters (`list-type=`, `prefix=`,
    /// `delimiter=`).
    List,
    /// `GET` of a manifest (`*.manifest.json`).
    GetManifest,
    /// `GET` of any other object.
    GetData,
    /// `PUT`: an object, a part of a multipart upload, a bucket.
    Put,
    /// `POST`: creating (`?uploads`) or completing (`?uploadId=`) a
    /// multipart upload, deleting several objects.
    Post,
    /// `DELETE` of an object, or aborting a multipart upload.
    Delete,
    /// Anything else (e.g. `GET /bucket?location`).
    Other,
}

impl RequestKind {
    /// Every kind a fault can be aimed at.
    pub const ALL: [RequestKind; 7] = [
        RequestKind::Head,
        RequestKind::List,
        RequestKind::GetManifest,
        RequestKind::GetData,
        RequestKind::Put,
        RequestKind::Post,
        RequestKind::Delete,
    ];

    /// The kind of the request whose first line is `line` (e.g.
    /// `GET /bucket?list-type=2&prefix=p%2F HTTP/1.1`).
    pub fn of(line: &str) -> RequestKind {
        let mut words = line.split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let bucket_only = path.trim_matches('/').split('/').count() <= 1;
        let listing = query.split('&').any(|p| {
            ["list-type=", "prefix=", "delimiter="]
                .iter()
                .any(|k| p.starts_with(k))
        });
        match method {
            "HEAD" => RequestKind::Head,
            "GET" if bucket_only && listing => RequestKind::List,
            "GET" if bucket_only => RequestKind::Other,
            "GET" if path.ends_with(".manifest.json") => RequestKind::GetManifest,
            "GET" => RequestKind::GetData,
            "PUT" => RequestKind::Put,
            "POST" => RequestKind::Post,
            "DELETE" => RequestKind::Delete,
            _ => RequestKind::Other,
        }
    }

    /// A short lower-case name (`get-manifest`).
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Head => "head",
            RequestKind::List => "list",
            RequestKind::GetManifest => "get-manifest",
            RequestKind::GetData => "get-data",
            RequestKind::Put => "put",
            RequestKind::Post => "post",
            RequestKind::Delete => "delete",
            RequestKind::Other => "other",
        }
    }
}

type Decide = Box<dyn FnMut(&str) -> Fault + Send>;

/// A running proxy; it stops when dropped.
pub struct Proxy {
    addr: SocketAddr,
    decide: Arc<Mutex<Decide>>,
    seen: Arc<Mutex<Vec<(String, Fault)>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts a proxy on loopback in front of `upstream` (`host:port`),
    /// forwarding everything until [`Proxy::set`] says otherwise.
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            decide: Arc::new(Mutex::new(Box::new(|_: &str| Fault::Pass))),
            seen: Arc::default(),
            stop: Arc::default(),
        };
        let upstream = upstream.to_string();
        let (decide, seen, stop) = (
            Arc::clone(&proxy.decide),
            Arc::clone(&proxy.seen),
            Arc::clone(&proxy.stop),
        );
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (upstream, decide, seen, stop) = (
                            upstream.clone(),
                            Arc::clone(&decide),
                            Arc::clone(&seen),
                            Arc::clone(&stop),
                        );
                        thread::spawn(move || serve(client, &upstream, &decide, &seen, &stop));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        proxy
    }

    /// `http://127.0.0.1:PORT`, for the remote's endpoint.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, `decide` chooses the fault for each request from its
    /// request line (e.g. `PUT /bucket/x.gz?partNumber=2&uploadId=... HTTP/1.1`).
    pub fn set(&self, decide: impl FnMut(&str) -> Fault + Send + 'static) {
        *self.decide.lock().unwrap() = Box::new(decide);
    }

    /// The request lines seen so far, with what was done to each.
    pub fn seen(&self) -> Vec<(String, Fault)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Handles one client connection: one request.
fn serve(
    mut client: TcpStream,
    upstream: &str,
    decide: &Mutex<Decide>,
    seen: &Mutex<Vec<(String, Fault)>>,
    stop: &AtomicBool,
) {
    client.set_nonblocking(false).unwrap();
    let Some((head, rest)) = read_head(&mut client) else {
        return;
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let line = text.lines().next().unwrap_or_default().to_string();
    let fault = (decide.lock().unwrap())(&line);
    seen.lock().unwrap().push((line.clone(), fault));
    match fault {
        Fault::Stall => {
            while !stop.load(Ordering::Relaxed) {
                let mut byte = [0u8; 1];
                client
                    .set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                match client.read(&mut byte) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(_) => {}
                }
            }
        }
        Fault::Status(code) => {
            // Read the body first: a client still sending it would see the
            // connection reset instead of the answer.
            let mut left = content_length(&text).saturating_sub(rest.len() as u64);
            let mut buf = [0u8; 64 * 1024];
            while left > 0 {
                match client.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left = left.saturating_sub(n as u64),
                }
            }
            let (code_name, reason) = match code {
                403 => ("AccessDenied", "Forbidden"),
                404 => ("NoSuchKey", "Not Found"),
                _ => ("ServiceUnavailable", "Service Unavailable"),
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code_name}</Code>\
                 <Message>injected by the test proxy</Message></Error>"
            );
            let is_head = line.starts_with("HEAD ");
            let reply = format!(
                "HTTP/1.1 {code} {reason}\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                body.len(),
                if is_head { "" } else { body.as_str() }
            );
            let _ = client.write_all(reply.as_bytes());
        }
        Fault::Pass | Fault::CutAfter(_) | Fault::CutReply(_) => {
            let Ok(mut server) = TcpStream::connect(upstream) else {
                return;
            };
            let _ = server.write_all(&close_after(&text));
            let limit = match fault {
                Fault::CutAfter(n) => n,
                _ => u64::MAX,
            };
            let sent = rest.len().min(limit as usize);
            let _ = server.write_all(&rest[..sent]);
            let (mut from_client, mut to_server) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let cut = Arc::new(AtomicBool::new(false));
            let cut_by_client = Arc::clone(&cut);
            let client_side = thread::spawn(move || {
                let mut left = limit - sent as u64;
                let mut buf = [0u8; 64 * 1024];
                loop {
                    if left == 0 {
                        cut_by_client.store(true, Ordering::SeqCst);
                        let _ = to_server.shutdown(Shutdown::Both);
                        let _ = from_client.shutdown(Shutdown::Both);
                        return;
                    }
                    match from_client.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            let n = n.min(left.min(usize::MAX as u64) as usize);
                            if to_server.write_all(&buf[..n]).is_err() {
                                return;
                            }
                            left -= n as u64;
                        }
                    }
                }
            });
            let reply_limit = match fault {
                Fault::CutReply(n) => n,
                _ => u64::MAX,
            };
            let _ = std::io::copy(&mut (&mut server).take(reply_limit), &mut client);
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
            let _ = client_side.join();
        }
    }
}

/// Reads up to the end of the request head; returns it and what came after.
fn read_head(client: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = data.split_off(end + 4);
            return Some((data, rest));
        }
        match client.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// The request head with `Connection: close` (not a signed header).
fn close_after(head: &str) -> Vec<u8> {
    let mut out = String::new();
    for line in head.trim_end_matches("\r\n").split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// The request's Content-Length (0 if none).
fn content_length(head: &str) -> u64 {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}
