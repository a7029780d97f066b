//! When to answer: turns the text of a room message into a request for the
//! bot, or `None` when the message isn't addressed to it. Pure, so the
//! rules are tested as a table.

/// What a message asks the bot to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Answer a question.
    Ask(String),
    /// Explain how a question is matched.
    Why(String),
    /// List the knowledge files.
    Sources,
    /// Counters, index size, uptime.
    Stats,
    /// Usage.
    Help,
    /// Rebuild the index (admin).
    Reload,
    /// Device, encryption trust and index age.
    Status,
    /// A command that needs a question got none (`ask` / `why`).
    MissingQuestion(&'static str),
    /// Addressed to the bot but with nothing in it.
    Empty,
    /// An unknown command, addressed to the bot.
    Unknown(String),
}

/// Where and how a message arrived.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The command prefix (`!`).
    pub prefix: &'a str,
    /// The bot's user ID.
    pub user_id: &'a str,
    /// The bot's display name (matched as a word, case-insensitively).
    pub display_name: &'a str,
    /// A direct chat: every message is for the bot.
    pub is_dm: bool,
    /// The message's `m.mentions` names the bot.
    pub mentioned: bool,
    /// This room answers every message ending with `?`.
    pub answer_questions: bool,
}

/// Drops the quoted fallback (`> <@user> ...` lines) that replies carry.
fn strip_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    match body.find("\n\n") {
        Some(i) if body[..i].lines().all(|l| l.starts_with('>')) => &body[i + 2..],
        _ => body,
    }
}

/// Byte range of `needle` in `hay` as a whole word, ignoring ASCII case.
fn find_word(hay: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    let lower = hay.to_lowercase();
    let needle = needle.to_lowercase();
    // to_lowercase can change byte lengths for non-ASCII text; only trust
    // positions when it didn't.
    if lower.len() != hay.len() {
        return None;
    }
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before = lower[..start].chars().next_back();
        let after = lower[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if boundary(before) && boundary(after) {
            return Some((start, end));
        }
        from = end;
    }
    None
}

/// Removes the first mention of the bot (by user ID, else by display name)
/// and the punctuation people put after a name ("citebot: ...").
fn strip_mention(text: &str, ctx: &Context<'_>) -> (String, bool) {
    let found = text
        .find(ctx.user_id)
        .map(|s| (s, s + ctx.user_id.len()))
        .or_else(|| find_word(text, ctx.display_name));
    match found {
        Some((s, e)) => {
            let before = text[..s].trim_end().trim_end_matches('@').trim_end();
            let after = text[e..].trim_start_matches([':', ',', ' ', '\t', '\n']);
            let joined = if before.is_empty() {
                after.to_string()
            } else {
                format!("{before} {after}")
            };
            (joined.trim().to_string(), true)
        }
        None => (text.trim().to_string(), false),
    }
}

fn parse_command(rest: &str, addressed: bool) -> Option<Request> {
    let (name, arg) = match rest.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (rest, ""),
    };
    let question = |kind: &'static str, wrap: fn(String) -> Request| {
        if arg.is_empty() {
            Request::MissingQuestion(kind)
        } else {
            wrap(arg.to_string())
        }
    };
    Some(match name.to_lowercase().as_str() {
        "ask" => question("ask", Request::Ask),
        "why" => question("why", Request::Why),
        "sources" => Request::Sources,
        "stats" => Request::Stats,
        "help" => Request::Help,
        "reload" => Request::Reload,
        "status" => Request::Status,
        // Other bots share prefixes like `!`: an unknown command is only
        // answered where the message was clearly meant for us.
        _ if addressed => Request::Unknown(name.to_string()),
        _ => return None,
    })
}

/// Decides whether `body` is for the bot and what it asks.
pub fn classify(body: &str, ctx: &Context<'_>) -> Option<Request> {
    let body = strip_reply_fallback(body).trim();
    if let Some(rest) = body.strip_prefix(ctx.prefix) {
        return parse_command(rest.trim_start(), ctx.is_dm || ctx.mentioned);
    }
    let (text, named) = strip_mention(body, ctx);
    if ctx.mentioned || named {
        if let Some(rest) = text.strip_prefix(ctx.prefix) {
            return parse_command(rest.trim_start(), true);
        }
        return Some(if text.is_empty() {
            Request::Empty
        } else {
            Request::Ask(text)
        });
    }
    if ctx.is_dm {
        return (!text.is_empty()).then_some(Request::Ask(text));
    }
    if ctx.answer_questions && text.ends_with('?') {
        return Some(Request::Ask(text));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(is_dm: bool, mentioned: bool, answer_questions: bool) -> Context<'static> {
        Context {
            prefix: "!",
            user_id: "@citebot:localhost",
            display_name: "citebot",
            is_dm,
            mentioned,
            answer_questions,
        }
    }

    fn ask(s: &str) -> Option<Request> {
        Some(Request::Ask(s.into()))
    }

    #[test]
    fn classification_table() {
        let group = ctx(false, false, false);
        let dm = ctx(true, false, false);
        let pinged = ctx(false, true, false);
        let qroom = ctx(false, false, true);
        let cases: Vec<(&str, Context, Option<Request>)> = vec![
            ("When is the visit?", dm, ask("When is the visit?")),
            ("hello there", dm, ask("hello there")),
            ("   ", dm, None),
            ("When is the visit?", group, None),
            ("lunch anyone", group, None),
            (
                "citebot: when is the visit?",
                group,
                ask("when is the visit?"),
            ),
            ("Citebot, when?", group, ask("when?")),
            ("hey @citebot:localhost when?", group, ask("hey when?")),
            ("citebots are cool", group, None),
            ("recitebot", group, None),
            ("when is the visit", pinged, ask("when is the visit")),
            ("citebot", group, Some(Request::Empty)),
            ("!ask When is the visit?", group, ask("When is the visit?")),
            ("!ASK   spaced  ", group, ask("spaced")),
            ("!ask", group, Some(Request::MissingQuestion("ask"))),
            (
                "!why capital of France",
                group,
                Some(Request::Why("capital of France".into())),
            ),
            ("!sources", group, Some(Request::Sources)),
            ("!stats", group, Some(Request::Stats)),
            ("!help", group, Some(Request::Help)),
            ("!reload", group, Some(Request::Reload)),
            ("!status", group, Some(Request::Status)),
            ("!weather", group, None),
            ("!weather", dm, Some(Request::Unknown("weather".into()))),
            ("citebot: !sources", group, Some(Request::Sources)),
            ("Is it July?", qroom, ask("Is it July?")),
            ("It is July.", qroom, None),
            (
                "> <@a:x> earlier\n\ncitebot: and now?",
                group,
                ask("and now?"),
            ),
        ];
        for (body, c, want) in cases {
            assert_eq!(
                classify(body, &c),
                want,
                "{body:?} dm={} mentioned={}",
                c.is_dm,
                c.mentioned
            );
        }
    }
}
