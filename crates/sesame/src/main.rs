use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = sesame::cli::Cli::parse();
    match sesame::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
