//! The web interface, /metrics and /healthz against the real daemon: routing, the CSRF rules
//! (token and same-origin), GET `?action=` never acting, escaping of hostile names and log
//! bytes, the metrics text through Python's prometheus_client parser, healthz 200/503.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const PROGRAMS: &str = "\
[group:web]
programs=alpha,beta

[program:alpha]
command=sleep 1000
startsecs=0
stopwaitsecs=5

[program:beta]
command=sleep 1000
startsecs=0
stopwaitsecs=5

[program:x<i>\"y'&z]
command=/bin/sh -c 'echo \"<script>alert(1)</script> & \\\"q\\\"\" >&2; exec sleep 1000'
startsecs=0

[program:manual]
command=sleep 1000
autostart=false
";

pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// One HTTP/1.0-style request (Connection: close) with extra headers.
pub fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    c.write_all(req.as_bytes()).unwrap();
    // Read up to Content-Length: chromedriver keeps the connection open despite `close`.
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|n| out.len() >= end + 4 + n) {
                break;
            }
        }
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Resp {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn get(port: u16, path: &str) -> Resp {
    request(port, "GET", path, &[], "")
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// The CSRF token of the status page's first form.
fn token(port: u16) -> String {
    let page = get(port, "/index.html").body;
    let start = page.find("name=\"token\" value=\"").expect("token in page") + 20;
    page[start..].split('"').next().unwrap().to_string()
}

fn start(tag: &str) -> (Daemon, u16) {
    let port = free_port();
    let d = Daemon::start(
        tag,
        &format!("[inet_http_server]\nport=127.0.0.1:{port}\n\n{PROGRAMS}"),
    );
    d.wait_log("success: beta entered RUNNING", 10);
    d.wait_log("success: alpha entered RUNNING", 10);
    (d, port)
}

fn state_in_page(port: u16, name: &str) -> String {
    let page = get(port, "/index.html").body;
    let row = page
        .split("<tr>")
        .find(|r| r.contains(&format!("<td class=\"name\">{name}</td>")))
        .unwrap_or_else(|| panic!("no row for {name} in\n{page}"));
    let s = row.split("\">").nth(1).unwrap();
    s.split('<').next().unwrap().to_string()
}

#[test]
fn web_routing_and_page_contents() {
    let (d, port) = start("web-routing");
    for path in ["/", "/index.html", "/index.html?message=hi"] {
        let r = get(port, path);
        assert_eq!(r.status, 200, "{path}: {}", r.head);
        assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
        assert!(r.body.contains("<title>Supervisor Status</title>"));
    }
    let page = get(port, "/").body;
    assert!(page.contains("supervisord <b>RUNNING</b>"), "{page}");
    assert!(page.contains(&format!("pid {}", d.pid)), "{page}");
    assert!(page.contains("version 4.3.0"));
    assert!(page.contains("<td class=\"name\">web:alpha</td>"));
    assert!(page.contains("<span class=\"state statusrunning\">running</span>"));
    assert!(page.contains("<span class=\"state statusnominal\">stopped</span>"));
    assert!(page.contains("value=\"stopgroup\""));
    assert!(page.contains("value=\"restartall\""));
    assert!(page.contains("tail.html?processname=web%3Aalpha&amp;channel=stderr"));
    assert!(page.contains("tail.html?processname=web%3Aalpha&amp;channel=stdout"));
    assert!(!page.contains("<script"), "no JavaScript on the page");
    let tail = get(
        port,
        "/tail.html?processname=web:alpha&channel=stderr&refresh=2",
    );
    assert_eq!(tail.status, 200);
    assert!(tail
        .body
        .contains("http-equiv=\"refresh\" content=\"2; url="));
    let paused = get(port, "/tail.html?processname=web:alpha&refresh=0").body;
    assert!(!paused.contains("http-equiv=\"refresh\""));
    assert!(get(port, "/tail.html?processname=nosuch")
        .body
        .contains("BAD_NAME"));
    assert_eq!(get(port, "/metrics").status, 200);
    assert_eq!(get(port, "/nosuch.html").status, 404);
    // Paths Supervisor's server normalises (a proxy at `location /supervisor/` sends `//`).
    for path in [
        "//",
        "//index.html",
        "/%69ndex.html",
        "/tail.html/?processname=web:alpha",
    ] {
        assert_eq!(get(port, path).status, 200, "{path}");
    }
    assert_eq!(get(port, "/index.htm").status, 404);
    assert_eq!(request(port, "PUT", "/index.html", &[], "").status, 405);
    assert_eq!(get(port, "/ok.html").body, "OK");
}

/// One table for all groups (aligned columns), processes in `supervisorctl status` order
/// (group, then name; not start order), and no stderr link where stderr is merged.
#[test]
fn web_one_table_in_status_order_without_a_merged_stderr_link() {
    let port = free_port();
    let d = Daemon::start(
        "web-order",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\n\n[group:web]\nprograms=beta,alpha\n\
             priority=1\n[program:alpha]\ncommand=sleep 1000\n[program:beta]\ncommand=sleep 1000\n\
             [program:zzz]\ncommand=sleep 1000\npriority=2\n\
             [program:aaa]\ncommand=sleep 1000\npriority=999\nredirect_stderr=true\n"
        ),
    );
    d.wait_log("spawned: 'aaa'", 10);
    let page = get(port, "/index.html").body;
    assert_eq!(page.matches("<table").count(), 1, "{page}");
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in\n{page}"))
    };
    let order = [
        at("<h2>aaa</h2>"),
        at("<td class=\"name\">aaa</td>"),
        at("<h2>web</h2>"),
        at("<td class=\"name\">web:alpha</td>"),
        at("<td class=\"name\">web:beta</td>"),
        at("<h2>zzz</h2>"),
        at("<td class=\"name\">zzz</td>"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{page}");
    assert!(
        page.contains("processname=aaa&amp;channel=stdout"),
        "{page}"
    );
    assert!(
        !page.contains("processname=aaa&amp;channel=stderr"),
        "{page}"
    );
    assert!(
        page.contains("processname=web%3Aalpha&amp;channel=stderr"),
        "{page}"
    );
}

#[test]
fn web_csrf_rules() {
    let (d, port) = start("web-csrf");
    let tok = token(port);
    let stop = |tok: &str| format!("token={tok}&action=stop&processname=web%3Aalpha");
    let origin = format!("http://127.0.0.1:{port}");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, String);
    let cases: Vec<Case> = vec![
        (
            "missing token",
            vec![FORM],
            "action=stop&processname=web%3Aalpha".into(),
        ),
        ("wrong token", vec![FORM], stop("1.0000")),
        (
            "forged token",
            vec![FORM],
            // The last digit changed (to a different one: a token ending in 0 once made this
            // "forgery" the real token, 1 run in 16).
            stop(&format!(
                "{}{}",
                &tok[..tok.len() - 1],
                if tok.ends_with('0') { '1' } else { '0' }
            )),
        ),
        (
            "cross-origin Origin",
            vec![FORM, ("Origin", "http://evil.example")],
            stop(&tok),
        ),
        ("null Origin", vec![FORM, ("Origin", "null")], stop(&tok)),
        (
            "cross-site Referer",
            vec![FORM, ("Referer", "http://evil.example/page")],
            stop(&tok),
        ),
        (
            "Origin wins over Referer",
            vec![
                FORM,
                ("Origin", "http://evil.example"),
                ("Referer", &origin),
            ],
            stop(&tok),
        ),
        (
            "not a form",
            vec![("Content-Type", "text/plain")],
            stop(&tok),
        ),
    ];
    for (what, headers, body) in &cases {
        let r = request(port, "POST", "/index.html", headers, body);
        assert_eq!(r.status, 403, "{what}: {}\n{}", r.head, r.body);
        assert!(r.body.contains("Action refused"), "{what}");
    }
    // GET with Supervisor's old action links never acts.
    let r = get(port, "/index.html?processname=web%3Aalpha&action=stop");
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("value=\"stop\" class=\"\">Confirm</button>"),
        "{}",
        r.body
    );
    get(port, "/?action=stopall");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(state_in_page(port, "web:alpha"), "running");
    assert_eq!(d.count("stopped: alpha"), 0);

    // The same-origin POST with a valid token acts, and the page says what happened.
    let r = request(
        port,
        "POST",
        "/index.html",
        &[
            FORM,
            ("Origin", &origin),
            ("Referer", &format!("{origin}/")),
        ],
        &stop(&tok),
    );
    assert_eq!(r.status, 303, "{}\n{}", r.head, r.body);
    let loc = r.header("Location").unwrap();
    assert!(
        loc.starts_with("index.html?message=Process%20web%3Aalpha%20"),
        "{loc}"
    );
    d.wait_log("stopped: alpha", 10);
    let page = get(port, &format!("/{loc}")).body;
    assert!(page.contains("Process web:alpha"), "{page}");
    assert_eq!(state_in_page(port, "web:alpha"), "stopped");
    // A client without Origin/Referer (curl) relies on the token alone.
    let r = request(
        port,
        "POST",
        "/",
        &[FORM],
        &format!("token={tok}&action=start&processname=web%3Aalpha"),
    );
    assert_eq!(r.status, 303);
    d.wait_log("success: alpha entered RUNNING", 10);
}

#[test]
fn web_group_and_all_actions() {
    let (d, port) = start("web-group");
    let tok = token(port);
    let post = |body: String| request(port, "POST", "/index.html", &[FORM], &body);
    let r = post(format!("token={tok}&action=stopgroup&group=web"));
    assert_eq!(r.status, 303);
    d.wait_log("stopped: alpha", 10);
    d.wait_log("stopped: beta", 10);
    let r = post(format!("token={tok}&action=startgroup&group=web"));
    assert!(
        r.header("Location").unwrap().contains("started"),
        "{}",
        r.head
    );
    d.wait_count("success: beta entered RUNNING", 2, 10);
    let r = post(format!("token={tok}&action=restartgroup&group=web"));
    assert_eq!(r.status, 303);
    d.wait_count("success: alpha entered RUNNING", 3, 10);
    d.wait_count("success: beta entered RUNNING", 3, 10);
    let r = post(format!("token={tok}&action=restart&processname=manual"));
    assert!(
        r.header("Location").unwrap().contains("restarted"),
        "{}",
        r.head
    );
    d.wait_log("success: manual entered RUNNING", 10);
    let r = post(format!(
        "token={tok}&action=clearlog&processname=web%3Abeta"
    ));
    assert!(r.header("Location").unwrap().contains("cleared"));
    let r = post(format!("token={tok}&action=start&processname=nosuch"));
    assert!(
        r.header("Location").unwrap().contains("ERROR"),
        "{}",
        r.head
    );
    let r = post(format!("token={tok}&action=stopall"));
    assert_eq!(r.status, 303);
    d.wait_log("stopped: manual", 10);
    let r = post(format!("token={tok}&action=bogus"));
    assert!(r.header("Location").unwrap().contains("ERROR"));
}

#[test]
fn web_escapes_hostile_names_and_log_bytes() {
    let (d, port) = start("web-escape");
    d.wait_log("entered RUNNING", 10);
    std::thread::sleep(Duration::from_millis(300));
    let page = get(
        port,
        "/index.html?message=%3Cscript%3Ealert(2)%3C/script%3E",
    )
    .body;
    assert!(!page.contains("<i>"), "{page}");
    assert!(!page.contains("<script"), "{page}");
    assert!(page.contains("x&lt;i&gt;&quot;y&#39;&amp;z"), "{page}");
    // An unsigned message (a crafted link) is not shown at all.
    assert!(!page.contains("alert(2)"), "{page}");
    let tail = get(
        port,
        "/tail.html?processname=x%3Ci%3E%22y%27%26z&channel=stderr&refresh=0",
    )
    .body;
    assert!(
        tail.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"),
        "{tail}"
    );
    assert!(!tail.contains("<script"), "{tail}");
    assert!(!tail.contains("<i>"), "{tail}");
}

const PARSE_METRICS: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
for f in fams.values():
    for s in f.samples:
        print(s.name, ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())), float(s.value))
"#;

#[test]
fn web_metrics_parse_with_prometheus_client() {
    let port = free_port();
    let d = Daemon::start(
        "web-metrics",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=123\n\n{PROGRAMS}\n\
[eventlistener:listener]\ncommand=python3 -c \"import sys\\nwhile 1:\\n sys.stdout.write('READY\\\\n');sys.stdout.flush();h=sys.stdin.readline();n=int(h.split('len:')[1]);sys.stdin.read(n);sys.stdout.write('RESULT 2\\\\nOK');sys.stdout.flush()\"\nevents=PROCESS_STATE\nbuffer_size=7\n"
        ),
    );
    d.wait_log("success: alpha entered RUNNING", 10);
    assert_eq!(get(port, "/metrics").status, 401, "behind the same auth");
    let auth = ("Authorization", "Basic dXNlcjoxMjM=");
    let r = request(port, "GET", "/metrics", &[auth], "");
    assert_eq!(r.status, 200);
    assert!(r
        .header("Content-Type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let Some(python) = venv_bin("python") else {
        return;
    };
    let mut child = Command::new(python)
        .arg("-c")
        .arg(PARSE_METRICS)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(r.body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let parsed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "prometheus_client rejected:\n{}\n{}",
        r.body,
        String::from_utf8_lossy(&out.stderr)
    );
    let has = |line: &str| {
        assert!(
            parsed.lines().any(|l| l == line),
            "no {line:?} in\n{parsed}\n--- raw ---\n{}",
            r.body
        )
    };
    has("supervisord_state state=RUNNING 1.0");
    has(&format!("supervisord_pid  {}.0", d.pid));
    has("supervisord_info identifier=supervisor,version=4.3.0 1.0");
    has("supervisord_processes state=STOPPED 1.0");
    has("supervisord_process_up group=web,name=alpha,namespec=web:alpha 1.0");
    has("supervisord_process_state group=manual,name=manual,namespec=manual 0.0");
    has("supervisord_process_starts_total group=web,name=beta,namespec=web:beta 1.0");
    has("supervisord_process_up group=x<i>\"y'&z,name=x<i>\"y'&z,namespec=x<i>\"y'&z 1.0");
    has("supervisord_event_pool_buffer_size pool=listener 7.0");
    assert!(
        parsed.contains("supervisord_event_pool_delivered_total pool=listener"),
        "{parsed}"
    );
    assert!(parsed.contains("supervisord_event_pool_overflowed_total pool=listener 0.0"));
    assert!(parsed.contains("supervisord_process_pid group=web,name=alpha"));
    assert!(parsed.contains("supervisord_process_uptime_seconds group=web,name=alpha"));
    assert!(parsed.contains("supervisord_process_exit_status group=web,name=alpha"));
}

#[test]
fn web_healthz_200_then_503_naming_the_others() {
    let (d, port) = start("web-healthz");
    d.wait_log("entered RUNNING", 10);
    common::wait_until(10, "healthy", || get(port, "/healthz").status == 200);
    let r = get(port, "/healthz");
    assert_eq!(r.body, "OK\n");
    let tok = token(port);
    let r = request(
        port,
        "POST",
        "/",
        &[FORM],
        &format!("token={tok}&action=stop&processname=web%3Abeta"),
    );
    assert_eq!(r.status, 303);
    d.wait_log("stopped: beta", 10);
    let r = get(port, "/healthz");
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("web:beta STOPPED"), "{}", r.body);
    assert!(!r.body.contains("alpha"), "{}", r.body);
    assert!(
        !r.body.contains("manual"),
        "autostart=false is not checked: {}",
        r.body
    );
}

// ---------------------------------------------------------------------------------------------
// A real browser: headless Chromium driven through chromedriver's WebDriver HTTP API (a tiny
// std-only client). Skipped when Debian's chromium/chromedriver are not installed (.ci/run
// installs them; under CI their absence is a failure).

/// The JSON string value after `"key":` (WebDriver answers are small and flat enough).
fn json_str(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let cp = u32::from_str_radix(&hex, 16).ok()?;
                    out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

fn json_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Browser {
    port: u16,
    session: String,
    driver: std::process::Child,
    _profile: TempDir,
}

impl Browser {
    /// Chromium and chromedriver from PATH, or a skip naming exactly the one(s) missing.
    fn find_tools() -> Option<(PathBuf, PathBuf)> {
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|n| in_path(n));
        let driver = in_path("chromedriver");
        match (chromium, driver) {
            (Some(c), Some(d)) => return Some((c, d)),
            (None, Some(_)) => skip("chromium is not in PATH (Debian package chromium)"),
            (Some(_), None) => skip("chromedriver is not in PATH (Debian package chromium-driver)"),
            (None, None) => skip(
                "chromium and chromedriver are not in PATH (Debian packages chromium and \
                 chromium-driver)",
            ),
        }
        None
    }

    fn call(&self, method: &str, path: &str, body: &str) -> String {
        let r = request(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            &[("Content-Type", "application/json")],
            body,
        );
        assert!(
            r.status == 200,
            "webdriver {method} {path}: {}\n{}",
            r.head,
            r.body
        );
        r.body
    }

    fn start() -> Option<Browser> {
        let (chromium, driver) = Browser::find_tools()?;
        let port = free_port();
        let profile = TempDir::new("web-chromium-profile");
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver");
        let mut b = Browser {
            port,
            session: String::new(),
            driver: child,
            _profile: profile,
        };
        wait_until(20, "chromedriver ready", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
                && request(port, "GET", "/status", &[], "")
                    .body
                    .contains("ready")
        });
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1000,760",
        ]
        .iter()
        .map(|a| json_quote(a))
        .chain([json_quote(&format!(
            "--user-data-dir={}",
            b._profile.path().display()
        ))])
        .collect::<Vec<_>>()
        .join(",");
        let caps = format!(
            "{{\"capabilities\":{{\"alwaysMatch\":{{\"browserName\":\"chrome\",\
\"goog:chromeOptions\":{{\"binary\":{},\"args\":[{args}]}}}}}}}}",
            json_quote(&chromium.display().to_string())
        );
        let r = request(
            port,
            "POST",
            "/session",
            &[("Content-Type", "application/json")],
            &caps,
        );
        b.session = json_str(&r.body, "sessionId")
            .unwrap_or_else(|| panic!("no session: {}\n{}", r.head, r.body));
        Some(b)
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", &format!("{{\"url\":{}}}", json_quote(url)));
    }

    fn source(&self) -> String {
        json_str(&self.call("GET", "/source", ""), "value").unwrap_or_default()
    }

    /// The page source once it contains `needle` (a click's navigation may still be under way
    /// when the click returns).
    fn wait_source(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let page = self.source();
            if page.contains(needle) || std::time::Instant::now() > deadline {
                return page;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn click(&self, css: &str) {
        let r = self.call(
            "POST",
            "/element",
            &format!(
                "{{\"using\":\"css selector\",\"value\":{}}}",
                json_quote(css)
            ),
        );
        let id = json_str(&r, "element-6066-11e4-a52e-4f735466cecf")
            .unwrap_or_else(|| panic!("no element {css}: {r}"));
        self.call("POST", &format!("/element/{id}/click"), "{}");
    }

    fn screenshot(&self, path: &std::path::Path) {
        let b64 = json_str(&self.call("GET", "/screenshot", ""), "value").unwrap();
        let png = supervisor::rpc::base64::decode(&b64).expect("base64 png");
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                "",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Serves one page (a form aimed at the daemon) from another origin, for the cross-site test.
fn serve_other_site(html: String) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = c.write_all(
                format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{html}",
                    html.len()
                )
                .as_bytes(),
            );
        }
    });
    port
}

#[test]
fn web_in_headless_chromium() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (d, port) = start("web-browser");
    let base = format!("http://127.0.0.1:{port}");
    browser.open(&format!("{base}/index.html"));
    let page = browser.source();
    assert!(page.contains("supervisord <b>RUNNING</b>"), "{page}");
    assert!(page.contains("web:alpha"));

    // Stop the group by clicking its button; the redirect shows what happened.
    browser.click("form:has(input[name=group][value=web]) button[value=stopgroup]");
    let page = browser.wait_source("Group web stopped");
    assert!(page.contains("Group web stopped"), "{page}");
    d.wait_log("stopped: alpha", 10);
    d.wait_log("stopped: beta", 10);
    browser.open(&format!("{base}/index.html"));
    let page = browser.source();
    assert_eq!(
        page.matches("<span class=\"state statusnominal\">stopped</span>")
            .count(),
        3,
        "{page}"
    );

    browser.click("form:has(input[name=group][value=web]) button[value=startgroup]");
    let page = browser.wait_source("Group web started");
    assert!(page.contains("Group web started"), "{page}");
    d.wait_count("success: alpha entered RUNNING", 2, 10);
    d.wait_count("success: beta entered RUNNING", 2, 10);
    browser.open(&format!("{base}/index.html"));
    assert_eq!(state_in_page(port, "web:alpha"), "running");
    let shots = match std::env::var_os("WEB_SCREENSHOTS") {
        Some(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs"),
        None => d.dir.path().to_path_buf(),
    };
    browser.screenshot(&shots.join("web-status.png"));

    // Phone width: the page reflows instead of scrolling sideways.
    browser.call("POST", "/window/rect", "{\"width\":390,\"height\":800}");
    browser.open(&format!("{base}/index.html"));
    let fits = browser.call(
        "POST",
        "/execute/sync",
        "{\"script\":\"return document.documentElement.scrollWidth <= window.innerWidth\",\"args\":[]}",
    );
    assert!(
        fits.contains("\"value\":true"),
        "page wider than a phone: {fits}"
    );
    browser.screenshot(&shots.join("web-phone.png"));
    browser.call("POST", "/window/rect", "{\"width\":1000,\"height\":760}");

    // The stderr tail of the process with the hostile name, through its link.
    browser.click("a[href$=\"channel=stderr\"][href*=\"x%3Ci%3E\"]");
    let tail = browser.wait_source("(stderr)</title>");
    assert!(tail.contains("(stderr)</title>"), "{tail}");
    assert!(
        tail.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{tail}"
    );
    browser.screenshot(&shots.join("web-tail.png"));

    // A form on another site posting to us with a valid token is refused (Origin check).
    let tok = token(port);
    let other = serve_other_site(format!(
        "<form method=post action=\"{base}/index.html\"><input name=token value=\"{tok}\">\
<input name=action value=stopall><button id=go>go</button></form>"
    ));
    browser.open(&format!("http://127.0.0.1:{other}/"));
    browser.click("#go");
    let page = browser.wait_source("Action refused");
    assert!(page.contains("Action refused"), "{page}");
    assert!(page.contains("is not this site"), "{page}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(state_in_page(port, "web:alpha"), "running");
    assert_eq!(d.count("stopped: alpha"), 1);
}

/// Supervisor's tail page parameters and texts: `limit=` in bytes (at least 1024), and
/// "No file for <name>" for a program that has no log file (not an empty page).
#[test]
fn web_tail_limit_and_no_file() {
    let port = free_port();
    let d = Daemon::start(
        "web-tail-limit",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\n\n\
             [program:nolog]\ncommand=sleep 1000\nstartsecs=0\nstdout_logfile=NONE\n\n\
             [program:quiet]\ncommand=sleep 1000\nstartsecs=0\n\n\
             [program:talk]\ncommand=/bin/sh -c 'head -c 3000 /dev/zero | tr \"\\\\0\" x; exec sleep 1000'\nstartsecs=0\n"
        ),
    );
    d.wait_log("success: talk entered RUNNING", 10);
    let pre = |path: &str| {
        let body = get(port, path).body;
        let start = body.find("<pre id=\"log\">").expect("log in page") + 14;
        body[start..].split("</pre>").next().unwrap().to_string()
    };
    assert_eq!(pre("/tail.html?processname=nolog"), "No file for nolog");
    assert_eq!(pre("/tail.html?processname=quiet"), "");
    wait_until(10, "talk's output logged", || {
        pre("/tail.html?processname=talk").len() == 3000
    });
    assert_eq!(pre("/tail.html?processname=talk&limit=2048").len(), 2048);
    assert_eq!(pre("/tail.html?processname=talk&limit=10").len(), 1024);
    assert_eq!(
        pre("/tail.html?processname=talk&kb=1&limit=2048").len(),
        1024
    );
}
