//! echo_supervisord_conf: prints a complete, commented sample supervisord.conf.

const SAMPLE: &str = include_str!("../../conf/sample.conf");

fn main() {
    if std::env::args().len() > 1 {
        println!("usage: echo_supervisord_conf > supervisord.conf");
        return;
    }
    print!("{SAMPLE}");
}
