//! Text for a Matrix message — a plain `body` and its HTML — and the HTML escaping
//! every rendering uses. A leaf: it knows nothing else of citebot.

/// A Matrix message body: `body` and `formatted_body` (`org.matrix.custom.html`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    pub plain: String,
    pub html: String,
}

/// Synapse refuses an event whose PDU (the whole event as JSON, ciphertext
/// included) takes more bytes than this (`M_TOO_LARGE`).
const MAX_EVENT_BYTES: usize = 65_536;
/// An encrypted event's bytes outside its ciphertext: the PDU's envelope (room,
/// sender, auth and prev events, hashes, signatures; about 2 KB with the longest
/// IDs), the `m.room.encrypted` content's keys and the `m.relates_to` it repeats
/// in clear.
const CLEAR_BYTES: usize = 4_096;
/// What the encrypted payload holds beside the two bodies: its type and room ID,
/// the msgtype, format, relation and mentions (IDs up to 255 bytes; an edit holds
/// its mentions twice), and Megolm's framing (padding, index, MAC, signature).
const PAYLOAD_EXTRA_BYTES: usize = 1_536;
/// Left spare, for what the figures above miss.
const SPARE_BYTES: usize = 4_096;

/// What a reply's two bodies may take, JSON-escaped, together. Sized for an
/// encrypted room, where it counts most: the payload carrying both bodies is
/// sent as base64 of its ciphertext, 4/3 of its size, so 41,472 bytes of
/// bodies make an event of at most 61,440 bytes (and of about 45,000 in a room
/// that isn't encrypted). A normal answer takes a few KB.
pub const MAX_REPLY_BYTES: usize =
    (MAX_EVENT_BYTES - CLEAR_BYTES - SPARE_BYTES) / 4 * 3 - PAYLOAD_EXTRA_BYTES;

impl Formatted {
    /// This message, shortened when its bodies (JSON-escaped) would take more
    /// than `max` bytes: the plain text is cut at a line or word and `note` (saying it
    /// was shortened) added, and the HTML becomes that text (formatting is what gives way,
    /// never the message).
    pub fn fit(self, max: usize, note: &str) -> Formatted {
        let size = |f: &Formatted| json_len(&f.plain) + json_len(&f.html);
        if size(&self) <= max {
            return self;
        }
        let mut keep = self.plain.len().min(max / 2);
        loop {
            let end = crate::text::floor_char_boundary(&self.plain, keep);
            let cut = &self.plain[..end];
            let cut = cut
                .rfind('\n')
                .or_else(|| cut.rfind(' '))
                .filter(|&i| i > end / 2)
                .map_or(cut, |i| &cut[..i]);
            let plain = format!("{cut}\n{note}");
            let html = format!("<p>{}</p>", escape_html(&plain).replace('\n', "<br>"));
            let out = Formatted { plain, html };
            let took = size(&out);
            if took <= max || keep == 0 {
                return out;
            }
            // Cut by as much as it came over (halving would throw away up to half
            // of what fits), and by a sixteenth at least, so that this ends.
            let scaled = (keep as u128 * max as u128 / took as u128) as usize;
            keep = scaled.min(keep - keep / 16 - 1);
        }
    }
}

/// Bytes `s` takes as a JSON string.
fn json_len(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
        + 2
}

/// Escapes text for HTML element content and attribute values.
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The longest room ID there may be (255 bytes): the payload carries it.
    fn longest_room_id() -> String {
        format!("!{}:example.org", "r".repeat(255 - "!:example.org".len()))
    }

    /// The most bytes an event with `content` (`m.room.message`) takes in an
    /// encrypted room, as matrix-sdk sends it: the payload `{"type", "content",
    /// "room_id"}` serialised, AES-CBC padded to 16 bytes, framed by Megolm (at
    /// most 83 bytes of version, index, length, MAC and signature) and base64'd;
    /// then the `m.relates_to` repeated in clear, and 2 KB for the content's keys
    /// and the PDU's envelope.
    pub(crate) fn encrypted_event_bytes(content: &impl serde::Serialize) -> usize {
        let content = serde_json::to_value(content).unwrap();
        let payload = serde_json::json!({
            "type": "m.room.message",
            "content": content,
            "room_id": longest_room_id(),
        });
        let plaintext = serde_json::to_vec(&payload).unwrap().len();
        let megolm = (plaintext / 16 + 1) * 16 + 83;
        let in_clear = content.get("m.relates_to").map_or(0, |r| {
            serde_json::to_vec(r).unwrap().len() + r#","m.relates_to":"#.len()
        });
        (megolm * 4).div_ceil(3) + in_clear + 2_048
    }

    #[test]
    fn the_cap_fits_an_encrypted_event_and_the_old_one_did_not() {
        // Bodies taking the whole cap, with the relation and mentions of a
        // threaded reply to the longest IDs.
        let event = |bodies: usize| {
            serde_json::json!({
                "msgtype": "m.notice",
                "body": "x".repeat(bodies / 2 - 2),
                "format": "org.matrix.custom.html",
                "formatted_body": "x".repeat(bodies / 2 - 2),
                "m.relates_to": {
                    "rel_type": "m.thread",
                    "event_id": format!("${}", "e".repeat(43)),
                    "is_falling_back": true,
                    "m.in_reply_to": {"event_id": format!("${}", "e".repeat(43))},
                },
                "m.mentions": {"user_ids": [format!("@{}:example.org", "u".repeat(242))]},
            })
        };
        for (cap, fits) in [(MAX_REPLY_BYTES, true), (56_000, false)] {
            let bytes = encrypted_event_bytes(&event(cap));
            assert_eq!(bytes <= MAX_EVENT_BYTES, fits, "cap {cap}: {bytes} bytes");
        }
        // With room to spare for what the estimate above leaves out.
        assert!(encrypted_event_bytes(&event(MAX_REPLY_BYTES)) <= MAX_EVENT_BYTES - 4_096);
    }

    #[test]
    fn a_shortened_message_fits_and_keeps_most_of_what_fits() {
        let max = MAX_REPLY_BYTES;
        for line in [
            "- Title (file.md, 2025-01-01) — Source [3 passages]\n",
            "word <&> \"quoted\"\n",
            "\u{1}\u{2}\u{3}\n",
            "ééé 👍 ",
            "x",
        ] {
            let plain = line.repeat(100_000 / line.len() + 1);
            let html = format!("<ul><li>{}</li></ul>", escape_html(&plain));
            let fit = Formatted { plain, html }.fit(max, "(shortened)");
            let event = serde_json::json!({"body": fit.plain, "formatted_body": fit.html});
            // Its two JSON strings: without `{"body":`, `,"formatted_body":` and `}`.
            let size = serde_json::to_vec(&event).unwrap().len() - 27;
            assert!(size <= max, "{line:?}: {size}");
            assert!(size >= max * 3 / 4, "{line:?}: only {size} of {max}");
            assert!(fit.plain.ends_with("(shortened)"), "{line:?}");
        }
    }
}
