//! Every piece of text citebot says to people, in one place: the words around an
//! answer (used by `render`), and the bot's commands, apologies and notices.
//! Anything that came from a user or a file is HTML-escaped.

use crate::bot::crypto::CryptoStatus;
use crate::render::{Formatted, escape_html};
use crate::search::{IndexStats, SourceInfo};
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
pub fn help(prefix: &str, is_admin: bool) -> Formatted {
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
            "the bot's device, encryption trust, key backup and index age",
        ),
        (format!("{p}help"), "this help"),
    ];
    if is_admin {
        rows.push((
            format!("{p}reload"),
            "(admin) rebuild the index from the files now",
        ));
    }
    let intro = "I answer questions from a set of knowledge files and cite my sources. \
                 In a direct chat just ask; in a group mention me or use a command.";
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

/// `!why`: the search core's explanation, shown preformatted.
pub fn why(question: &str, explanation: &str) -> Formatted {
    both(
        format!("Why, for “{question}”:\n{explanation}"),
        format!(
            "<p>Why, for “{}”:</p><pre>{}</pre>",
            escape_html(question),
            escape_html(explanation)
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
            "Index: {} passages from {} files, {}",
            index.snippets,
            index.files,
            human_bytes(index.size_bytes)
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

/// `!reload` done.
pub fn reload_done(report: &str) -> Formatted {
    text(format!("Index rebuilt: {report}"))
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
         `citebot run --recovery-key`) and it comes back as the same verified bot instead \
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

/// `!status` could not read the crypto store.
pub fn status_failed() -> Formatted {
    text("Sorry, I couldn't read my status just now. The error is in the bot's log.")
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `!status` and `citebot status`: device trust and index freshness.
/// `index_age` is `None` when the build time is unknown.
pub fn status(
    crypto: &CryptoStatus,
    index: &IndexStats,
    index_age: Option<Duration>,
    last_error: Option<&str>,
) -> Formatted {
    let lines = [
        format!("Device: {}", crypto.device_id),
        format!(
            "Cross-signed by its own identity: {}",
            yes_no(crypto.cross_signed)
        ),
        format!(
            "Key backup: {}",
            if crypto.backup_enabled { "on" } else { "off" }
        ),
        format!("Recovery: {}", crypto.recovery),
        format!(
            "Index: {} passages from {} files, built {}",
            index.snippets,
            index.files,
            match index_age {
                Some(age) => format!("{} ago", human_duration(age)),
                None => "at an unknown time".to_string(),
            }
        ),
        format!("Last reload error: {}", last_error.unwrap_or("none")),
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
mod tests {
    use super::*;

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

    #[test]
    fn user_and_file_text_is_escaped() {
        let f = why("<b>x</b>", "<script>");
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
        let crypto = CryptoStatus {
            device_id: "DEV".into(),
            cross_signed: true,
            cross_signing_keys: true,
            backup_enabled: false,
            recovery: "enabled",
            master_key: None,
        };
        let index = IndexStats {
            snippets: 3,
            files: 2,
            size_bytes: 0,
            built_at: String::new(),
            location: String::new(),
        };
        let s = status(
            &crypto,
            &index,
            Some(Duration::from_secs(65)),
            Some("a.md: <bad>"),
        );
        assert!(s.plain.contains("Device: DEV"));
        assert!(s.plain.contains("Cross-signed by its own identity: yes"));
        assert!(s.plain.contains("Key backup: off"));
        assert!(s.plain.contains("built 1m 5s ago"));
        assert!(s.plain.contains("Last reload error: a.md: <bad>"));
        assert!(s.html.contains("&lt;bad&gt;"));
    }

    #[test]
    fn help_lists_reload_only_for_admins() {
        assert!(help("!", true).plain.contains("!reload"));
        assert!(!help("!", false).plain.contains("!reload"));
    }
}
