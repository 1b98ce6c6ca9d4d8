//! argv[0] dispatch: `ntpq -p` through a symlink, or `ntpbox ntpq -p`.

use std::ffi::OsString;

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    std::process::exit(ntpbox::applets::dispatch(args));
}
