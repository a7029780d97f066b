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
