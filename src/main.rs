//! The `citebot` binary: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = citebot::cli::Cli::parse();
    // The bot logs what it does; one-shot commands only warn (bad knowledge files).
    // matrix-sdk logs every 404 it expects (absent account data) as an error, and
    // its crypto layer warns about key backup on each message: noise for a bot.
    let default = if cli.command.is_long_running() {
        "info,matrix_sdk=warn,matrix_sdk::http_client=off,matrix_sdk_crypto=error"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .init();
    match citebot::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
