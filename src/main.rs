// TEMP until the CLI merges: `citebot run --config F` and `citebot demo`.
use citebot::config::Config;
use citebot::search::Engine;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,matrix_sdk=warn".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().collect();
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal");
        tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
        token.cancel();
    });
    match args.get(1).map(String::as_str) {
        Some("run") => {
            let path = args.get(3).map(String::as_str).unwrap_or("config.toml");
            let config = Config::load(path.as_ref())?;
            let engine = Engine::open(&config.search_settings())?;
            citebot::bot::run(config, engine, shutdown).await
        }
        Some("demo") => {
            let settings = citebot::config::SearchConfig::default().settings();
            let engine = Engine::open(&settings)?;
            citebot::bot::demo(citebot::bot::DemoOptions::default(), engine, shutdown).await
        }
        _ => anyhow::bail!("usage: citebot run --config FILE | citebot demo"),
    }
}
