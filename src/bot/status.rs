//! The status report of `citebot status` (`!status` adds the running bot's
//! reload state): the bot's device and encryption trust (from
//! [`super::crypto`]) next to the index's age and the knowledge files' problems.

use std::time::Duration;

use matrix_sdk::Client;

use super::crypto;
use super::watch::ReloadState;
use crate::format::Formatted;
use crate::messages;
use crate::search::{Engine, IndexStats};

/// How long ago the index was built, when its build time is known.
pub fn index_age(stats: &IndexStats) -> Option<Duration> {
    let built = chrono::DateTime::parse_from_rfc3339(&stats.built_at).ok()?;
    (chrono::Utc::now() - built.to_utc()).to_std().ok()
}

/// What a running bot adds to its status report.
pub(crate) struct Running {
    pub reload: ReloadState,
    pub uptime: Duration,
}

/// The index's totals over `collections` (`None`: all), as a running bot tells
/// them: a limited room's index was updated when its own collections last
/// changed (`reloads`), not when the whole index was.
pub(crate) fn index_stats(
    engine: &Engine,
    reloads: &super::watch::Reloads,
    collections: Option<&[String]>,
) -> IndexStats {
    let mut index = engine.stats_in(collections);
    if let Some(cols) = collections {
        index.built_at = reloads.last_change(cols).unwrap_or_default().to_string();
    }
    index
}

/// The status report over `collections` (`None`: all), with the encryption
/// status when it could be read; `running` is `None` for `citebot status`.
pub(crate) fn summary(
    client: &Client,
    engine: &Engine,
    collections: Option<&[String]>,
    crypto: Option<messages::Encryption>,
    running: Option<Running>,
) -> messages::Status {
    let index = match &running {
        Some(r) => index_stats(engine, &r.reload.reloads, collections),
        None => engine.stats_in(collections),
    };
    let visible = |file: &str| engine.in_scope(file, collections);
    let (reload, uptime) = match running {
        Some(r) => (Some(r.reload), Some(r.uptime)),
        None => (None, None),
    };
    let reload = reload.as_ref();
    messages::Status {
        device_id: client
            .device_id()
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into()),
        crypto,
        index_age: index_age(&index),
        index,
        watching: reload.map(|r| {
            if collections.is_none() {
                r.watching.clone()
            } else {
                r.watching_shown.clone()
            }
        }),
        last_reload: reload
            .and_then(|r| r.reloads.seen_by(collections))
            .map(|r| (r.at.clone(), r.summary(visible))),
        problems: engine
            .knowledge_errors_in(collections)
            .iter()
            .map(crate::render::problem)
            .collect(),
        // The error may name any collection's files.
        reload_failure: reload.and_then(|r| r.failure.clone()).map(|f| {
            if collections.is_none() {
                f
            } else {
                messages::SEE_LOG.to_string()
            }
        }),
        pulls: reload
            .map(|r| {
                r.pulls
                    .iter()
                    .filter(|(c, _)| collections.is_none_or(|cols| cols.contains(c)))
                    .map(|(c, p)| (c.clone(), p.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        uptime,
        semantic: engine.semantic_progress(collections),
    }
}

/// The `citebot status` report, from outside a running bot: no reload state or
/// uptime, the knowledge problems as the index last recorded them.
pub async fn report(client: &Client, engine: &Engine) -> anyhow::Result<Formatted> {
    let crypto = crypto::status(client).await?;
    Ok(messages::status(&summary(
        client,
        engine,
        None,
        Some(crypto),
        None,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_age_is_measured_from_the_build_time() {
        let mut stats = IndexStats {
            snippets: 0,
            files: 0,
            size_bytes: None,
            built_at: (chrono::Utc::now() - chrono::Duration::seconds(90)).to_rfc3339(),
        };
        let age = index_age(&stats).unwrap();
        assert!((89..=95).contains(&age.as_secs()), "{age:?}");
        stats.built_at = "not a time".into();
        assert_eq!(index_age(&stats), None);
    }
}
