//! citebot: answers questions from a folder of knowledge files with ranked, cited
//! passages — from a terminal (`citebot ask`) or as a Matrix bot (`citebot run`).
//!
//! The search core ([`knowledge`], [`search`]) knows nothing of Matrix; one
//! [`search::Answer`] is rendered for Matrix, terminals and JSON by [`render`].
// matrix-sdk's deeply nested futures need more than the default 128.
#![recursion_limit = "256"]

pub mod bot;
pub mod cli;
pub mod config;
pub(crate) mod eval;
pub mod feedback;
pub mod files;
pub(crate) mod format;
pub mod fuzz;
pub mod knowledge;
pub mod messages;
pub(crate) mod render;
pub mod search;
pub(crate) mod text;

/// `err` and each of its causes after a colon, as `{:#}` prints an
/// `anyhow::Error`. citebot's own errors leave their cause to `source()` (so a
/// chain printed with `{:#}` names it once): a log line that holds one prints it
/// through this, or the cause would be lost.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_is_printed_with_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder");
        let err = crate::search::SearchError::Knowledge {
            dir: "k".into(),
            source: io,
        };
        let once = "cannot read the knowledge folder k: no such folder";
        assert_eq!(super::chain(&err), once);
        assert_eq!(format!("{:#}", anyhow::Error::from(err)), once);
    }
}
