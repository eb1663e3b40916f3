//! The probe keys of a program section, typed (project extension, issue #18): `ready=` (how a
//! start becomes RUNNING) and `watchdog_secs=`. Every key is new, so a Supervisor config
//! without them keeps "RUNNING after startsecs".

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// What one check tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `tcp:PORT` or `tcp:HOST:PORT`: a connection is accepted.
    Tcp(SocketAddr),
    /// `http://HOST[:PORT][/PATH]`: a GET is answered with a 2xx status.
    Http {
        addr: SocketAddr,
        /// The `Host:` header (as written).
        host: String,
        path: String,
    },
    /// `exec:COMMAND`: `/bin/sh -c COMMAND` exits 0.
    Exec(String),
}

/// `ready=`: when a STARTING process becomes RUNNING.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Ready {
    /// Supervisor's rule: it has stayed up `startsecs`.
    #[default]
    Startsecs,
    /// It said `READY=1` on its sd_notify socket.
    Notify,
    /// A check of `Target` succeeded. Boxed: inline, an HTTP target made this (and every
    /// process's configuration and probe state) 64 bytes larger, and most processes have none.
    Check(Box<Target>),
}

/// `healthcheck_action=`: what an unhealthy process gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthAction {
    Restart,
    Stop,
    /// Only reported (events, status, /healthz).
    None,
}

/// `healthcheck=` and its companions: a check of a RUNNING process, repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    pub target: Target,
    /// `healthcheck_interval=`: seconds from the end of one check to the start of the next.
    pub interval: u64,
    /// `healthcheck_timeout=`: seconds one check may take.
    pub timeout: u64,
    /// `healthcheck_retries=`: consecutive failures that make the process unhealthy.
    pub retries: u32,
    /// `healthcheck_start_period=`: seconds after RUNNING in which failures do not count.
    pub start_period: u64,
    pub action: HealthAction,
}

/// The probe settings of one process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeConfig {
    pub ready: Ready,
    /// `watchdog_secs=` (with `ready=notify`): a RUNNING process that sends no `WATCHDOG=1`
    /// for this long is restarted; 0 is off.
    pub watchdog_secs: u64,
    /// `healthcheck=`, if given (boxed: rarely set, and 100 bytes inline in every process's
    /// configuration).
    pub health: Option<Box<HealthConfig>>,
}

impl ProbeConfig {
    /// RUNNING waits for a probe outcome instead of startsecs.
    pub fn waits_for_ready(&self) -> bool {
        self.ready != Ready::Startsecs
    }

    /// The process gets an sd_notify socket (`NOTIFY_SOCKET`).
    pub fn notify(&self) -> bool {
        self.ready == Ready::Notify
    }
}

/// Parses `ready=`.
pub fn ready(s: &str) -> Result<Ready, String> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "startsecs" => Ok(Ready::Startsecs),
        "notify" => Ok(Ready::Notify),
        _ => target(t).map(|t| Ready::Check(Box::new(t))).map_err(|e| {
            format!("invalid 'ready' value {t:?}: {e} (startsecs, notify, tcp:[HOST:]PORT, http://HOST[:PORT]/PATH or exec:COMMAND)")
        }),
    }
}

/// Parses `healthcheck=`.
pub fn healthcheck(s: &str) -> Result<Target, String> {
    let t = s.trim();
    target(t).map_err(|e| {
        format!("invalid 'healthcheck' value {t:?}: {e} (tcp:[HOST:]PORT, http://HOST[:PORT]/PATH or exec:COMMAND)")
    })
}

/// Parses a check: `tcp:[HOST:]PORT`, `http://HOST[:PORT][/PATH]` or `exec:COMMAND`.
pub fn target(s: &str) -> Result<Target, String> {
    if let Some(rest) = strip_prefix_ci(s, "tcp:") {
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => ("127.0.0.1", rest),
        };
        return Ok(Target::Tcp(SocketAddr::new(
            address(host)?,
            port_number(port)?,
        )));
    }
    if let Some(rest) = strip_prefix_ci(s, "http://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (h, port_number(p)?),
            _ => (authority, 80),
        };
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err("the path has spaces or control characters".into());
        }
        return Ok(Target::Http {
            addr: SocketAddr::new(address(host)?, port),
            host: authority.to_string(),
            path: path.to_string(),
        });
    }
    if let Some(rest) = strip_prefix_ci(s, "exec:") {
        let cmd = rest.trim();
        if cmd.is_empty() {
            return Err("exec: needs a command".into());
        }
        return Ok(Target::Exec(cmd.to_string()));
    }
    Err("unknown kind of check".into())
}

/// Parses `healthcheck_action=`.
pub fn health_action(s: &str) -> Result<HealthAction, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "restart" => Ok(HealthAction::Restart),
        "stop" => Ok(HealthAction::Stop),
        "none" => Ok(HealthAction::None),
        _ => Err(format!(
            "invalid 'healthcheck_action' value {s:?} (restart, stop or none)"
        )),
    }
}

/// Parses a count or a duration that must be at least 1.
pub fn positive(s: &str) -> Result<u64, String> {
    match seconds(s)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// Parses `watchdog_secs=`: whole seconds, at most a day.
pub fn seconds(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n <= 86_400 => Ok(n),
        _ => Err(format!("{s:?} is not a number of seconds from 0 to 86400")),
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// An address, never a name to resolve: a lookup could block the daemon's loop.
fn address(host: &str) -> Result<IpAddr, String> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") || h.is_empty() {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    h.parse()
        .map_err(|_| format!("{host:?} is not an IP address (names are not resolved)"))
}

fn port_number(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{p:?} is not a port number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(ready("startsecs"), Ok(Ready::Startsecs));
        assert_eq!(ready(" NOTIFY "), Ok(Ready::Notify));
        assert_eq!(
            ready("tcp:8080"),
            Ok(Ready::Check(Box::new(Target::Tcp(
                "127.0.0.1:8080".parse().unwrap()
            ))))
        );
        assert_eq!(
            ready("tcp:[::1]:9"),
            Ok(Ready::Check(Box::new(Target::Tcp(
                "[::1]:9".parse().unwrap()
            ))))
        );
        assert_eq!(
            target("http://localhost:81/health?x=1"),
            Ok(Target::Http {
                addr: "127.0.0.1:81".parse().unwrap(),
                host: "localhost:81".into(),
                path: "/health?x=1".into()
            })
        );
        assert_eq!(
            target("http://10.0.0.1"),
            Ok(Target::Http {
                addr: "10.0.0.1:80".parse().unwrap(),
                host: "10.0.0.1".into(),
                path: "/".into()
            })
        );
        assert_eq!(
            target("exec: test -e /x "),
            Ok(Target::Exec("test -e /x".into()))
        );
    }

    #[test]
    fn refuses_what_it_cannot_check_without_blocking() {
        for bad in [
            "tcp:example.com:80",
            "tcp:0",
            "tcp:99999",
            "exec:",
            "udp:53",
            "http://a b/",
            "https://localhost/",
        ] {
            assert!(ready(bad).is_err(), "{bad}");
        }
        assert!(ready("tcp:x:1").unwrap_err().contains("not an IP address"));
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;
    use crate::testutil::config_after_header as load_text;
    use crate::testutil::first_process_quietly;

    fn probe_of(text: &str) -> ProbeConfig {
        first_process_quietly(text).probe
    }

    #[test]
    fn without_the_keys_startsecs_decides() {
        assert_eq!(probe_of("[program:x]\ncommand=c\n"), ProbeConfig::default());
    }

    #[test]
    fn keys_are_read_and_checked() {
        let p = probe_of("[program:x]\ncommand=c\nready=notify\nwatchdog_secs=30\n");
        assert_eq!(p.ready, Ready::Notify);
        assert_eq!(p.watchdog_secs, 30);
        let p = probe_of(
            "[fcgi-program:x]\ncommand=c\nsocket=tcp://127.0.0.1:9\nready=tcp:%(ENV_HOME)s\n"
                .replace("%(ENV_HOME)s", "9")
                .as_str(),
        );
        assert_eq!(
            p.ready,
            Ready::Check(Box::new(Target::Tcp("127.0.0.1:9".parse().unwrap())))
        );
        let e = load_text("[program:x]\ncommand=c\nready=tcp:nowhere.example:80\n").unwrap_err();
        assert!(
            e.contains("invalid 'ready' value") && e.contains("not an IP address"),
            "{e}"
        );
        let e = load_text("[program:x]\ncommand=c\nwatchdog_secs=5\n").unwrap_err();
        assert!(e.contains("watchdog_secs needs ready=notify"), "{e}");
        let e =
            load_text("[eventlistener:x]\ncommand=c\nevents=TICK_5\nready=notify\n").unwrap_err();
        assert!(e.contains("not supported for event listeners"), "{e}");
    }
}
