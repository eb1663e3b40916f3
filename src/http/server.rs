//! The HTTP servers. tiny_http accepts and parses; one small thread per request reads the body,
//! checks auth, hands the request to the main loop (channel + poller wake-up) and writes the
//! reply when it comes back. So a slow or stuck client only ever holds its own thread: the loop
//! never blocks on a socket.

use super::auth;
use super::tail;
use crate::config::Auth;
use polling::Poller;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Largest request body accepted (XML-RPC calls are small; a multicall of thousands fits).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// A request as the main loop sees it.
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub host: Option<String>,
    pub body: Vec<u8>,
    pub reply: Sender<Reply>,
}

/// What the worker thread writes back.
pub enum Reply {
    Response {
        status: u16,
        content_type: &'static str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Stream a log file like `tail -f`: its last 1024 bytes, then what is appended.
    Follow { path: PathBuf, accel_header: bool },
}

impl Reply {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Response {
            status: 200,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Supervisor's (medusa's) HTML error page.
    pub fn error(status: u16) -> Reply {
        Reply::Response {
            status,
            content_type: "text/html",
            headers: Vec::new(),
            body: error_page(status).into_bytes(),
        }
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

pub fn error_page(status: u16) -> String {
    [
        "<head>",
        "<title>Error response</title>",
        "</head>",
        "<body>",
        "<h1>Error response</h1>",
        &format!("<p>Error code {status}."),
        &format!("<p>Message: {}.", reason(status)),
        "</body>",
        "",
    ]
    .join("\r\n")
}

/// A bound listening socket, before it is served.
pub enum Listener {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener, PathBuf),
}

/// The running servers; dropping them closes the listeners, stops the accept threads and
/// removes the unix socket files.
pub struct HttpServers {
    servers: Vec<Arc<tiny_http::Server>>,
    threads: Vec<JoinHandle<()>>,
    /// Copies of the listening fds: shutdown() on them wakes tiny_http's blocked accept().
    fds: Vec<OwnedFd>,
    socket_files: Vec<PathBuf>,
}

impl HttpServers {
    pub fn none() -> HttpServers {
        HttpServers {
            servers: Vec::new(),
            threads: Vec::new(),
            fds: Vec::new(),
            socket_files: Vec::new(),
        }
    }

    /// Starts serving `listeners`, sending requests to `tx` and waking `poller`.
    pub fn start(
        listeners: Vec<(Listener, Option<Auth>)>,
        tx: Sender<HttpRequest>,
        poller: Arc<Poller>,
    ) -> std::io::Result<HttpServers> {
        let mut out = HttpServers::none();
        for (listener, auth) in listeners {
            let server = match listener {
                Listener::Tcp(l) => {
                    out.fds.push(OwnedFd::from(l.try_clone()?));
                    tiny_http::Server::from_listener(l, None)
                }
                Listener::Unix(l, path) => {
                    out.fds.push(OwnedFd::from(l.try_clone()?));
                    out.socket_files.push(path);
                    tiny_http::Server::from_listener(l, None)
                }
            }
            .map_err(std::io::Error::other)?;
            let server = Arc::new(server);
            let (s, tx, poller) = (Arc::clone(&server), tx.clone(), Arc::clone(&poller));
            let auth = auth.map(Arc::new);
            out.threads.push(std::thread::spawn(move || {
                accept_loop(&s, auth, tx, poller)
            }));
            out.servers.push(server);
        }
        Ok(out)
    }
}

impl Drop for HttpServers {
    fn drop(&mut self) {
        for fd in &self.fds {
            // SAFETY: shutdown on a listening socket we hold a copy of.
            unsafe { libc::shutdown(fd.as_raw_fd(), libc::SHUT_RDWR) };
        }
        for s in &self.servers {
            s.unblock();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        for f in &self.socket_files {
            let _ = std::fs::remove_file(f);
        }
    }
}

fn accept_loop(
    server: &tiny_http::Server,
    auth: Option<Arc<Auth>>,
    tx: Sender<HttpRequest>,
    poller: Arc<Poller>,
) {
    loop {
        let req = match server.recv() {
            Ok(r) => r,
            // recv() fails once unblock() is called (shutdown); accept errors come as Err too,
            // but then the server is still listening and the next recv() works.
            Err(e) if e.to_string() == "thread unblocked" => return,
            Err(_) => continue,
        };
        let (auth, tx, poller) = (auth.clone(), tx.clone(), Arc::clone(&poller));
        let spawned = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || handle(req, auth.as_deref(), tx, &poller));
        if spawned.is_err() {
            // Out of threads: the request is dropped, its connection closed.
            continue;
        }
    }
}

fn header(req: &tiny_http::Request, name: &str) -> Option<String> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
}

fn handle(
    mut req: tiny_http::Request,
    auth: Option<&Auth>,
    tx: Sender<HttpRequest>,
    poller: &Poller,
) {
    if !auth::check(auth, header(&req, "Authorization").as_deref()) {
        let reply = Reply::Response {
            status: 401,
            content_type: "text/html",
            headers: vec![
                ("WWW-Authenticate", "Basic realm=\"default\"".to_string()),
                ("Connection", "close".to_string()),
            ],
            body: error_page(401).into_bytes(),
        };
        write_reply(req, reply);
        return;
    }
    if req.body_length().unwrap_or(0) > MAX_BODY {
        write_reply(req, Reply::error(413));
        return;
    }
    let mut body = Vec::new();
    if req
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body)
        .is_err()
    {
        return;
    }
    if body.len() > MAX_BODY {
        write_reply(req, Reply::error(413));
        return;
    }
    let (rtx, rrx): (Sender<Reply>, Receiver<Reply>) = mpsc::channel();
    let msg = HttpRequest {
        method: req.method().as_str().to_string(),
        url: req.url().to_string(),
        host: header(&req, "Host"),
        body,
        reply: rtx,
    };
    if tx.send(msg).is_err() {
        write_reply(req, Reply::error(503));
        return;
    }
    let _ = poller.notify();
    match rrx.recv() {
        Ok(reply) => write_reply(req, reply),
        // The loop dropped the request (shutdown): close the connection.
        Err(_) => write_reply(req, Reply::error(503)),
    }
}

fn write_reply(req: tiny_http::Request, reply: Reply) {
    match reply {
        Reply::Response {
            status,
            content_type,
            headers,
            body,
        } => {
            let mut resp = tiny_http::Response::from_data(body).with_status_code(status);
            let mut add = |k: &str, v: &str| {
                if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                    resp.add_header(h);
                }
            };
            add("Content-Type", content_type);
            add("Server", "Medusa/1.12");
            for (k, v) in &headers {
                add(k, v);
            }
            let _ = req.respond(resp);
        }
        Reply::Follow { path, accel_header } => tail::follow(req, &path, accel_header),
    }
}
