//! The status page pinned byte for byte (the CSRF token masked), so rendering can be made
//! faster without changing what browsers get.

use super::render;
use crate::api::Ctx;
use crate::daemon::supervisor::Supervisor;
use crate::probe::{Health, HealthAction, HealthConfig, Target};
use crate::process::machine::{Input, Now};
use crate::testutil::{owned, process_config, program_group, supervisor};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// A fixed moment, so uptimes are the same on every run.
fn at(mono: Instant) -> Now {
    Now {
        mono,
        wall: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    }
}

/// Two groups, four processes: one named after its group, one RUNNING and unhealthy with
/// `redirect_stderr`, one FATAL with an error to escape, one never started.
fn sup(t0: Instant) -> Supervisor {
    let mut web = process_config("web", "/bin/cat");
    web.autostart = false;
    let mut a = process_config("a", "/bin/cat");
    a.redirect_stderr = true;
    a.probe.health = Some(Box::new(HealthConfig {
        target: Target::Exec("true".into()),
        interval: 10,
        timeout: 5,
        retries: 3,
        start_period: 0,
        action: HealthAction::None,
    }));
    let groups = vec![
        program_group("web", vec![web]),
        program_group(
            "g<&>",
            vec![
                a,
                process_config("b'", "/bin/cat"),
                process_config("c", "/bin/cat"),
            ],
        ),
    ];
    let mut s = supervisor(groups);
    let start = Now {
        mono: t0,
        wall: at(t0).wall - Duration::from_secs(3723),
    };
    for id in s.process_ids() {
        let p = s.process_mut_for_tests(id);
        let cfg = p.config.clone();
        match p.config.name.as_str() {
            "a" => {
                p.machine.step(&cfg, Input::Start, start);
                p.machine.step(&cfg, Input::Spawned { pid: 4242 }, start);
                let later = Now {
                    mono: t0 + Duration::from_secs(2),
                    ..start
                };
                p.machine
                    .step(&cfg, Input::Tick { may_start: false }, later);
                p.probe.verdict = Health::Unhealthy;
                p.probe.failures = 2;
            }
            "b'" => {
                p.machine.step(&cfg, Input::Start, start);
                for _ in 0..=cfg.startretries {
                    let message = "can't find command '<x>'\u{7f}".to_string();
                    p.machine.step(&cfg, Input::SpawnFailed { message }, start);
                    p.machine.step(&cfg, Input::Tick { may_start: true }, start);
                }
            }
            _ => {}
        }
    }
    s
}

/// The page with the token's value replaced by `TOKEN`.
fn masked(page: &str) -> String {
    const FIELD: &str = "name=\"token\" value=\"";
    let mut out = String::new();
    let mut rest = page;
    while let Some(i) = rest.find(FIELD) {
        let (head, tail) = rest.split_at(i + FIELD.len());
        out.push_str(head);
        out.push_str("TOKEN");
        rest = &tail[tail.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}

#[test]
fn page_is_pinned_byte_for_byte() {
    let t0 = Instant::now();
    let mut s = sup(t0);
    let mut ctx = Ctx::new(&mut s, at(t0 + Duration::from_secs(3)));
    let message = "ERROR: <no> such process\u{1}";
    let sig = crate::web::csrf::sign_message(message);
    let query = owned(&[
        ("message", message),
        ("sig", &sig),
        ("action", "stop"),
        ("processname", "g<&>:c"),
    ]);
    let page = masked(&render(&mut ctx, &query));
    let want = EXPECTED
        .replace("{CSS}", crate::web::html::CSS)
        .replace("{PID}", &std::process::id().to_string())
        .replace("{PKG}", env!("CARGO_PKG_VERSION"))
        .replace("{VERSION}", crate::daemon::options::VERSION);
    assert!(page == want, "got:\n{page}\nwant:\n{want}");
}

const EXPECTED: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supervisor Status</title>
<style>{CSS}</style></head>
<body>
<header><h1>Supervisor <small>supervisor</small></h1><p>supervisord <b>RUNNING</b> · pid {PID} · version {VERSION}</p></header>
<main>
<div class="msg err" id="message">ERROR: &lt;no&gt; such process�</div>
<div class="msg">This link asks for <b>stop g&lt;&amp;&gt;:c</b>. Actions are never taken from a link (GET); confirm to do it: <form method="post" action="index.html"><input type="hidden" name="token" value="TOKEN"><input type="hidden" name="processname" value="g&lt;&amp;&gt;:c"><button type="submit" name="action" value="stop" class="">Confirm</button></form></div>
<nav><form method="post" action="index.html"><input type="hidden" name="token" value="TOKEN"><button type="submit" name="action" value="startall" class="start">Start all</button><button type="submit" name="action" value="stopall" class="stop">Stop all</button><button type="submit" name="action" value="restartall" class="">Restart all</button></form> <a href="index.html">Refresh</a></nav>
<table>
<thead><tr class="head"><th>State</th><th>Description</th><th>Name</th><th>Actions</th></tr></thead>
<tbody>
<tr class="group"><th colspan="4"><h2>g&lt;&amp;&gt;</h2><form method="post" action="index.html"><input type="hidden" name="token" value="TOKEN"><input type="hidden" name="group" value="g&lt;&amp;&gt;"><button type="submit" name="action" value="startgroup" class="start">Start group</button><button type="submit" name="action" value="stopgroup" class="stop">Stop group</button><button type="submit" name="action" value="restartgroup" class="">Restart group</button></form></th></tr>
<tr><td><span class="state statusrunning">running</span></td><td>pid 4242, uptime 1:02:03, unhealthy (2 failures)</td><td class="name">g&lt;&amp;&gt;:a</td><td><form method="post" action="index.html"><input type="hidden" name="token" value="TOKEN"><input type="hidden" name="processname" value="g&lt;&amp;&gt;:a"><button type="submit" name="action" value="restart" class="">Restart</button><button type="submit" name="action" value="stop" class="stop">Stop</button><button type="submit" name="action" value="clearlog" class="">Clear log</button></form> <a href="tail.html?processname=g%3C%26%3E%3Aa&amp;channel=stdout">stdout</a></td></tr>
<tr><td><span class="state statuserror">fatal</span></td><td>can&#39;t find command &#39;&lt;x&gt;&#39;�</td><td class="name">g&lt;&amp;&gt;:b&#39;</td><td><form method="post" action="index.html"><input type="hidden" name="token" value="TOKEN"><input type="hidden" name="processname" value="g&lt;&amp;&gt;:b&#39;"><button type="submit" name="action" value="start" class="start">Start</button><button type="submit" name="action" value="clearlog" class="">Clear log</button></form> <a href="tail.html?processname=g%3C%26%3E%3Ab%27&amp;channel=stdout">stdout</a> <a href="tail.html?processname=g%3C%26%3E%3Ab%27&amp;channel=stderr">stderr</a></td></tr>
<tr><td><span class="state statusnominal">stopped</span></td><td>Not started</td><td class="name">g&lt;&amp;&gt;:c</td><td><form method="post" action="index.html"><input type="hidden" name="token" value="TOKEN"><input type="hidden" name="processname" value="g&lt;&amp;&gt;:c"><button type="submit" name="action" value="start" class="start">Start</button><button type="submit" name="action" value="clearlog" class="">Clear log</button></form> <a href="tail.html?processname=g%3C%26%3E%3Ac&amp;channel=stdout">stdout</a> <a href="tail.html?processname=g%3C%26%3E%3Ac&amp;channel=stderr">stderr</a></td></tr>
<tr class="group"><th colspan="4"><h2>web</h2><form method="post" action="index.html"><input type="hidden" name="token" value="TOKEN"><input type="hidden" name="group" value="web"><button type="submit" name="action" value="startgroup" class="start">Start group</button><button type="submit" name="action" value="stopgroup" class="stop">Stop group</button><button type="submit" name="action" value="restartgroup" class="">Restart group</button></form></th></tr>
<tr><td><span class="state statusnominal">stopped</span></td><td>Not started</td><td class="name">web</td><td><form method="post" action="index.html"><input type="hidden" name="token" value="TOKEN"><input type="hidden" name="processname" value="web"><button type="submit" name="action" value="start" class="start">Start</button><button type="submit" name="action" value="clearlog" class="">Clear log</button></form> <a href="tail.html?processname=web&amp;channel=stdout">stdout</a> <a href="tail.html?processname=web&amp;channel=stderr">stderr</a></td></tr>
</tbody></table>
</main>
<footer>supervisor-rs {PKG} (Supervisor {VERSION} compatible)</footer>
</body></html>
"#;
