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

/// `e` and every error under it, joined with ": " (reqwest's own text hides the cause, e.g.
/// "error sending request" for a certificate the client refused).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
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

#[cfg(test)]
mod tests {
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn the_chain_names_every_cause_once() {
        let e = Layer(
            "error sending request",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer(
                    "invalid peer certificate: CaUsedAsEndEntity",
                    None,
                ))),
            ))),
        );
        assert_eq!(
            super::error_chain(&e),
            "error sending request: client error (Connect): invalid peer certificate: CaUsedAsEndEntity"
        );
        let repeated = Layer("a: b", Some(Box::new(Layer("b", None))));
        assert_eq!(super::error_chain(&repeated), "a: b");
    }
}
