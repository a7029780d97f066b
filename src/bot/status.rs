//! The status report of `citebot status` (`!status` adds the running bot's
//! reload state): the bot's device and encryption trust (from
//! [`super::crypto`]) next to the index's age and the knowledge files' problems.

use std::time::Duration;

use matrix_sdk::Client;

use super::crypto;
use crate::messages;
use crate::render::Formatted;
use crate::search::{Engine, IndexStats};

/// How long ago the index was built, when its build time is known.
pub fn index_age(stats: &IndexStats) -> Option<Duration> {
    let built = chrono::DateTime::parse_from_rfc3339(&stats.built_at).ok()?;
    (chrono::Utc::now() - built.to_utc()).to_std().ok()
}

/// The `citebot status` report, from outside a running bot: no reload state or
/// uptime, the knowledge problems as the index last recorded them.
pub async fn report(client: &Client, engine: &Engine) -> anyhow::Result<Formatted> {
    let crypto = crypto::status(client).await?;
    let index = engine.stats();
    Ok(messages::status(&messages::Status {
        device_id: crypto.device_id.clone(),
        crypto: Some(crypto),
        index_age: index_age(&index),
        index,
        watching: None,
        last_reload: None,
        problems: engine
            .knowledge_errors()
            .iter()
            .map(ToString::to_string)
            .collect(),
        reload_failure: None,
        pulls: Vec::new(),
        uptime: None,
    }))
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
