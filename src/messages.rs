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

/// The note on an answer that presents as future something already due:
/// "this source dates from March 2025; the event it describes was due in July 2025".
pub fn overdue_note(source_month_year: &str, due: &str) -> String {
    format!(
        "Note: this source dates from {source_month_year}; the event it describes was due in {due}, so check for newer information."
    )
}
