//! Text for a Matrix message — a plain `body` and its HTML — and the HTML escaping
//! every rendering uses. A leaf: it knows nothing else of citebot.

/// A Matrix message body: `body` and `formatted_body` (`org.matrix.custom.html`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    pub plain: String,
    pub html: String,
}

/// What a reply's two bodies may take, JSON-escaped: Synapse refuses events over
/// 65,536 bytes, and the event's relations, mentions and signatures need room too.
pub const MAX_REPLY_BYTES: usize = 56_000;

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
            let mut end = keep;
            while !self.plain.is_char_boundary(end) {
                end -= 1;
            }
            let cut = &self.plain[..end];
            let cut = cut
                .rfind('\n')
                .or_else(|| cut.rfind(' '))
                .filter(|&i| i > end / 2)
                .map_or(cut, |i| &cut[..i]);
            let plain = format!("{cut}\n{note}");
            let html = format!("<p>{}</p>", escape_html(&plain).replace('\n', "<br>"));
            let out = Formatted { plain, html };
            if size(&out) <= max || keep == 0 {
                return out;
            }
            keep /= 2;
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
