//! `/metrics` and `/health` scraped from the running bot while it answers.

use std::time::Duration;

use crate::harness::*;

async fn get(url: &str) -> (u16, String) {
    let r = matrix_sdk::reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the sample `name` (with its labels, as written) in `text`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_report_the_running_bot() {
    let port = citebot::bot::synapse::free_port().unwrap();
    let mut alice = human("alice").await;
    let (bot, running, dm) = start_bot(&mut alice, Meet::Dm, |c| {
        c.metrics.listen = format!("127.0.0.1:{port}");
    })
    .await;
    let base = format!("http://127.0.0.1:{port}");
    let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());
    ask(&mut alice, &bot, &dm, FRANCE).await;

    let (status, health) = get(&format!("{base}/health")).await;
    assert_eq!((status, health.as_str()), (200, "ok\n"));
    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(&text, "citebot_questions_total{outcome=\"answered\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "citebot_questions_total{outcome=\"refused\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "citebot_reply_seconds_count"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "citebot_search_seconds_count"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(sample(&text, "citebot_index_files"), Some(6.0), "{text}");
    assert!(
        sample(&text, "citebot_index_snippets").unwrap() > 10.0,
        "{text}"
    );
    assert_eq!(sample(&text, "citebot_open_questions"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "citebot_last_reload_ok"), Some(1.0), "{text}");
    assert!(
        sample(&text, "citebot_seconds_since_sync").unwrap() < 60.0,
        "{text}"
    );
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    let (status, _) = get(&format!("{base}/nothing")).await;
    assert_eq!(status, 404);

    running.stop().await;
    // Stopped: nothing listens any more.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        matrix_sdk::reqwest::get(&format!("{base}/health"))
            .await
            .is_err()
    );
}
