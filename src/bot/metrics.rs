//! What a running bot exposes to be watched: Prometheus metrics on `/metrics`
//! (text format, names prefixed `citebot_`) and a health check on `/health`
//! (200 when the last sync succeeded recently, 503 with the reason otherwise),
//! served over HTTP on `[metrics] listen`. Counters are kept as things happen;
//! gauges (index size and age, problems, open questions, time since the last
//! sync) are read at each scrape.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tracing::{info, warn};

use super::Bot;

/// How a question ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(crate) enum Outcome {
    Answered,
    Refused,
    RateLimited,
    Failed,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VoteLabel {
    vote: &'static str,
}

/// Buckets for reply and search latency, in seconds (1 ms to 30 s).
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

/// The bot's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    questions: Family<OutcomeLabel, Counter>,
    reply_seconds: Histogram,
    search_seconds: Histogram,
    sync_errors: Counter,
    undecryptable: Counter,
    votes: Family<VoteLabel, Counter>,
    snippets: Gauge,
    files: Gauge,
    index_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    last_reload_ok: Gauge,
    problems: Gauge,
    open_questions: Gauge,
    since_sync: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// When a sync last succeeded.
    last_sync: Mutex<Option<Instant>>,
    /// Why the last sync failed, when it did (cleared by a success).
    sync_error: Mutex<Option<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("citebot");
        let m = Metrics {
            questions: Family::default(),
            reply_seconds: Histogram::new(LATENCY_BUCKETS),
            search_seconds: Histogram::new(LATENCY_BUCKETS),
            sync_errors: Counter::default(),
            undecryptable: Counter::default(),
            votes: Family::default(),
            snippets: Gauge::default(),
            files: Gauge::default(),
            index_age: Gauge::default(),
            last_reload_ok: Gauge::default(),
            problems: Gauge::default(),
            open_questions: Gauge::default(),
            since_sync: Gauge::default(),
            last_sync: Mutex::new(None),
            sync_error: Mutex::new(None),
            registry: Registry::default(),
        };
        register_activity(&mut registry, &m);
        register_index(&mut registry, &m);
        Metrics { registry, ..m }
    }
}

/// What the bot does: questions, replies, searches, syncs, votes.
fn register_activity(registry: &mut Registry, m: &Metrics) {
    registry.register(
        "questions",
        "Questions handled, by outcome",
        m.questions.clone(),
    );
    registry.register(
        "reply_seconds",
        "From taking a question on to its reply being sent",
        m.reply_seconds.clone(),
    );
    registry.register(
        "search_seconds",
        "Time to search one question (waiting for a place included)",
        m.search_seconds.clone(),
    );
    registry.register("sync_errors", "Failed syncs", m.sync_errors.clone());
    registry.register(
        "undecryptable_messages",
        "Encrypted messages that arrived without their room key",
        m.undecryptable.clone(),
    );
    registry.register(
        "feedback_votes",
        "Votes (reactions) on answers",
        m.votes.clone(),
    );
    registry.register(
        "open_questions",
        "Questions taken on and not yet answered",
        m.open_questions.clone(),
    );
    registry.register(
        "seconds_since_sync",
        "Since the last successful sync (the bot's lag behind its homeserver)",
        m.since_sync.clone(),
    );
}

/// The index and the knowledge files behind it.
fn register_index(registry: &mut Registry, m: &Metrics) {
    registry.register(
        "index_snippets",
        "Passages in the index",
        m.snippets.clone(),
    );
    registry.register(
        "index_files",
        "Knowledge files in the index",
        m.files.clone(),
    );
    registry.register(
        "index_age_seconds",
        "Since the index was last written",
        m.index_age.clone(),
    );
    registry.register(
        "last_reload_ok",
        "1 when the last reload of the knowledge files worked, else 0",
        m.last_reload_ok.clone(),
    );
    registry.register(
        "knowledge_problems",
        "Knowledge files served in their last good version because of a problem",
        m.problems.clone(),
    );
}

impl Metrics {
    pub(crate) fn question(&self, outcome: Outcome) {
        let outcome = match outcome {
            Outcome::Answered => "answered",
            Outcome::Refused => "refused",
            Outcome::RateLimited => "rate_limited",
            Outcome::Failed => "failed",
        };
        self.questions
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    pub(crate) fn reply_took(&self, d: Duration) {
        self.reply_seconds.observe(d.as_secs_f64());
    }

    pub(crate) fn search_took(&self, d: Duration) {
        self.search_seconds.observe(d.as_secs_f64());
    }

    pub(crate) fn synced(&self) {
        *self.last_sync.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        *self.sync_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub(crate) fn sync_failed(&self, error: &str) {
        self.sync_errors.inc();
        *self.sync_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_owned());
    }

    pub(crate) fn undecryptable(&self) {
        self.undecryptable.inc();
    }

    pub(crate) fn vote(&self, up: bool) {
        let vote = if up { "up" } else { "down" };
        self.votes.get_or_create(&VoteLabel { vote }).inc();
    }

    fn since_sync(&self) -> Option<Duration> {
        self.last_sync
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|t| t.elapsed())
    }
}

/// The metrics in Prometheus text format, gauges read now.
fn scrape(bot: &Bot) -> String {
    let m = &bot.metrics;
    let stats = bot.engine.stats();
    m.snippets.set(stats.snippets as i64);
    m.files.set(stats.files as i64);
    if let Some(age) = super::status::index_age(&stats) {
        m.index_age.set(age.as_secs_f64());
    }
    m.last_reload_ok
        .set(i64::from(bot.reload_state().failure.is_none()));
    m.problems.set(bot.engine.knowledge_errors().len() as i64);
    m.open_questions.set(bot.journal.open_count() as i64);
    if let Some(lag) = m.since_sync() {
        m.since_sync.set(lag.as_secs_f64());
    }
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &m.registry).expect("writing to a String");
    out
}

/// `/health`: whether the bot is in touch with its homeserver. A sync is a long
/// poll of `sync.timeout_secs`; one that hasn't succeeded for well over that
/// (or not yet) means trouble.
fn health(bot: &Bot) -> (StatusCode, String) {
    let limit = Duration::from_secs(2 * bot.config.sync.timeout_secs + 30);
    let failed = bot
        .metrics
        .sync_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(error) = failed {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the last sync with the homeserver failed: {error}\n"),
        );
    }
    match bot.metrics.since_sync() {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not synced with the homeserver yet\n".into(),
        ),
        Some(lag) if lag > limit => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "no successful sync for {} s (the homeserver may be down)\n",
                lag.as_secs()
            ),
        ),
        Some(_) => (StatusCode::OK, "ok\n".into()),
    }
}

fn respond(bot: &Bot, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let (status, kind, body) = match req.uri().path() {
        "/metrics" => (
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            scrape(bot),
        ),
        "/health" => {
            let (status, body) = health(bot);
            (status, "text/plain; charset=utf-8", body)
        }
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: /metrics or /health\n".into(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(kind),
    );
    response
}

/// Binds `[metrics] listen`.
pub(crate) async fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    use anyhow::Context;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("metrics.listen: cannot listen on {listen}"))?;
    info!(address = %listener.local_addr()?, "serving /metrics and /health");
    Ok(listener)
}

/// Serves `/metrics` and `/health` on `listener` until shutdown.
pub(crate) async fn serve(bot: Arc<Bot>, listener: TcpListener) {
    loop {
        let stream = tokio::select! {
            _ = bot.shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    warn!(error = %err, "accepting a metrics connection failed");
                    continue;
                }
            },
        };
        let bot = bot.clone();
        let tasks = bot.tasks.clone();
        tasks.spawn(async move {
            let shutdown = bot.shutdown.clone();
            let service = hyper::service::service_fn(move |req| {
                let response = respond(&bot, &req);
                async move { Ok::<_, Infallible>(response) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = conn => {}
            }
        });
    }
}
