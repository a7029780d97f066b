//! Every piece of text citebot says to people, in one place: the words around an
//! answer (used by `render`), the bot's commands (`!why`, `!status`, `!reload`…),
//! apologies and notices, and what it posts to the admin room. Descriptions of
//! errors are their error types' `Display` (a knowledge file's problem, a failed
//! search), shared with the command line and the log; this module frames them.
//! Anything that came from a user or a file is HTML-escaped.

use crate::feedback::Gap;
use crate::format::{Formatted, MAX_REPLY_BYTES, escape_html};
use crate::search::{Explanation, IndexStats, SourceInfo, topic};
use std::fmt::Write as _;
use std::time::Duration;
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
/// Before the other places a passage's words stand ("also in v2/setup.md:5").
pub const ALSO_IN: &str = "also in";
/// Before the page of a PDF a passage is on ("report.pdf, page 7").
pub const PAGE: &str = "page";
/// Before the slide of a deck a passage is on ("plan.pptx, slide 4").
pub const SLIDE: &str = "slide";
/// Before the row of a workbook's sheet a passage is on ("prices.xlsx, row 12").
pub const ROW: &str = "row";

/// The note on an answer that presents as future something already due:
/// "this source dates from March 2025; the event it describes was due in July 2025".
pub fn overdue_note(source_month_year: &str, due: &str) -> String {
    format!(
        "Note: this source dates from {source_month_year}; the event it describes was due in {due}, so check for newer information."
    )
}

fn both(plain: impl Into<String>, html: impl Into<String>) -> Formatted {
    Formatted {
        plain: plain.into(),
        html: html.into(),
    }
}

/// Text without markup: the HTML body is the escaped plain body.
fn text(plain: impl Into<String>) -> Formatted {
    let plain = plain.into();
    let html = escape_html(&plain);
    both(plain, html)
}

/// `!help`.
pub fn help(prefix: &str, is_admin: bool, follow_ups: bool) -> Formatted {
    let p = prefix;
    let mut rows = vec![
        (
            format!("{p}ask QUESTION"),
            "answer QUESTION from the knowledge files, with cited passages",
        ),
        (
            format!("{p}why QUESTION"),
            "show how QUESTION was matched: terms, per-passage scores, confidence",
        ),
        (
            format!("{p}sources"),
            "list the knowledge files with titles and dates",
        ),
        (
            format!("{p}stats"),
            "questions answered and refused since start, index size, uptime",
        ),
        (
            format!("{p}status"),
            "index size, age and last reload, problems in the knowledge files, and the bot's device, encryption trust and key backup",
        ),
        (format!("{p}help"), "this help"),
    ];
    if is_admin {
        rows.push((
            format!("{p}reload"),
            "(admin) rebuild the index from the files now",
        ));
        rows.push((
            format!("{p}gaps"),
            "(admin) questions most often refused or voted 👎 lately",
        ));
    }
    let mut intro = "I answer questions from a set of knowledge files and cite my sources. \
                     In a direct chat just ask; in a group mention me or use a command."
        .to_string();
    if follow_ups {
        intro.push_str(" Ask follow-up questions in the thread of my answer.");
    }
    let intro = intro.as_str();
    let mut plain = format!("{intro}\n");
    let mut html = format!("<p>{}</p><ul>", escape_html(intro));
    for (cmd, what) in rows {
        plain.push_str(&format!("  {cmd} — {what}\n"));
        html.push_str(&format!(
            "<li><code>{}</code> — {}</li>",
            escape_html(&cmd),
            escape_html(what)
        ));
    }
    html.push_str("</ul>");
    both(plain.trim_end().to_string(), html)
}

/// `!sources`.
pub fn sources(sources: &[SourceInfo]) -> Formatted {
    if sources.is_empty() {
        return text("No knowledge files are loaded.");
    }
    let mut plain = format!("{} knowledge files:\n", sources.len());
    let mut html = format!("<p>{} knowledge files:</p><ul>", sources.len());
    for s in sources {
        let date = s.published.as_deref().unwrap_or("undated");
        plain.push_str(&format!(
            "- {} ({}, {date}) — {} [{} passages]\n",
            s.title, s.file, s.source, s.snippets
        ));
        html.push_str(&format!(
            "<li><b>{}</b> (<code>{}</code>, {}) — {} [{} passages]</li>",
            escape_html(&s.title),
            escape_html(&s.file),
            escape_html(date),
            escape_html(&s.source),
            s.snippets
        ));
    }
    html.push_str("</ul>");
    both(plain.trim_end().to_string(), html)
}

/// How the search core understood and scored a question (`!why`, `citebot ask
/// --why`): the question's concepts and weights, the confidence and its figures,
/// and each candidate's scores.
pub fn explanation(e: &Explanation) -> String {
    let mut f = String::new();
    write_explanation(&mut f, e).expect("writing to a String");
    f
}

/// The confidence, its figures and the verdict, as `!why` shows them.
fn confidence_line(e: &Explanation) -> String {
    let c = &e.confidence;
    let mut meaning = c.meaning.map_or(String::new(), |m| {
        format!(
            ", meaning {:.2} (closest sentence {:.2})",
            m.whole, m.closest
        )
    });
    if c.numberless {
        meaning.push_str("; asks how many, and the best passage states no number");
    }
    format!(
        "Confidence {:.2} (coverage {:.2}, known {:.2}, typo-corrected {:.2}, sentence {:.2}, {} concepts{}), bar {:.2} → {}",
        c.value,
        c.coverage,
        c.known,
        c.fuzzy,
        c.sentence,
        c.units,
        meaning,
        e.bar,
        if e.answered { "answered" } else { "refused" }
    )
}

fn write_explanation(f: &mut String, e: &Explanation) -> std::fmt::Result {
    let q = &e.question;
    if let Some(cut) = &e.cut {
        writeln!(f, "Read only the first {}.", read_of(cut))?;
    }
    writeln!(f, "Question type: {:?}, tense: {:?}", q.kind, q.tense)?;
    if q.units.is_empty() {
        writeln!(f, "No searchable words: the question is only stop words.")?;
    }
    for u in &q.units {
        let variants: Vec<String> = u
            .variants
            .iter()
            .map(|v| {
                format!("{} ({:?}, df {})", v.terms.join(" "), v.kind, v.doc_freq).to_lowercase()
            })
            .collect();
        writeln!(
            f,
            "- “{}” weight {:.2}{}{}{}: {}",
            u.text,
            u.weight,
            if u.context > 0 {
                ", from an earlier question"
            } else {
                ""
            },
            if u.name { ", name" } else { "" },
            if u.known {
                ""
            } else {
                ", not in the knowledge"
            },
            if variants.is_empty() {
                "—".to_string()
            } else {
                variants.join(", ")
            }
        )?;
    }
    writeln!(f, "{}", confidence_line(e))?;
    for (i, p) in e.passages.iter().enumerate() {
        writeln!(
            f,
            "{}. {} — coverage {:.2}, bm25 {:.2}, score {:.2}; matched: {}",
            i + 1,
            topic(&p.title, &p.heading),
            p.coverage,
            p.bm25,
            p.score,
            if p.matched.is_empty() {
                "—".to_string()
            } else {
                p.matched.join(", ")
            }
        )?;
        if let Some((text, score)) = &p.sentence {
            writeln!(f, "   best sentence ({score:.2}): {text}")?;
        }
    }
    Ok(())
}

/// `!why`: the search core's explanation, shown preformatted.
pub fn why(e: &Explanation) -> Formatted {
    // The question as read: a long one was cut.
    let (question, explanation) = (&e.question.text, explanation(e));
    both(
        format!("Why, for “{question}”:\n{explanation}"),
        format!(
            "<p>Why, for “{}”:</p><pre>{}</pre>",
            escape_html(question),
            escape_html(&explanation)
        ),
    )
}

/// Counters shown by `!stats`.
#[derive(Debug, Clone, Default)]
pub struct BotCounters {
    /// Questions answered since start.
    pub answered: u64,
    /// Questions refused ("I don't know") since start.
    pub refused: u64,
    /// Replies that failed and got an apology.
    pub failed: u64,
}

/// `!stats`.
pub fn stats(counters: &BotCounters, index: &IndexStats, uptime: Duration) -> Formatted {
    let lines = [
        format!("Questions answered: {}", counters.answered),
        format!("Questions refused: {}", counters.refused),
        format!("Failures: {}", counters.failed),
        format!(
            "Index: {} passages from {} files{}",
            index.snippets,
            index.files,
            index
                .size_bytes
                .map(|b| format!(", {}", human_bytes(b)))
                .unwrap_or_default()
        ),
        format!(
            "Index built: {}",
            if index.built_at.is_empty() {
                "-"
            } else {
                &index.built_at
            }
        ),
        format!("Uptime: {}", human_duration(uptime)),
    ];
    let plain = lines.join("\n");
    let html = format!(
        "<ul>{}</ul>",
        lines
            .iter()
            .map(|l| format!("<li>{}</li>", escape_html(l)))
            .collect::<String>()
    );
    both(plain, html)
}

/// The bot's encryption trust, as `!status` and `citebot status` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    /// The device is signed by the account's own cross-signing identity.
    pub cross_signed: bool,
    /// Room keys are backed up to the server.
    pub backup_enabled: bool,
    /// Secret storage / recovery: `enabled`, `disabled`, `incomplete`, `unknown`.
    pub recovery: &'static str,
}

/// What `!status` and `citebot status` show.
#[derive(Debug, Clone)]
pub struct Status {
    /// The bot's Matrix device.
    pub device_id: String,
    /// Cross-signing, key backup and recovery; `None` when the crypto store could
    /// not be read (the reason is logged).
    pub crypto: Option<Encryption>,
    /// The index in use.
    pub index: IndexStats,
    /// How long ago the index was last written, when known.
    pub index_age: Option<Duration>,
    /// How the knowledge folder is followed ("watching for changes", or why
    /// not); `None` outside a running bot (`citebot status`).
    pub watching: Option<String>,
    /// When the index was last brought up to date with the files (RFC 3339), and
    /// what that changed; `None`: not since start.
    pub last_reload: Option<(String, String)>,
    /// Problems in the knowledge files (`file:line: problem`): those files are
    /// served in their last good version.
    pub problems: Vec<String>,
    /// Why the last reload failed as a whole, if it did.
    pub reload_failure: Option<String>,
    /// Each git source's last pull: (collection, what happened).
    pub pulls: Vec<(String, String)>,
    /// `None` outside a running bot.
    pub uptime: Option<Duration>,
    /// With a semantic model: how many of the passages it has embedded, of all
    /// (a question asked before its passages are embedded waits for them).
    pub semantic: Option<(usize, usize)>,
}

/// A git source's pull that worked, for `!status`.
pub fn pulled(at: &str, how: &str, commit: &str) -> String {
    format!(
        "pulled {at}, {how} at {}",
        commit.get(..12).unwrap_or(commit)
    )
}

/// A git source's pull that failed, for `!status`.
pub fn pull_failed(at: &str, err: &str) -> String {
    format!("pull failed {at}: {err}; the last good checkout is served")
}

/// `!status` and `citebot status`.
pub fn status(s: &Status) -> Formatted {
    let mut lines = vec![format!("Device: {}", s.device_id)];
    match &s.crypto {
        Some(c) => {
            lines.push(format!(
                "Cross-signed by its own identity: {}",
                yes_no(c.cross_signed)
            ));
            lines.push(format!(
                "Key backup: {}",
                if c.backup_enabled { "on" } else { "off" }
            ));
            lines.push(format!("Recovery: {}", c.recovery));
        }
        None => lines.push("Encryption: status unavailable (see the bot's log)".to_string()),
    }
    lines.push(format!(
        "Index: {} passages from {} files{}",
        s.index.snippets,
        s.index.files,
        s.index
            .size_bytes
            .map(|b| format!(", {}", human_bytes(b)))
            .unwrap_or_default()
    ));
    lines.push(format!(
        "Index updated: {}{}",
        if s.index.built_at.is_empty() {
            "-"
        } else {
            &s.index.built_at
        },
        match s.index_age {
            Some(age) => format!(" ({} ago)", human_duration(age)),
            None => String::new(),
        }
    ));
    lines.push(match s.semantic {
        Some((embedded, of)) => {
            format!("Semantic ranking: on, {embedded} of {of} passages embedded")
        }
        None => "Semantic ranking: off (words alone)".to_string(),
    });
    if let Some(watching) = &s.watching {
        lines.push(format!("Knowledge folder: {watching}"));
        lines.push(match &s.last_reload {
            Some((at, what)) => format!("Last reload: {at} ({what})"),
            None => "Last reload: none since start".to_string(),
        });
    }
    lines.push(format!(
        "Last reload error: {}",
        s.reload_failure.as_deref().unwrap_or("none")
    ));
    for (collection, pull) in &s.pulls {
        lines.push(format!("Source {collection}: {pull}"));
    }
    if s.problems.is_empty() {
        lines.push("Problems in knowledge files: none".to_string());
    } else {
        lines.push(format!(
            "Problems in knowledge files ({}; their last good version is served):",
            s.problems.len()
        ));
        lines.extend(s.problems.iter().map(|p| format!("  {p}")));
    }
    if let Some(uptime) = s.uptime {
        lines.push(format!("Uptime: {}", human_duration(uptime)));
    }
    let plain = lines.join("\n");
    let html = format!(
        "<ul>{}</ul>",
        lines
            .iter()
            .map(|l| format!("<li>{}</li>", escape_html(l.trim_start())))
            .collect::<String>()
    );
    both(plain, html)
}

/// Posted to the admin room when a reload finds problems in knowledge files.
pub fn knowledge_problems(problems: &[String]) -> Formatted {
    let head = format!(
        "Problems in the knowledge files ({}); the last good version of each is still served:",
        problems.len()
    );
    both(
        format!("{head}\n{}", problems.join("\n")),
        format!(
            "<p>{}</p><ul>{}</ul>",
            escape_html(&head),
            problems
                .iter()
                .map(|p| format!("<li><code>{}</code></li>", escape_html(p)))
                .collect::<String>()
        ),
    )
}

/// Posted to the admin room when the problems it was told about are fixed.
pub fn knowledge_fixed() -> Formatted {
    text("The knowledge files load without problems again.")
}

/// Posted to the admin room when updating the index failed as a whole.
pub fn reload_error(error: Option<&str>) -> Formatted {
    text(format!(
        "Updating the index from the knowledge files failed; the previous index is still in use: {}",
        error.unwrap_or("the error is in the bot's log")
    ))
}

/// `!gaps` and `citebot gaps`: the questions most often refused or voted down.
pub fn gaps(list: &[Gap], days: u32) -> Formatted {
    if list.is_empty() {
        return text(format!(
            "No refused or down-voted questions in the last {days} days."
        ));
    }
    let head = format!("Questions most often refused or voted 👎 in the last {days} days:");
    let row = |g: &Gap| {
        let mut why = Vec::new();
        if g.refused > 0 {
            why.push(format!("refused {}", g.refused));
        }
        if g.down > 0 {
            why.push(format!("👎 {}", g.down));
        }
        if g.up > 0 {
            why.push(format!("👍 {}", g.up));
        }
        (g.count(), why.join(", "), g.question.clone())
    };
    let mut plain = head.clone();
    let mut html = format!("<p>{}</p><ol>", escape_html(&head));
    for g in list {
        let (n, why, q) = row(g);
        plain.push_str(&format!("\n{n:>4}  {q}  ({why})"));
        html.push_str(&format!(
            "<li><b>{n}</b> — {} <i>({})</i></li>",
            escape_html(&q),
            escape_html(&why)
        ));
    }
    html.push_str("</ol>");
    both(plain, html)
}

/// `!gaps` when feedback isn't recorded.
pub fn feedback_off() -> Formatted {
    text("Feedback isn't recorded here (feedback.record = false), so there are no gaps to list.")
}

/// `!gaps` when the feedback file can't be read.
pub fn gaps_failed() -> Formatted {
    text("Sorry, the feedback file couldn't be read. The error is in the bot's log.")
}

/// Said under a reply to a question longer than `search.max_question_words`
/// (or `max_question_bytes`).
pub fn question_cut(cut: &crate::search::QuestionCut) -> String {
    format!(
        "Your question was long: I read only its first {}.",
        read_of(cut)
    )
}

/// How much of a cut question was read: "12 of 300 words", or in characters
/// when the cut fell inside a word ("800 of 2,400 characters" of a question
/// written without spaces, which is one word to a count of words).
fn read_of(cut: &crate::search::QuestionCut) -> String {
    if cut.split_word {
        format!("{} of {} characters", cut.chars_read, cut.chars_asked)
    } else {
        format!("{} of {} words", cut.words_read, cut.words_asked)
    }
}

/// What a reload changed, for `!status` ("added a.md; synonyms re-read").
pub fn reload_summary(
    added: &[String],
    updated: &[String],
    removed: &[String],
    synonyms: bool,
) -> String {
    let mut what = Vec::new();
    for (label, files) in [("added", added), ("updated", updated), ("removed", removed)] {
        if !files.is_empty() {
            what.push(format!("{label} {}", files.join(", ")));
        }
    }
    if synonyms {
        what.push("synonyms re-read".into());
    }
    if what.is_empty() {
        "no changes".to_string()
    } else {
        what.join("; ")
    }
}

/// How the knowledge folder is followed (`!status`): not at all.
pub const NOT_WATCHED: &str = "not watched (search.watch = false); use !reload";
/// How the knowledge folder is followed: by a file watcher.
pub const WATCHING: &str = "watching for changes";

/// How the knowledge folder is followed: re-read `every` so often, and `why`.
pub fn polling(every: Duration, why: &str) -> String {
    format!("re-read every {} s ({why})", every.as_secs())
}

/// The reason given when the bot deletes its reply to a deleted question.
pub const QUESTION_DELETED: &str = "the question was deleted";

/// Ends a reply cut to fit in one Matrix event.
pub const SHORTENED: &str = "… (shortened: the whole reply is too long for one Matrix message)";

/// `message`, shortened (and saying so) when it would not fit in one Matrix event.
pub fn fitted(message: Formatted) -> Formatted {
    message.fit(MAX_REPLY_BYTES, SHORTENED)
}

/// Where details the room isn't shown can be found.
pub const SEE_LOG: &str = "see the bot's log";

/// Posted to the admin room after the index's files were found damaged or gone.
pub fn index_repaired(files: usize, snippets: usize) -> Formatted {
    text(format!(
        "The index's files were damaged or missing; rebuilt it from the knowledge files ({snippets} passages from {files} files)."
    ))
}

/// `!reload` done: what the room's collections hold now, and their problems;
/// how long it took (`millis`) only where the room sees all collections, since
/// the rebuild reads all of them and its time tells how much others hold.
pub fn reload_done(
    snippets: usize,
    files: usize,
    millis: Option<u128>,
    problems: &[String],
) -> Formatted {
    let took = millis.map(|ms| format!(" in {ms} ms")).unwrap_or_default();
    let mut plain = format!("Index rebuilt: indexed {snippets} snippets from {files} files{took}");
    let mut html = format!("<p>{}</p>", escape_html(&plain));
    if !problems.is_empty() {
        let head = format!(
            "{} with problems (their last good versions are served):",
            problems.len()
        );
        plain.push_str(&format!("; {head}"));
        html.push_str(&format!("<p>{}</p><ul>", escape_html(&head)));
        for p in problems {
            plain.push_str(&format!("\n- {p}"));
            html.push_str(&format!("<li>{}</li>", escape_html(p)));
        }
        html.push_str("</ul>");
    }
    both(plain, html)
}

/// `!reload` failed.
pub fn reload_failed() -> Formatted {
    text(
        "Rebuilding the index failed; the previous index is still in use. The error is in the bot's log.",
    )
}

/// `!reload` by someone not in `access.admins`.
pub fn admin_only(prefix: &str, command: &str) -> Formatted {
    text(format!("Sorry, {prefix}{command} is for admins only."))
}

/// `!ask` / `!why` without a question.
pub fn missing_question(prefix: &str, command: &str) -> Formatted {
    text(format!(
        "Please add a question, e.g. {prefix}{command} When is the emperor visiting Mongolia?"
    ))
}

/// Mentioned but nothing to answer.
pub fn empty_question(prefix: &str) -> Formatted {
    text(format!("Yes? Ask me a question, or try {prefix}help."))
}

/// An unknown command (only answered where the bot was clearly addressed).
pub fn unknown_command(prefix: &str, command: &str) -> Formatted {
    text(format!(
        "I don't know the command {prefix}{command}. Try {prefix}help."
    ))
}

/// Over the rate limit; sent once per window, then the bot stays quiet.
pub fn slow_down(wait: Duration) -> Formatted {
    let secs = wait.as_secs().max(1);
    text(format!(
        "Slow down, please: too many questions at once. I'll ignore further ones for about {secs} s."
    ))
}

/// A reply the homeserver did not take at first, sent once it did: a short
/// apology above it.
pub fn late(reply: &Formatted) -> Formatted {
    const SORRY: &str = "Sorry for the delay: the homeserver did not take this reply at first.";
    both(
        format!("{SORRY}\n\n{}", reply.plain),
        format!("<p><em>{SORRY}</em></p>{}", reply.html),
    )
}

/// Sent in place of a reply the homeserver keeps refusing.
pub fn undeliverable(reason: &str) -> Formatted {
    text(format!(
        "Sorry: I couldn't deliver my reply to this question, the homeserver refused it ({reason}). Please ask again later, or tell the bot's admin."
    ))
}

/// The search failed.
pub fn search_failed() -> Formatted {
    text("Sorry, something went wrong while searching. Please try again in a moment.")
}

/// Posted (once, as a reply) when a message could not be decrypted and its
/// key never arrived.
pub fn undecryptable_notice(sender: &str) -> String {
    format!(
        "{sender}: I couldn't read your encrypted message — its decryption key never reached me. \
         Please send it again. If this keeps happening, your client may be withholding keys from \
         my device: verify me (an admin can), or allow sending to unverified devices in your \
         client's security settings."
    )
}

/// Printed once, on the first start that sets up recovery.
pub fn recovery_key_created(key: &str, path: &std::path::Path) -> String {
    format!(
        "\n=== citebot recovery key ===\n{key}\n============================\n\
         This key restores the bot's cross-signing identity and its key backup. It is \
         shown only now and saved (owner-only) in {}.\n\
         Store it somewhere safe, outside the data dir. If the bot is redeployed with an \
         empty data dir, give it the key (matrix.recovery_key, env CITEBOT_RECOVERY_KEY or \
         `citebot run --recovery-key-file FILE`) and it comes back as the same verified bot instead \
         of a new, unverified one.\n",
        path.display()
    )
}

/// Logged when the account already has a cross-signing identity but this
/// (new) device has no recovery key to join it.
pub fn recovery_key_needed() -> &'static str {
    "this account already has a cross-signing identity, but no recovery key was given: \
     the bot runs as an unverified device. Give it the recovery key printed by its first \
     run (matrix.recovery_key, env CITEBOT_RECOVERY_KEY or --recovery-key) and restart."
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (days, h, m, s) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    if days > 0 {
        format!("{days}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a reply of one kind holding so many items.
    type Build<'a> = Box<dyn Fn(usize) -> Formatted + 'a>;

    /// Replies as the bot builds them, none yet fitted, of each kind (an
    /// answer, `!sources`, `!gaps`, text JSON-escaped to six times its size, a
    /// late reply): the longest that `fits` whole, the shortest that doesn't,
    /// and one far too long.
    pub(crate) fn longest_replies(fits: impl Fn(&Formatted) -> bool) -> Vec<(String, Formatted)> {
        let source = SourceInfo {
            file: "guides/\"quoted\" & <tagged>.md".into(),
            title: "Setting up the <VPN> \"client\" — étape 2".into(),
            source: "IT & Security".into(),
            published: Some("2025-03-05".into()),
            snippets: 12,
        };
        let gap = Gap {
            question: "Where is the \"<b>\" printer? 👀".into(),
            refused: 3,
            down: 2,
            up: 1,
            last_asked: "2025-03-05T10:00:00Z".into(),
        };
        let answer = crate::render::tests::long_answer;
        // Each kind with the most items it is tried with: far too many.
        let kinds: [(&str, Build, usize); 5] = [
            (
                "!sources",
                Box::new(|n| sources(&vec![source.clone(); n])),
                3_000,
            ),
            (
                "!gaps",
                Box::new(|n| gaps(&vec![gap.clone(); n], 30)),
                3_000,
            ),
            ("answer", Box::new(answer), 1_000),
            ("late answer", Box::new(|n| late(&answer(n))), 1_000),
            ("controls", Box::new(|n| text("\u{1}\n".repeat(n))), 100_000),
        ];
        let mut out = Vec::new();
        for (name, build, most) in kinds {
            assert!(!fits(&build(most)), "{name}: {most} items fit");
            // Found by bisection: `whole` items fit, `cut` don't.
            let (mut whole, mut cut) = (1, most);
            while cut - whole > 1 {
                let mid = (whole + cut) / 2;
                if fits(&build(mid)) {
                    whole = mid;
                } else {
                    cut = mid;
                }
            }
            for n in [whole, cut, most] {
                out.push((format!("{name} ×{n}"), build(n)));
            }
        }
        out
    }

    #[test]
    fn durations_and_sizes_read_naturally() {
        for (secs, want) in [
            (5, "5s"),
            (65, "1m 5s"),
            (3725, "1h 2m 5s"),
            (90061, "1d 1h 1m"),
        ] {
            assert_eq!(human_duration(Duration::from_secs(secs)), want);
        }
        for (b, want) in [(10, "10 B"), (2048, "2.0 KiB"), (3 << 20, "3.0 MiB")] {
            assert_eq!(human_bytes(b), want);
        }
    }

    /// Tags and attributes the Matrix spec allows in `formatted_body`
    /// (client-server API, "m.room.message msgtypes": HTML).
    fn allowed(tag: &str, attr: Option<(&str, &str)>) -> bool {
        const TAGS: &[&str] = &[
            "del",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "p",
            "a",
            "ul",
            "ol",
            "sup",
            "sub",
            "li",
            "b",
            "i",
            "u",
            "strong",
            "em",
            "s",
            "code",
            "hr",
            "br",
            "div",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "caption",
            "pre",
            "span",
            "img",
            "details",
            "summary",
            "font",
        ];
        match attr {
            None => TAGS.contains(&tag),
            Some((name, value)) => match (tag, name) {
                ("a", "href") => ["https://", "http://", "ftp://", "mailto:", "magnet:"]
                    .iter()
                    .any(|s| value.starts_with(s)),
                ("a", "name" | "target") => true,
                ("ol", "start") => true,
                ("code", "class") => value.starts_with("language-"),
                ("font" | "span", "data-mx-bg-color" | "data-mx-color" | "color") => true,
                ("span", "data-mx-spoiler" | "data-mx-maths") => true,
                ("div", "data-mx-maths") => true,
                ("img", "width" | "height" | "alt" | "title" | "src") => true,
                _ => false,
            },
        }
    }

    /// The words of `text`, for comparing the two bodies (list numbers, which
    /// HTML lists carry implicitly, left out).
    fn words(text: &str) -> std::collections::BTreeSet<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !(w.is_empty() || w.len() <= 2 && w.chars().all(|c| c.is_ascii_digit())))
            .map(str::to_lowercase)
            .collect()
    }

    /// That `f`'s HTML uses only what the spec allows and that its plain body
    /// says the same words.
    fn assert_spec_clean(name: &str, f: &Formatted) {
        let doc = scraper::Html::parse_fragment(&f.html);
        let mut links = String::new();
        for node in doc.root_element().descendants() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            let tag = el.name();
            if tag == "html" {
                continue;
            }
            assert!(
                allowed(tag, None),
                "{name}: <{tag}> is not allowed: {}",
                f.html
            );
            for (attr, value) in el.attrs() {
                assert!(
                    allowed(tag, Some((attr, value))),
                    "{name}: <{tag} {attr}={value:?}> is not allowed: {}",
                    f.html
                );
                links.push(' ');
                links.push_str(value);
            }
        }
        // Text nodes apart: block elements separate words.
        let text = doc.root_element().text().collect::<Vec<_>>().join(" ");
        let (html_words, plain_words) = (words(&text), words(&f.plain));
        let links = words(&links);
        let only_html: Vec<&String> = html_words.difference(&plain_words).collect();
        let only_plain: Vec<&String> = plain_words
            .difference(&html_words)
            .filter(|w| !links.contains(*w))
            .collect();
        assert!(
            only_html.is_empty() && only_plain.is_empty(),
            "{name}: the bodies differ: only in HTML {only_html:?}, only in plain {only_plain:?}\n{}\n{}",
            f.plain,
            f.html
        );
    }

    #[test]
    fn every_reply_kind_is_spec_clean_html_saying_what_the_plain_body_says() {
        use crate::search::{AskOptions, Engine, SearchSettings};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let engine = Engine::open(&SearchSettings::new(root.join("knowledge"), None)).unwrap();
        let mut replies: Vec<(String, Formatted)> = Vec::new();
        // Answers and refusals from the real knowledge base, user text included.
        for q in [
            "When is the emperor visiting Mongolia?",
            "Which airport is Japan paying to expand?",
            "What is the capital of France?",
            "<b>bold</b> & <script>alert(1)</script> Naadam?",
        ] {
            let a = engine.ask(q).unwrap();
            replies.push((format!("answer {q}"), crate::render::matrix(&a)));
            let explained = engine.explain(q).unwrap();
            replies.push((format!("!why {q}"), why(&explained)));
        }
        let mut cut = engine.ask(&"very long question ".repeat(200)).unwrap();
        cut.answered = false;
        replies.push(("cut question".into(), crate::render::matrix(&cut)));
        let scoped = AskOptions {
            collections: Some(vec!["nothing".into()]),
            ..AskOptions::default()
        };
        let none = engine.ask_with("emperor", &scoped).unwrap();
        replies.push(("refusal, nothing near".into(), crate::render::matrix(&none)));
        let sources_list: Vec<SourceInfo> = engine.sources();
        replies.push(("!sources".into(), sources(&sources_list)));
        replies.push(("!sources empty".into(), sources(&[])));
        let counters = BotCounters {
            answered: 3,
            refused: 1,
            failed: 0,
        };
        replies.push((
            "!stats".into(),
            stats(&counters, &engine.stats(), Duration::from_secs(70)),
        ));
        let mut s = Status {
            device_id: "DEV".into(),
            crypto: None,
            index: engine.stats(),
            index_age: Some(Duration::from_secs(65)),
            watching: Some("watching for changes".into()),
            last_reload: Some(("2026-01-01T00:00:00Z".into(), "added a.md".into())),
            problems: vec!["a.md:1: <bad> & worse".into()],
            reload_failure: Some("disk <full>".into()),
            pulls: vec![("docs".into(), "pulled <now>".into())],
            uptime: Some(Duration::from_secs(3)),
            semantic: None,
        };
        replies.push(("!status".into(), status(&s)));
        s.problems.clear();
        replies.push(("!status clean".into(), status(&s)));
        replies.push(("!help".into(), help("!", false, true)));
        replies.push(("!help admin".into(), help("!", true, false)));
        let gap = Gap {
            question: "<i>what</i> & why?".into(),
            refused: 2,
            down: 1,
            up: 1,
            last_asked: "2026-01-01T00:00:00Z".into(),
        };
        replies.push(("!gaps".into(), gaps(&[gap], 30)));
        replies.push(("!gaps none".into(), gaps(&[], 30)));
        replies.push((
            "knowledge problems".into(),
            knowledge_problems(&["a.md:1: <x>".into()]),
        ));
        replies.push(("knowledge fixed".into(), knowledge_fixed()));
        replies.push(("reload error".into(), reload_error(Some("<io> error"))));
        replies.push(("reload error hidden".into(), reload_error(None)));
        replies.push((
            "!reload".into(),
            reload_done(5, 2, Some(30), &["b.md:2: <y>".into()]),
        ));
        replies.push(("!reload failed".into(), reload_failed()));
        replies.push(("admin only".into(), admin_only("!", "reload")));
        replies.push(("missing question".into(), missing_question("!", "ask")));
        replies.push(("empty".into(), empty_question("!")));
        replies.push(("unknown".into(), unknown_command("!", "<frob>")));
        replies.push(("slow down".into(), slow_down(Duration::from_secs(20))));
        replies.push(("search failed".into(), search_failed()));
        replies.push(("feedback off".into(), feedback_off()));
        replies.push(("gaps failed".into(), gaps_failed()));
        let long = Formatted {
            plain: "word <&> ".repeat(20_000),
            html: format!("<p>{}</p>", escape_html(&"word <&> ".repeat(20_000))),
        };
        replies.push(("shortened".into(), fitted(long)));
        for (name, f) in &replies {
            assert_spec_clean(name, f);
        }
    }

    #[test]
    fn user_and_file_text_is_escaped() {
        use crate::search::question::{Kind, Question, Tense, Unit};
        let f = why(&Explanation {
            question: Question {
                text: "<b>x</b>".into(),
                kind: Kind::Other,
                english: true,
                foreign: false,
                tense: Tense::Neutral,
                units: vec![Unit {
                    text: "<script>".into(),
                    variants: Vec::new(),
                    prefix: None,
                    name: false,
                    known: false,
                    weight: 1.0,
                    context: 0,
                }],
            },
            bar: 0.65,
            confidence: Default::default(),
            answered: false,
            passages: Vec::new(),
            cut: None,
        });
        assert!(!f.html.contains("<b>x") && !f.html.contains("<script>"));
        let s = sources(&[SourceInfo {
            file: "a.md".into(),
            title: "<i>T</i>".into(),
            source: "s&s".into(),
            published: None,
            snippets: 1,
        }]);
        assert!(s.html.contains("&lt;i&gt;T") && s.html.contains("s&amp;s"));
    }

    #[test]
    fn status_reports_trust_backup_and_index_age() {
        let s = Status {
            device_id: "DEV".into(),
            crypto: Some(Encryption {
                cross_signed: true,
                backup_enabled: false,
                recovery: "enabled",
            }),
            index: IndexStats {
                snippets: 3,
                files: 2,
                size_bytes: None,
                built_at: "2026-01-01T00:00:00Z".into(),
            },
            index_age: Some(Duration::from_secs(65)),
            watching: None,
            last_reload: None,
            problems: vec!["a.md:1: <bad>".into()],
            reload_failure: Some("disk <full>".into()),
            pulls: vec![],
            uptime: None,
            semantic: Some((3, 4)),
        };
        let out = status(&s);
        assert!(out.plain.contains("Device: DEV"));
        assert!(out.plain.contains("Cross-signed by its own identity: yes"));
        assert!(out.plain.contains("Key backup: off"));
        assert!(out.plain.contains("(1m 5s ago)"), "{}", out.plain);
        assert!(out.plain.contains("Last reload error: disk <full>"));
        assert!(!out.plain.contains("Uptime"));
        assert!(
            out.plain
                .contains("Semantic ranking: on, 3 of 4 passages embedded")
        );
        assert!(out.html.contains("&lt;bad&gt;") && out.html.contains("&lt;full&gt;"));
    }

    #[test]
    fn help_lists_reload_only_for_admins_and_follow_ups_when_on() {
        assert!(help("!", true, true).plain.contains("!reload"));
        assert!(help("!", true, true).plain.contains("!gaps"));
        assert!(!help("!", false, true).plain.contains("!reload"));
        assert!(!help("!", false, true).plain.contains("!gaps"));
        assert!(help("!", false, true).plain.contains("!status"));
        assert!(help("!", false, true).plain.contains("follow-up"));
        assert!(!help("!", false, false).plain.contains("follow-up"));
    }

    #[test]
    fn status_names_problems_or_says_none() {
        let mut s = Status {
            device_id: "DEV".into(),
            crypto: None,
            index_age: None,
            index: IndexStats {
                snippets: 5,
                files: 2,
                size_bytes: None,
                built_at: String::new(),
            },
            watching: Some("watching for changes".into()),
            last_reload: None,
            problems: Vec::new(),
            reload_failure: None,
            pulls: vec![],
            uptime: Some(Duration::from_secs(3)),
            semantic: None,
        };
        let out = status(&s).plain;
        assert!(out.contains("Device: DEV"), "{out}");
        assert!(out.contains("Problems in knowledge files: none"), "{out}");
        assert!(out.contains("Last reload: none since start"), "{out}");
        s.problems = vec!["knowledge/a.md:3: front matter: <oops>".into()];
        s.last_reload = Some((
            "2026-01-01T00:00:00Z".into(),
            "updated knowledge/a.md".into(),
        ));
        let out = status(&s);
        assert!(out.plain.contains("knowledge/a.md:3:"), "{}", out.plain);
        assert!(
            out.plain.contains("updated knowledge/a.md"),
            "{}",
            out.plain
        );
        assert!(out.html.contains("&lt;oops&gt;"), "{}", out.html);
    }

    #[test]
    fn gaps_list_counts_and_reasons() {
        let g = Gap {
            question: "What is <x>?".into(),
            refused: 2,
            down: 1,
            up: 0,
            last_asked: String::new(),
        };
        let out = gaps(std::slice::from_ref(&g), 30);
        assert!(
            out.plain.contains("   3  What is <x>?  (refused 2, 👎 1)"),
            "{}",
            out.plain
        );
        assert!(out.html.contains("&lt;x&gt;"));
        assert!(gaps(&[], 7).plain.contains("last 7 days"));
    }
}
