//! supervisord: run a set of programs as daemons (see supervisord(8)).

fn main() {
    let code = supervisor::daemon::main(std::env::args().collect());
    std::process::exit(code);
}
