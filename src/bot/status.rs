//! The status report shared by `citebot status` and `!status`: the bot's
//! device and encryption trust (from [`super::crypto`]) next to the index's
//! age and the last problem found when the knowledge files were read.

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

/// The full report.
pub async fn report(client: &Client, engine: &Engine) -> anyhow::Result<Formatted> {
    let crypto = crypto::status(client).await?;
    let stats = engine.stats();
    let last_error = engine.knowledge_errors().last().map(ToString::to_string);
    Ok(messages::status(
        &crypto,
        &stats,
        index_age(&stats),
        last_error.as_deref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_age_is_measured_from_the_build_time() {
        let mut stats = IndexStats {
            snippets: 0,
            files: 0,
            size_bytes: 0,
            built_at: (chrono::Utc::now() - chrono::Duration::seconds(90)).to_rfc3339(),
            location: String::new(),
        };
        let age = index_age(&stats).unwrap();
        assert!((89..=95).contains(&age.as_secs()), "{age:?}");
        stats.built_at = "not a time".into();
        assert_eq!(index_age(&stats), None);
    }
}
