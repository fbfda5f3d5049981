//! The `screentime` command: parses the command line, runs the command, and turns its outcome
//! into the exit code.

use std::process::ExitCode;

use clap::Parser;
use screentime::cli::Cli;
use screentime::error::FAILURE;
use screentime::job::interrupt;

fn main() -> ExitCode {
    let cli = Cli::parse();
    interrupt::stop_on_ctrl_c();
    match cli.run(&mut std::io::stdout().lock()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(FAILURE),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
