//! Every piece of text citebot says to people, in one place.

/// Precedes the answer sentence.
pub const ANSWER: &str = "Answer:";
/// The refusal when the knowledge base has no answer.
pub const DONT_KNOW: &str = "I don't know — the knowledge base doesn't answer that.";
/// Precedes the nearest topics in a refusal.
pub const CLOSEST_TOPICS: &str = "Closest topics I know about:";
/// Heads the list of cited passages.
pub const SOURCES_HEADER: &str = "Sources:";
/// Heads the nearest misses when a question is refused.
pub const NEAREST_HEADER: &str = "Nearest passages (not confident enough to answer):";
/// Before a source's date.
pub const AS_OF: &str = "as of";
/// Text of a source link.
pub const LINK: &str = "link";
