//! Standard output of the CLI commands. `println!` panics when stdout is a closed pipe
//! (`smppgw peers list | head -1`); these writers end the process quietly instead, with the
//! status of a process killed by SIGPIPE (141), as `ls`, `grep` and the other Unix tools do.
//! SIGPIPE itself stays ignored: the gateway's sockets must get `EPIPE`, not a signal.

use std::io::Write as _;

/// Writes `args` to stdout (no newline added); exits with 141 when the reader has gone.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("smppgw: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// `println!` through [`write`].
#[macro_export]
macro_rules! outln {
    () => { $crate::cli_out::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli_out::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` through [`write`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli_out::write(format_args!($($arg)*)) };
}
