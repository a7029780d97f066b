//! citebot: a Matrix bot that answers questions from a folder of Markdown
//! knowledge files, replying with an answer sentence and ranked, cited passages.
// matrix-sdk's deeply nested futures need more than the default 128.
#![recursion_limit = "256"]

pub mod bot;
pub mod config;
pub mod messages;
pub mod render;
pub mod search;
