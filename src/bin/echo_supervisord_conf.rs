//! echo_supervisord_conf: prints a complete, commented sample supervisord.conf. Exit status:
//! 0 printed (or help), 1 standard output could not be written, 2 usage error.

use std::io::Write;

const SAMPLE: &str = include_str!("../../conf/sample.conf");
const USAGE: &str = "Usage: echo_supervisord_conf > supervisord.conf\n\n\
Prints a complete, commented sample configuration for supervisord (see supervisord.conf(5)).\n\n\
Options:\n-h/--help -- print this usage message and exit\n";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let text = match args.first().map(String::as_str) {
        None => SAMPLE,
        Some("-h" | "--help") if args.len() == 1 => USAGE,
        Some(_) => {
            eprintln!(
                "Error: arguments are not supported: {}\nFor help, use echo_supervisord_conf -h",
                args.join(" ")
            );
            std::process::exit(2);
        }
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A reader that stops early (`| head`) is not an error worth a message.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("echo_supervisord_conf: cannot write to standard output: {e}");
        }
        std::process::exit(1);
    }
}
