//! One [`Answer`], three renderings: Matrix (HTML + plain text), terminal, JSON.
//! Everything that came from a user or a knowledge file is escaped in HTML.

use std::fmt::Write;

use crate::format::{Formatted, escape_html};
use crate::knowledge::Place;
use crate::messages;
use crate::search::{self, Answer, AnswerLine, Citation, Passage};

/// "5 March 2025" from "2025-03-05"; other text unchanged.
pub fn human_date(date: &str) -> String {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| d.format("%-d %B %Y").to_string())
        .unwrap_or_else(|_| date.to_string())
}

/// "March 2025" from "2025-03-05".
fn month_year(date: &str) -> String {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_else(|_| date.to_string())
}

fn freshness_note(a: &Answer) -> Option<String> {
    a.freshness
        .as_ref()
        .map(|f| messages::overdue_note(&month_year(&f.source_date), &f.due))
}

/// "Title › Heading".
fn topic(c: &Citation) -> String {
    search::topic(&c.title, &c.heading)
}

/// The citation line in plain text: topic, source, date, url, file:line.
pub fn citation_plain(c: &Citation) -> String {
    let mut out = format!("{} — {}", topic(c), c.source);
    if let Some(d) = &c.published {
        let _ = write!(out, ", {} {}", messages::AS_OF, human_date(d));
    }
    if let Some(u) = &c.url {
        let _ = write!(out, " · {u}");
    }
    let _ = write!(out, " · {}", place(c));
    out
}

/// A passage's citation in plain text, and where else its words stand.
fn citations_plain(p: &Passage) -> String {
    let mut out = citation_plain(&p.citation);
    if !p.also.is_empty() {
        let places: Vec<String> = p.also.iter().map(place).collect();
        let _ = write!(out, " · {} {}", messages::ALSO_IN, places.join(", "));
    }
    out
}

/// Where the passage is: "file:line", "file, page N", "file, slide N" or the
/// file alone.
pub fn place(c: &Citation) -> String {
    let at = match (c.line, c.page, c.slide, c.row) {
        (Some(line), ..) => Place::Line(line),
        (None, Some(page), ..) => Place::Page(page),
        (None, None, Some(slide), _) => Place::Slide(slide),
        (None, None, None, Some(row)) => Place::Row(row),
        (None, None, None, None) => Place::Document,
    };
    place_in(&c.file, at)
}

/// A knowledge file's problem as people are shown it (`citebot check` and
/// `index`, `!status`, `!reload`, the admin room): where it is as citations
/// name places ("file:line", "file.pdf, page 2", "deck.pptx, slide 3", a Word
/// document or a document as a whole by its name alone), then what is wrong.
pub fn problem(e: &crate::knowledge::KnowledgeError) -> String {
    format!("{}: {}", place_in(&e.file, e.place()), e.kind)
}

/// Where `at` is in `file`, as citations name it: "file:line", "file, page
/// N", "file, slide N" or the file alone.
pub fn place_in(file: &str, at: Place) -> String {
    match at {
        Place::Line(line) => format!("{file}:{line}"),
        Place::Page(page) => format!("{file}, {} {page}", messages::PAGE),
        Place::Slide(slide) => format!("{file}, {} {slide}", messages::SLIDE),
        Place::Row(row) => format!("{file}, {} {row}", messages::ROW),
        Place::Document => file.to_string(),
    }
}

fn citation_html(c: &Citation) -> String {
    let mut out = format!(
        "<em>{}</em> — {}",
        escape_html(&topic(c)),
        escape_html(&c.source)
    );
    if let Some(d) = &c.published {
        let _ = write!(out, ", {} {}", messages::AS_OF, escape_html(&human_date(d)));
    }
    match &c.url {
        // Only web links: the Matrix spec allows no other scheme a knowledge
        // file might name (`javascript:`), and clients would drop it anyway.
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            let _ = write!(
                out,
                " · <a href=\"{}\">{}</a>",
                escape_html(u),
                messages::LINK
            );
        }
        Some(u) => {
            let _ = write!(out, " · {}", escape_html(u));
        }
        None => {}
    }
    let _ = write!(out, " · <code>{}</code>", escape_html(&place(c)));
    out
}

/// A passage's citation in HTML, and where else its words stand.
fn citations_html(p: &Passage) -> String {
    let mut out = citation_html(&p.citation);
    if !p.also.is_empty() {
        let places: Vec<String> = (p.also.iter())
            .map(|c| format!("<code>{}</code>", escape_html(&place(c))))
            .collect();
        let _ = write!(out, " · {} {}", messages::ALSO_IN, places.join(", "));
    }
    out
}

/// A passage's text as it is shown: prose runs (highlighted or not) and code.
#[derive(Debug, PartialEq)]
enum Run<'a> {
    Text(&'a str, bool),
    Code(&'a str),
}

/// Splits a passage into runs: code blocks whole, prose split at its highlights.
fn runs(p: &Passage) -> Vec<Run<'_>> {
    runs_of(&p.text, &p.code, &p.highlights)
}

/// Splits `text` into runs: the `code` ranges whole, prose split at `highlights`.
fn runs_of<'t>(
    text: &'t str,
    code: &[(usize, usize)],
    highlights: &[(usize, usize)],
) -> Vec<Run<'t>> {
    let ok = |from: usize, to: usize| {
        from <= to && to <= text.len() && text.is_char_boundary(from) && text.is_char_boundary(to)
    };
    let mut out = Vec::new();
    let mut at = 0;
    let mut code = code.iter().filter(|&&(a, b)| ok(a, b)).peekable();
    let mut highlights = highlights.iter().filter(|&&(a, b)| ok(a, b)).peekable();
    while at < text.len() {
        // A code range that starts inside what was already shown is malformed.
        while code.peek().is_some_and(|c| c.0 < at) {
            code.next();
        }
        let next_code = code.peek().map(|c| c.0).unwrap_or(text.len());
        if next_code == at {
            let (a, b) = *code.next().expect("peeked");
            if b > a {
                out.push(Run::Code(&text[a..b]));
            }
            at = b.max(at);
            continue;
        }
        // Prose up to the next code block, with its highlights.
        while let Some(&&(from, to)) = highlights.peek() {
            if from < at {
                highlights.next();
                continue;
            }
            if to > next_code {
                break;
            }
            if from > at {
                out.push(Run::Text(&text[at..from], false));
            }
            out.push(Run::Text(&text[from..to], true));
            at = to;
            highlights.next();
        }
        if at < next_code {
            out.push(Run::Text(&text[at..next_code], false));
            at = next_code;
        }
    }
    out
}

/// A passage in Matrix HTML: prose with highlights, code as `<pre><code>`.
fn passage_html(p: &Passage) -> String {
    let mut out = String::new();
    for run in runs(p) {
        match run {
            Run::Text(t, true) => {
                let _ = write!(out, "<strong>{}</strong>", escape_html(t));
            }
            Run::Text(t, false) => out.push_str(&escape_html(t).replace("\n\n", "<br>")),
            Run::Code(c) => {
                let _ = write!(out, "<pre><code>{}</code></pre>", escape_html(c));
            }
        }
    }
    out
}

/// A passage in plain text, code indented; `color` adds ANSI bold to matches.
fn passage_plain(p: &Passage, color: bool, indent: &str) -> String {
    let mut out = String::new();
    for run in runs(p) {
        match run {
            Run::Text(t, true) if color => {
                let _ = write!(out, "\x1b[1;33m{t}\x1b[0m");
            }
            Run::Text(t, _) => out.push_str(t),
            Run::Code(c) => {
                for (i, line) in c.split('\n').enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    let _ = write!(out, "{indent}    {line}");
                }
            }
        }
    }
    out
}

fn refusal_plain(a: &Answer) -> String {
    let mut out = messages::DONT_KNOW.to_string();
    if !a.closest_topics.is_empty() {
        let _ = write!(
            out,
            "\n{} {}",
            messages::CLOSEST_TOPICS,
            a.closest_topics.join("; ")
        );
    }
    out
}

/// The Matrix message for an answer.
pub fn matrix(a: &Answer) -> Formatted {
    let mut out = matrix_body(a);
    if let Some(cut) = &a.cut {
        let note = messages::question_cut(cut);
        let _ = write!(out.plain, "\n\n{note}");
        let _ = write!(out.html, "<p><em>{}</em></p>", escape_html(&note));
    }
    out
}

fn matrix_body(a: &Answer) -> Formatted {
    let (mut plain, mut html) = match (&a.answer, a.answered) {
        (Some(line), true) => (answer_plain(line), answer_html(line)),
        _ => {
            let mut html = format!("<p>{}</p>", escape_html(messages::DONT_KNOW));
            if !a.closest_topics.is_empty() {
                let topics: Vec<String> = a
                    .closest_topics
                    .iter()
                    .map(|t| format!("<em>{}</em>", escape_html(t)))
                    .collect();
                let _ = write!(
                    html,
                    "<p>{} {}</p>",
                    messages::CLOSEST_TOPICS,
                    topics.join("; ")
                );
            }
            return Formatted {
                plain: refusal_plain(a),
                html,
            };
        }
    };
    if let Some(note) = freshness_note(a) {
        let _ = write!(plain, "\n{note}");
        let _ = write!(html, "<p><em>{}</em></p>", escape_html(&note));
    }
    if !a.passages.is_empty() {
        let _ = write!(plain, "\n\n{}\n", messages::SOURCES_HEADER);
        let _ = write!(html, "<p>{}</p><ol>", messages::SOURCES_HEADER);
        for p in &a.passages {
            let _ = write!(
                html,
                "<li><blockquote>{}</blockquote>{}</li>",
                passage_html(p),
                citations_html(p)
            );
            let _ = write!(
                plain,
                "{}. “{}”\n   — {}\n",
                p.rank,
                passage_plain(p, false, "   "),
                citations_plain(p)
            );
        }
        html.push_str("</ol>");
    }
    Formatted {
        plain: plain.trim_end().to_string(),
        html,
    }
}

/// The answer line's runs: code whole, prose without the blank lines around it.
fn answer_runs(line: &AnswerLine) -> impl Iterator<Item = Run<'_>> {
    runs_of(&line.text, &line.code, &[])
        .into_iter()
        .filter_map(|run| match run {
            Run::Text(t, h) => Some(t.trim_matches('\n'))
                .filter(|t| !t.is_empty())
                .map(|t| Run::Text(t, h)),
            code => Some(code),
        })
}

/// "Answer:" and the answer line in plain text: prose as is, code on lines of
/// its own, indented, with a blank line before prose that follows code.
fn answer_plain(line: &AnswerLine) -> String {
    let mut out = String::from(messages::ANSWER);
    let mut after_code = false;
    for run in answer_runs(line) {
        match run {
            Run::Text(t, _) => {
                out.push_str(if after_code { "\n\n" } else { " " });
                out.push_str(t);
                after_code = false;
            }
            Run::Code(c) => {
                for l in c.split('\n') {
                    let _ = write!(out, "\n    {l}");
                }
                after_code = true;
            }
        }
    }
    out
}

/// The answer line in Matrix HTML: "Answer:" and its prose in paragraphs, code
/// as `<pre><code>` between them (a block may not sit inside a paragraph).
fn answer_html(line: &AnswerLine) -> String {
    let mut out = format!("<p><strong>{}</strong>", messages::ANSWER);
    let mut open = true;
    for run in answer_runs(line) {
        match run {
            Run::Text(t, _) => {
                out.push_str(if open { " " } else { "<p>" });
                out.push_str(&escape_html(t).replace("\n\n", "<br>"));
                open = true;
            }
            Run::Code(c) => {
                if open {
                    out.push_str("</p>");
                    open = false;
                }
                let _ = write!(out, "<pre><code>{}</code></pre>", escape_html(c));
            }
        }
    }
    if open {
        out.push_str("</p>");
    }
    out
}

/// The answer as a terminal shows it; `color` adds ANSI bold to matched words.
pub fn terminal(a: &Answer, color: bool) -> String {
    let mut out = match (&a.answer, a.answered) {
        (Some(line), true) => format!("{}\n", answer_plain(line)),
        _ => format!("{}\n", refusal_plain(a)),
    };
    if let Some(note) = freshness_note(a) {
        let _ = writeln!(out, "{note}");
    }
    if !a.passages.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            if a.answered {
                messages::SOURCES_HEADER
            } else {
                messages::NEAREST_HEADER
            }
        );
    }
    for p in &a.passages {
        let text = passage_plain(p, color, "");
        let _ = writeln!(out, "\n[{}] {}\n    — {}", p.rank, text, citations_plain(p));
    }
    if let Some(cut) = &a.cut {
        let _ = writeln!(out, "\n{}", messages::question_cut(cut));
    }
    out
}

/// The answer as one JSON object (the shape `citebot ask --json` prints).
pub fn json(a: &Answer) -> String {
    serde_json::to_string_pretty(a).expect("answers serialise")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::format::MAX_REPLY_BYTES;

    /// The Matrix message of an answer citing `passages` passages of text that
    /// JSON and HTML escaping both grow.
    pub(crate) fn long_answer(passages: usize) -> Formatted {
        let mut a = answer("q", &"He said \"<b>\" & left.\n".repeat(10));
        let passage = a.passages[0].clone();
        a.passages = (1..=passages)
            .map(|rank| Passage {
                rank,
                ..passage.clone()
            })
            .collect();
        matrix(&a)
    }

    #[test]
    fn replies_too_long_for_one_event_are_shortened_not_dropped() {
        let small = Formatted {
            plain: "short".into(),
            html: "<p>short</p>".into(),
        };
        assert_eq!(messages::fitted(small.clone()), small);
        for line in ["word <&> \"quoted\"\n", "\u{1}\u{2}\u{3}\n", "ééé ", "x"] {
            let plain = line.repeat(40_000);
            let big = Formatted {
                html: format!("<p>{}</p>", escape_html(&plain)),
                plain,
            };
            let fit = messages::fitted(big);
            let event = serde_json::json!({"body": fit.plain, "formatted_body": fit.html});
            let size = serde_json::to_vec(&event).unwrap().len();
            assert!(size <= MAX_REPLY_BYTES + 64, "{line:?}: {size}");
            assert!(
                fit.plain.len() > 1_000,
                "{line:?}: kept {}",
                fit.plain.len()
            );
            assert!(fit.plain.ends_with(messages::SHORTENED), "{line:?}");
            assert!(fit.html.ends_with("</p>") && !fit.html.contains("<p><p>"));
        }
    }

    use proptest::strategy::Strategy as _;

    /// Any text: markup, quotes, entities, control and bidi characters.
    fn hostile_text() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::string::string_regex(
            "([<>&\"'/=a-z ]|<script>|</p>|<a href=x>|&amp;|&#0;|\\u{202e}|\\u{0}|\n|javascript:){0,40}",
        )
        .unwrap()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Whatever the question, passages, titles, sources and URLs hold, the
        /// HTML has only the elements the renderer writes, links only to http(s)
        /// URLs, and every piece of that text reads back as written.
        #[test]
        fn no_text_ever_reaches_the_html_unescaped(
            texts in proptest::collection::vec(hostile_text(), 7),
            answered in proptest::bool::ANY,
            url in proptest::option::of(proptest::prop_oneof![
                hostile_text(),
                hostile_text().prop_map(|t| format!("https://example.org/{t}")),
            ]),
        ) {
            use proptest::prelude::*;
            let mut a = answer(&texts[0], &texts[1]);
            a.answered = answered;
            a.answer = Some(AnswerLine { text: texts[2].clone(), passage: 1, code: Vec::new() });
            a.closest_topics = vec![texts[3].clone()];
            let p = &mut a.passages[0];
            p.highlights = vec![(0, p.text.len().min(3))]
                .into_iter()
                .filter(|&(s, e)| p.text.is_char_boundary(s) && p.text.is_char_boundary(e) && s < e)
                .collect();
            p.code = Vec::new();
            p.citation.title = texts[4].clone();
            p.citation.heading = texts[5].clone();
            p.citation.source = texts[6].clone();
            p.citation.url = url.clone();
            let html = matrix(&a).html;
            let doc = scraper::Html::parse_fragment(&html);
            for node in doc.root_element().descendants() {
                let Some(el) = node.value().as_element() else { continue };
                prop_assert!(
                    ["html", "p", "strong", "em", "ol", "li", "blockquote", "code", "pre", "a", "br"]
                        .contains(&el.name()),
                    "<{}> in {}", el.name(), html
                );
                for (attr, value) in el.attrs() {
                    prop_assert!(el.name() == "a" && attr == "href", "{attr} in {html}");
                    prop_assert!(value.starts_with("https://") || value.starts_with("http://"), "{value}");
                }
            }
            // NUL is dropped by HTML parsers (and by clients): harmless, not
            // compared; line breaks become <br>, so spacing is not compared either.
            let clean = |t: &str| -> String {
                t.chars().filter(|c| !c.is_whitespace() && !matches!(c, '\0' | '\u{fffd}')).collect()
            };
            let text = clean(&doc.root_element().text().collect::<String>());
            let shown = |t: &str| text.contains(&clean(t));
            if answered {
                prop_assert!(shown(&texts[2]), "answer line {:?} not in {text:?}", texts[2]);
                prop_assert!(shown(&texts[1]), "passage {:?} not in {text:?}", texts[1]);
            } else {
                prop_assert!(shown(&texts[3]), "topic {:?} not in {text:?}", texts[3]);
            }
        }
    }

    fn answer(question: &str, text: &str) -> Answer {
        Answer {
            question: question.into(),
            answered: true,
            confidence: 0.9,
            answer: Some(AnswerLine {
                code: Vec::new(),
                text: "They visit in <b>July</b> 2025.".into(),
                passage: 1,
            }),
            cut: None,
            passages: vec![Passage {
                rank: 1,
                score: 1.5,
                id: "v#1".into(),
                text: text.into(),
                highlights: vec![(0, 4)],
                citation: Citation {
                    title: "Visit".into(),
                    heading: "Plans".into(),
                    source: "Paper & Co".into(),
                    url: Some("https://example.org/a?b=1&c=\"2\"".into()),
                    published: Some("2025-03-05".into()),
                    file: "knowledge/v.md".into(),
                    line: Some(12),
                    page: None,
                    slide: None,
                    row: None,
                },
                also: vec![],
                code: vec![],
            }],
            closest_topics: vec![],
            freshness: None,
        }
    }

    #[test]
    fn malformed_ranges_never_loop_or_panic() {
        let mut a = answer("q", "héllo wörld, some text");
        for (code, highlights) in [
            (vec![(0, 6), (3, 9)], vec![(1, 2)]),
            (vec![(5, 3)], vec![(0, 100)]),
            (vec![(2, 3)], vec![(1, 4), (0, 2)]),
            (vec![(0, 22), (0, 22)], vec![]),
        ] {
            a.passages[0].code = code;
            a.passages[0].highlights = highlights;
            let _ = matrix(&a);
            let _ = terminal(&a, true);
        }
    }

    #[test]
    fn code_is_shown_as_code_everywhere() {
        let text =
            "Proxy with nginx:\n\nlocation / {\n  proxy_pass http://x<1>;\n}\n\nThen reload.";
        let mut a = answer("how do I proxy", text);
        let start = text.find("location").unwrap();
        let end = text.find("}").unwrap() + 1;
        a.passages[0].code = vec![(start, end)];
        a.passages[0].highlights = vec![(0, 5), (start + 13, start + 23), (end + 2, end + 6)];
        let f = matrix(&a);
        assert!(
            f.html.contains(
                "<blockquote><strong>Proxy</strong> with nginx:<br><pre><code>location / {\n  proxy_pass http://x&lt;1&gt;;\n}</code></pre><br><strong>Then</strong> reload.</blockquote>"
            ),
            "{}",
            f.html
        );
        assert!(
            f.plain
                .contains("“Proxy with nginx:\n\n       location / {\n         proxy_pass"),
            "{}",
            f.plain
        );
        let t = terminal(&a, false);
        assert!(
            t.contains("\n    location / {\n      proxy_pass http://x<1>;\n    }\n"),
            "{t}"
        );
        // An answer line that is code keeps its lines in HTML.
        let line = a.answer.as_mut().unwrap();
        line.text = "location / {\n  proxy_pass x;\n}".into();
        line.code = vec![(0, line.text.len())];
        let html = matrix(&a).html;
        assert!(
            html.starts_with(
                "<p><strong>Answer:</strong></p><pre><code>location / {\n  proxy_pass x;\n}</code></pre>"
            ),
            "{html}"
        );
        // A sentence and the code it introduces: prose, then the block.
        let line = a.answer.as_mut().unwrap();
        line.text = "Add this to the config:\n\nlocation / {\n  proxy_pass x;\n}".into();
        line.code = vec![(25, line.text.len())];
        let html = matrix(&a).html;
        assert!(
            html.starts_with(
                "<p><strong>Answer:</strong> Add this to the config:</p><pre><code>location / {\n  proxy_pass x;\n}</code></pre><p>"
            ),
            "{html}"
        );
        let plain = matrix(&a).plain;
        assert!(
            plain.starts_with(
                "Answer: Add this to the config:\n    location / {\n      proxy_pass x;\n    }\n\n"
            ),
            "{plain}"
        );
        let t = terminal(&a, false);
        assert!(
            t.starts_with(
                "Answer: Add this to the config:\n    location / {\n      proxy_pass x;\n    }\n"
            ),
            "{t}"
        );
    }

    #[test]
    fn matrix_html_escapes_everything_from_users_and_files() {
        let a = answer(
            "<script>alert(1)</script>",
            "Here <script>x</script> & more",
        );
        let f = matrix(&a);
        assert!(!f.html.contains("<script>"), "{}", f.html);
        assert!(!f.html.contains("<b>July"), "{}", f.html);
        assert!(
            f.html
                .contains("<strong>Here</strong> &lt;script&gt;x&lt;/script&gt; &amp; more"),
            "{}",
            f.html
        );
        assert!(
            f.html
                .contains("href=\"https://example.org/a?b=1&amp;c=&quot;2&quot;\""),
            "{}",
            f.html
        );
        assert!(
            f.html.contains("Paper &amp; Co, as of 5 March 2025"),
            "{}",
            f.html
        );
        assert!(
            f.plain
                .starts_with("Answer: They visit in <b>July</b> 2025.")
        );
        assert!(
            f.plain
                .contains("Visit › Plans — Paper & Co, as of 5 March 2025")
        );
    }

    #[test]
    fn overdue_plans_carry_a_note() {
        let mut a = answer("q", "Here");
        a.freshness = Some(crate::search::Freshness {
            source_date: "2025-03-05".into(),
            due: "July 2025".into(),
        });
        let note = "this source dates from March 2025; the event it describes was due in July 2025";
        assert!(matrix(&a).plain.contains(note));
        assert!(matrix(&a).html.contains(note));
        assert!(terminal(&a, false).contains(note));
    }

    #[test]
    fn refusal_names_closest_topics() {
        let mut a = answer("capital of France?", "x");
        a.answered = false;
        a.answer = None;
        a.closest_topics = vec!["Visit › Plans".into()];
        let f = matrix(&a);
        assert!(f.plain.starts_with(messages::DONT_KNOW));
        assert!(f.plain.contains("Visit › Plans"));
        assert!(f.html.contains("<em>Visit › Plans</em>"));
    }

    #[test]
    fn terminal_highlights_only_with_color() {
        let a = answer("q", "Here it is");
        assert!(terminal(&a, true).contains("\x1b[1;33mHere\x1b[0m"));
        assert!(!terminal(&a, false).contains('\x1b'));
        assert!(terminal(&a, false).contains("[1] Here it is"));
    }

    #[test]
    fn a_citation_names_a_line_a_page_or_the_document() {
        // (file, line, page, slide, row, where the reply and terminal say it is)
        let table = [
            (
                "knowledge/v.md",
                [Some(12), None, None, None],
                "knowledge/v.md:12",
            ),
            (
                "docs/report.pdf",
                [None, Some(7), None, None],
                "docs/report.pdf, page 7",
            ),
            (
                "docs/plan.pptx",
                [None, None, Some(4), None],
                "docs/plan.pptx, slide 4",
            ),
            (
                "docs/prices.xlsx",
                [None, None, None, Some(12)],
                "docs/prices.xlsx, row 12",
            ),
            ("docs/policy.docx", [None; 4], "docs/policy.docx"),
        ];
        for (file, [line, page, slide, row], shown) in table {
            let mut a = answer("q", "Here");
            let c = &mut a.passages[0].citation;
            (c.file, c.line, c.page, c.slide, c.row) = (file.into(), line, page, slide, row);
            let f = matrix(&a);
            assert!(f.plain.ends_with(&format!(" · {shown}")), "{}", f.plain);
            assert!(
                f.html.contains(&format!("<code>{shown}</code>")),
                "{}",
                f.html
            );
            assert!(terminal(&a, false).contains(shown), "{shown}");
            let v: serde_json::Value = serde_json::from_str(&json(&a)).unwrap();
            let c = &v["passages"][0]["citation"];
            assert_eq!(c["line"], serde_json::json!(line), "{file}");
            assert_eq!(c["page"], serde_json::json!(page), "{file}");
            assert_eq!(c["slide"], serde_json::json!(slide), "{file}");
            assert_eq!(c["row"], serde_json::json!(row), "{file}");
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let v: serde_json::Value = serde_json::from_str(&json(&answer("q", "Here"))).unwrap();
        assert_eq!(v["answered"], true);
        assert_eq!(v["answer"]["passage"], 1);
        assert_eq!(v["passages"][0]["citation"]["published"], "2025-03-05");
        assert_eq!(v["passages"][0]["citation"]["line"], 12);
        assert!(v["passages"][0]["citation"]["url"].is_string());
    }
}
