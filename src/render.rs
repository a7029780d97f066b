//! TEMP until search core merges: renders an `Answer` for Matrix (plain +
//! HTML). Replaced wholesale on merge.

use crate::search::Answer;

/// A reply body in both Matrix formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    /// `body`
    pub plain: String,
    /// `formatted_body` (`org.matrix.custom.html`)
    pub html: String,
}

/// TEMP until search core merges.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// TEMP until search core merges.
pub fn matrix(answer: &Answer) -> Formatted {
    if !answer.answered {
        let topics = answer.closest_topics.join(", ");
        return Formatted {
            plain: format!(
                "I don't know: \"{}\". Closest topics: {topics}",
                answer.question
            ),
            html: format!(
                "I don't know: <q>{}</q>. Closest topics: {}",
                escape_html(&answer.question),
                escape_html(&topics)
            ),
        };
    }
    let line = answer
        .answer
        .as_ref()
        .map(|a| a.text.as_str())
        .unwrap_or_default();
    let mut plain = format!("{line}\n");
    let mut html = format!("<p>{}</p><ol>", escape_html(line));
    for p in &answer.passages {
        plain.push_str(&format!("- {} [{}]\n", p.text, p.citation));
        html.push_str(&format!(
            "<li>{} <em>[{}]</em></li>",
            escape_html(&p.text),
            escape_html(&p.citation)
        ));
    }
    html.push_str("</ol>");
    Formatted { plain, html }
}
