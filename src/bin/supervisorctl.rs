//! supervisorctl: control the programs run by supervisord (see supervisorctl(1)).

fn main() {
    let code = supervisor::ctl::main(std::env::args().collect());
    std::process::exit(code);
}
