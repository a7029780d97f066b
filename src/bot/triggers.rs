//! When to answer: turns the text of a room message into a request for the
//! bot, or `None` when the message isn't addressed to it. Pure, so the
//! rules are tested as a table.

use crate::search::analyzer::{self, Script};

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
    /// Index, reload and knowledge-file problems.
    Status,
    /// Most often refused or voted-down questions (admin).
    Gaps,
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
    /// The message is in the thread of one of the bot's answers, said to it
    /// (follow-ups on): one ending with `?` is a follow-up question.
    pub in_answer_thread: bool,
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

/// Byte range of `needle` in `hay` as a whole word, ignoring case.
///
/// Lowercasing can change a character's length (`İ` grows by a byte, the
/// Kelvin sign `K` shrinks by two), so a match in the lowered text is mapped
/// back through the start of the original character each lowered byte came
/// from: slicing `hay` with positions of the lowered text would split a
/// character, and a panic there would stop the bot on one chat message.
fn find_word(hay: &str, needle: &str) -> Option<(usize, usize)> {
    let needle = needle.to_lowercase();
    if needle.is_empty() {
        return None;
    }
    let mut lower = String::with_capacity(hay.len());
    let mut origin = Vec::with_capacity(hay.len() + 1);
    for (i, c) in hay.char_indices() {
        for l in c.to_lowercase() {
            origin.extend(std::iter::repeat_n(i, l.len_utf8()));
            lower.push(l);
        }
    }
    origin.push(hay.len());
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        from = end;
        // Only whole characters of `hay`: not half of what one lowered into.
        let whole = (start == 0 || origin[start - 1] != origin[start])
            && (end == lower.len() || origin[end - 1] != origin[end]);
        let (start, end) = (origin[start], origin[end]);
        if whole
            && name_boundary(
                &hay[start..end],
                hay[..start].chars().next_back(),
                &hay[end..],
            )
        {
            return Some((start, end));
        }
    }
    None
}

/// Whether a name found between `before` and `after` stands alone, as when
/// someone addresses the bot ("citebot: …", "hey @citebot, …"), rather than
/// being part of a longer word, path, URL or user ID ("citebot-v2",
/// "github.com/org/citebot/issues", "@citebot:example.org.evil").
fn name_boundary(name: &str, before: Option<char>, after: &str) -> bool {
    // A letter of a script written without spaces joins the name only when
    // the name's own edge is of that script: "citebotに質問" addresses
    // citebot, "ロボットが" does not address a bot named "ボット".
    let joins_at = |edge: Option<char>| {
        let edge = edge.map_or(Script::Spaced, Script::of);
        move |c: char| {
            let letter = analyzer::in_word(c) && Script::of(c) == edge;
            let spaced = c.is_alphanumeric() && Script::of(c) == Script::Spaced;
            letter || spaced || matches!(c, '_' | '-' | '/' | '.' | ':' | '=')
        }
    };
    if before.is_some_and(joins_at(name.chars().next())) {
        return false;
    }
    let joins = joins_at(name.chars().next_back());
    let mut rest = after.chars();
    match rest.next() {
        None => true,
        // Sentence punctuation after the name, unless a word goes on from it.
        Some('.' | ':' | '-') => rest.next().is_none_or(|c| !joins(c)),
        Some(c) => !joins(c),
    }
}

/// Removes the first mention of the bot (by user ID, else by display name)
/// and the punctuation people put after a name ("citebot: ...").
fn strip_mention(text: &str, ctx: &Context<'_>) -> (String, bool) {
    let found = find_id(text, ctx.user_id).or_else(|| find_word(text, ctx.display_name));
    let parts = found.and_then(|(s, e)| Some((text.get(..s)?, text.get(e..)?)));
    match parts {
        Some((before, after)) => {
            let before = before.trim_end().trim_end_matches('@').trim_end();
            let after = after.trim_start_matches([':', ',', ' ', '\t', '\n']);
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

/// Byte range of the user ID `id` in `text`, where it is the whole ID and not
/// the start of another on a longer server name.
fn find_id(text: &str, id: &str) -> Option<(usize, usize)> {
    if id.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(pos) = text[from..].find(id) {
        let (start, end) = (from + pos, from + pos + id.len());
        from = end;
        if name_boundary(id, text[..start].chars().next_back(), &text[end..]) {
            return Some((start, end));
        }
    }
    None
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
        "gaps" => Request::Gaps,
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
    if (ctx.answer_questions || ctx.in_answer_thread) && text.ends_with('?') {
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
            in_answer_thread: false,
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
        let follow_up = Context {
            in_answer_thread: true,
            ..group
        };
        let mut cases: Vec<(&str, Context, Option<Request>)> = vec![
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
            ("!gaps", dm, Some(Request::Gaps)),
            ("!weather", group, None),
            ("!weather", dm, Some(Request::Unknown("weather".into()))),
            ("citebot: !sources", group, Some(Request::Sources)),
            ("Is it July?", qroom, ask("Is it July?")),
            ("It is July.", qroom, None),
            // In the thread of one of its answers: follow-up questions only.
            (
                "and the year before?",
                follow_up,
                ask("and the year before?"),
            ),
            ("thanks, that helps", follow_up, None),
            ("!sources", follow_up, Some(Request::Sources)),
            ("!weather", follow_up, None),
            (
                "> <@a:x> earlier\n\ncitebot: and now?",
                group,
                ask("and now?"),
            ),
            // Characters whose lowercase differs in length around the name:
            // the name is found in the original text, whole.
            (
                "\u{212A} citebot \u{130}\u{130}",
                group,
                ask("\u{212A} \u{130}\u{130}"),
            ),
            (
                "\u{130} citebot\u{2014} \u{2126}",
                group,
                ask("\u{130} \u{2014} \u{2126}"),
            ),
            ("\u{130}citebot when?", group, None),
            ("citebotに質問です", group, ask("に質問です")),
            (
                "天皇の訪問はいつ？citebot",
                group,
                ask("天皇の訪問はいつ？"),
            ),
            ("CITEBOT: when?", group, ask("when?")),
            ("hey citebot.", group, ask("hey .")),
            ("@citebot when?", group, ask("when?")),
            // The name inside a URL, a path, a longer name or another user ID.
            ("see https://github.com/org/citebot/issues/12", group, None),
            ("citebot-v2 ships tomorrow", group, None),
            ("config in citebot.toml", group, None),
            ("ping @citebot:localhost.evil about it", group, None),
            ("ping @citebot:localhost:8448 about it", group, None),
            ("@citebot:localhost: when?", group, ask("when?")),
        ];
        // A name written in a script without spaces: a letter of that
        // script beside it makes a longer word, another script's does not.
        let japanese = Context {
            display_name: "ボット",
            ..group
        };
        cases.extend([
            ("ロボットが壊れた", japanese, None),
            ("ボットが答える？", japanese, ask("が答える？")),
            ("質問ですボット", japanese, ask("質問です")),
        ]);
        // A Thai tone mark is part of the word it is in: "ไก่" is not "ไก".
        let thai = Context {
            display_name: "ไก",
            ..group
        };
        cases.extend([("ไก่ชน", thai, None), ("ไก ช่วยด้วย", thai, ask("ช่วยด้วย"))]);
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

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Whatever a message mixes around the bot's name and ID (characters
        /// whose lowercase is longer or shorter, dashes, URLs), it is told
        /// apart without a panic, and a question keeps only text it held.
        #[test]
        fn any_message_is_classified(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "\u{130}", "\u{212A}", "\u{2126}", "\u{212B}", "\u{23A}", "\u{1E9E}", "ß",
                "citebot", "CITEBOT", "@citebot:localhost", "—", " ", ":", ",", "/", ".",
                "!ask", "> ", "\n", "é", "a",
            ]).prop_map(str::to_string),
            0..12,
        )) {
            let body = parts.concat();
            for c in [ctx(false, false, false), ctx(true, false, true), ctx(false, true, false)] {
                if let Some(Request::Ask(q)) = classify(&body, &c) {
                    // A space may join the text before and after the name.
                    for ch in q.chars().filter(|c| *c != ' ') {
                        proptest::prop_assert!(body.contains(ch), "{q:?} from {body:?}");
                    }
                }
            }
        }
    }
}
