//! Runs the fake Looker on its own: `cargo run -p kpilink-looker-fake --example fake_looker -- --help`.
//! (The daemon offers the same as `kpilink fake-looker`.)

use clap::Parser;

#[derive(Parser)]
#[command(about = "A fake Looker API 4.0 server with a demo instance")]
struct Cli {
    #[command(flatten)]
    args: kpilink_looker_fake::FakeLookerArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kpilink_looker_fake::run(Cli::parse().args).await
}
