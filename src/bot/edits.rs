//! Edited questions: which reply answered which message, so that when the
//! asker edits a message the bot answered (a typo fixed, the question put
//! another way) the bot can edit its reply to answer the message as it now
//! reads; which edit of a message is the latest (only that one is answered);
//! edits waiting for their message's reply; messages deleted before their
//! reply was out; and the `m.replace` content. What is done with an edit or
//! a deletion is `handlers`'.

use std::collections::{HashMap, HashSet, VecDeque};

use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::room::message::{ReplacementMetadata, RoomMessageEventContent};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId};

use crate::format::Formatted;
use crate::messages;

/// What the bot replied to one message: its reply and who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replied {
    pub reply: OwnedEventId,
    pub asker: OwnedUserId,
}

/// A message, by room and event ID.
type Message = (OwnedRoomId, OwnedEventId);

/// The bot's replies to the latest messages it answered, so that an edit of
/// one finds the reply to edit (kept for the latest [`REMEMBERED`]; filled
/// again at start from the question journal and the feedback file), and the
/// edits of them in flight.
#[derive(Debug, Default)]
pub(crate) struct Replies {
    by_message: HashMap<Message, Replied>,
    /// The bot's replies in `by_message`: the messages they answer.
    by_reply: HashMap<Message, OwnedEventId>,
    order: VecDeque<Message>,
    /// Each edited message's latest edit (sent at, ID): an older edit whose
    /// answer is slower is not sent over the newer one's.
    latest: HashMap<Message, (u64, OwnedEventId)>,
    /// The latest edit of each message whose answer is still on its way
    /// (journaled), with its ID: handled once the reply is out.
    waiting: HashMap<Message, (OwnedEventId, Raw<AnySyncTimelineEvent>)>,
    /// Messages deleted lately (the latest [`REMEMBERED`], oldest first in
    /// `deleted_order`): neither answered nor edited any more; a reply that
    /// was on its way is taken back once it is out.
    deleted: HashSet<Message>,
    deleted_order: VecDeque<Message>,
    /// The bot's edits of its reply to each message (the latest
    /// [`MAX_EDITS_OF_ONE`]), redacted with the reply when the message is
    /// deleted: a client that shows no edits shows them as messages.
    edits_sent: HashMap<Message, Vec<OwnedEventId>>,
    /// Notices the bot sent about a message it did not answer ("slow down",
    /// "your reply could not be delivered"), with its sender: taken back with
    /// it when it is deleted (the latest [`MAX_NOTICED`], in memory only).
    notices: HashMap<Message, (OwnedUserId, Vec<OwnedEventId>)>,
    notices_order: VecDeque<Message>,
}

/// What [`Replies::delete`] found of a deleted message.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Gone {
    /// What answered it.
    pub replied: Option<Replied>,
    /// The bot's edits of that reply.
    pub edits_sent: Vec<OwnedEventId>,
    /// The asker's edit of it that was waiting for the reply.
    pub waiting: Option<OwnedEventId>,
    /// The bot's notices about it.
    pub notices: Vec<OwnedEventId>,
    /// Deleted before (and not forgotten since): all this was returned then.
    pub again: bool,
}

/// What [`Replies::edit_sent`] did with the bot's edit of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EditNoted {
    /// Remembered with the reply.
    Kept,
    /// The reply is no longer remembered (the oldest are forgotten).
    NotRemembered,
    /// The message was deleted meanwhile: the edit is to be redacted.
    Deleted,
}

/// Edits of one reply remembered for [`Replies::delete`].
const MAX_EDITS_OF_ONE: usize = 32;

/// Messages whose notices [`Replies`] remembers.
const MAX_NOTICED: usize = 1_000;

/// How many answered messages [`Replies`] remembers (some 200 bytes each).
const REMEMBERED: usize = 10_000;

/// Most edits kept waiting for their message's reply, and latest edits
/// remembered, at once: past it they are forgotten in memory (a waiting edit
/// stays in the journal: the next start answers it).
const MAX_EDITS: usize = 1_000;

impl Replies {
    /// Notes that `replied` answers `message` in `room`.
    pub(crate) fn note(&mut self, room: OwnedRoomId, message: OwnedEventId, replied: Replied) {
        let key = (room, message);
        if self.deleted.contains(&key) {
            return;
        }
        let by_reply = (key.0.clone(), replied.reply.clone());
        if let Some(earlier) = self.by_message.insert(key.clone(), replied) {
            self.by_reply.remove(&(key.0.clone(), earlier.reply));
            self.by_reply.insert(by_reply, key.1);
        } else {
            self.by_reply.insert(by_reply, key.1.clone());
            self.order.push_back(key);
            if self.order.len() > REMEMBERED
                && let Some(old) = self.order.pop_front()
                && let Some(gone) = self.by_message.remove(&old)
            {
                self.by_reply.remove(&(old.0.clone(), gone.reply));
                self.edits_sent.remove(&old);
            }
        }
    }

    /// Notes the replies the journal kept (`(message, reply)`, oldest first),
    /// skipping any whose IDs do not parse.
    pub(crate) fn note_journaled(&mut self, replies: Vec<(String, super::journal::Reply)>) {
        for (message, r) in replies {
            if let (Ok(room), Ok(message), Ok(reply), Ok(asker)) = (
                OwnedRoomId::try_from(r.room),
                OwnedEventId::try_from(message),
                OwnedEventId::try_from(r.event),
                OwnedUserId::try_from(r.asker),
            ) {
                self.note(room, message, Replied { reply, asker });
            }
        }
    }

    /// Notes `message` in `room` as deleted, and forgets it: returns what
    /// answered it and the bot's edits of that, and the asker's edit of it
    /// that was waiting for the reply (all to be done with).
    pub(crate) fn delete(&mut self, room: &OwnedRoomId, message: &OwnedEventId) -> Gone {
        let key = (room.clone(), message.clone());
        let waiting = self.waiting.remove(&key).map(|(id, _)| id);
        self.latest.remove(&key);
        let again = !self.deleted.insert(key.clone());
        if !again {
            self.deleted_order.push_back(key.clone());
            if self.deleted_order.len() > REMEMBERED
                && let Some(old) = self.deleted_order.pop_front()
            {
                self.deleted.remove(&old);
            }
        }
        // Its place in `order` (and `notices_order`) stays until it comes
        // round: harmless.
        let replied = self.by_message.remove(&key);
        if let Some(r) = &replied {
            self.by_reply.remove(&(key.0.clone(), r.reply.clone()));
        }
        Gone {
            replied,
            edits_sent: self.edits_sent.remove(&key).unwrap_or_default(),
            waiting,
            notices: (self.notices.remove(&key)).map_or_else(Vec::new, |(_, n)| n),
            again,
        }
    }

    /// Notes `notice`, the bot's notice about `message` in `room` (sent by
    /// `sender`), which it did not answer. `false` when the message was
    /// deleted meanwhile: the notice is to be taken back.
    pub(crate) fn noticed(
        &mut self,
        room: &OwnedRoomId,
        message: &OwnedEventId,
        sender: &OwnedUserId,
        notice: OwnedEventId,
    ) -> bool {
        let key = (room.clone(), message.clone());
        if self.deleted.contains(&key) {
            return false;
        }
        let entry = self.notices.entry(key.clone()).or_insert_with(|| {
            self.notices_order.push_back(key);
            (sender.clone(), Vec::new())
        });
        if entry.1.len() < MAX_EDITS_OF_ONE {
            entry.1.push(notice);
        }
        if self.notices_order.len() > MAX_NOTICED
            && let Some(old) = self.notices_order.pop_front()
        {
            self.notices.remove(&old);
        }
        true
    }

    /// Who sent `message` in `room`, when the bot answered it or sent a
    /// notice about it.
    pub(crate) fn sender_of(
        &self,
        room: &OwnedRoomId,
        message: &OwnedEventId,
    ) -> Option<OwnedUserId> {
        let key = (room.clone(), message.clone());
        (self.by_message.get(&key).map(|r| r.asker.clone()))
            .or_else(|| self.notices.get(&key).map(|(sender, _)| sender.clone()))
    }

    /// Notes `edit`, the bot's edit of its reply to `message` in `room`.
    pub(crate) fn edit_sent(
        &mut self,
        room: &OwnedRoomId,
        message: &OwnedEventId,
        edit: OwnedEventId,
    ) -> EditNoted {
        let key = (room.clone(), message.clone());
        if self.deleted.contains(&key) {
            return EditNoted::Deleted;
        }
        if !self.by_message.contains_key(&key) {
            return EditNoted::NotRemembered;
        }
        let sent = self.edits_sent.entry(key).or_default();
        if sent.len() >= MAX_EDITS_OF_ONE {
            sent.remove(0);
        }
        sent.push(edit);
        EditNoted::Kept
    }

    /// Whether `message` in `room` was deleted (lately).
    pub(crate) fn is_deleted(&self, room: &OwnedRoomId, message: &OwnedEventId) -> bool {
        self.deleted.contains(&(room.clone(), message.clone()))
    }

    /// Notes the bot's edits of its replies the journal kept (`(message,
    /// room, edit)`, oldest first), after the replies themselves.
    pub(crate) fn note_journaled_edits(&mut self, edits: Vec<super::journal::EditSent>) {
        for (message, room, edit) in edits {
            if let (Ok(room), Ok(message), Ok(edit)) = (
                OwnedRoomId::try_from(room),
                OwnedEventId::try_from(message),
                OwnedEventId::try_from(edit),
            ) {
                self.edit_sent(&room, &message, edit);
            }
        }
    }

    /// Whether `event` in `room` is one of the bot's replies remembered.
    pub(crate) fn is_reply(&self, room: &OwnedRoomId, event: &OwnedEventId) -> bool {
        self.by_reply.contains_key(&(room.clone(), event.clone()))
    }

    /// The message that `reply`, one of the bot's replies in `room`, answers,
    /// when remembered.
    pub(crate) fn answered_by(
        &self,
        room: &OwnedRoomId,
        reply: &OwnedEventId,
    ) -> Option<OwnedEventId> {
        self.by_reply.get(&(room.clone(), reply.clone())).cloned()
    }

    /// What answered `message` in `room`, when remembered.
    pub(crate) fn of(&self, room: &OwnedRoomId, message: &OwnedEventId) -> Option<Replied> {
        self.by_message
            .get(&(room.clone(), message.clone()))
            .cloned()
    }

    /// Notes edit `edit` of `message` in `room`, sent at `at` (ms): `Err(())`
    /// when a later edit of it was seen already, else the earlier edit it
    /// supersedes, if any.
    pub(crate) fn edited(
        &mut self,
        room: &OwnedRoomId,
        message: &OwnedEventId,
        at: u64,
        edit: &OwnedEventId,
    ) -> Result<Option<OwnedEventId>, ()> {
        let key = (room.clone(), message.clone());
        if self.deleted.contains(&key) {
            return Err(());
        }
        if let Some(seen) = self.latest.get(&key)
            && (seen.0, &seen.1) > (at, edit)
        {
            return Err(());
        }
        if self.latest.len() >= MAX_EDITS {
            self.latest.clear();
        }
        let old = self.latest.insert(key, (at, edit.clone()));
        Ok(old.map(|(_, id)| id).filter(|id| id != edit))
    }

    /// Whether `edit` is the latest edit of `message` in `room` seen, and the
    /// message is not deleted.
    pub(crate) fn is_latest(
        &self,
        room: &OwnedRoomId,
        message: &OwnedEventId,
        edit: &OwnedEventId,
    ) -> bool {
        let key = (room.clone(), message.clone());
        !self.deleted.contains(&key) && (self.latest.get(&key)).is_none_or(|(_, id)| id == edit)
    }

    /// Keeps edit `edit` (`raw`) of `message` in `room` until the message's
    /// reply is out; returns the edit it supersedes, if one was waiting.
    pub(crate) fn wait(
        &mut self,
        room: OwnedRoomId,
        message: OwnedEventId,
        edit: OwnedEventId,
        raw: Raw<AnySyncTimelineEvent>,
    ) -> Option<OwnedEventId> {
        if self.deleted.contains(&(room.clone(), message.clone())) {
            return None;
        }
        // Few: messages edited in the second their answer takes.
        if self.waiting.len() >= MAX_EDITS {
            self.waiting.clear();
        }
        let old = self.waiting.insert((room, message), (edit.clone(), raw));
        old.map(|(id, _)| id).filter(|id| *id != edit)
    }

    /// The edit of `message` in `room` that waited for its reply, if any.
    pub(crate) fn waited(
        &mut self,
        room: &OwnedRoomId,
        message: &OwnedEventId,
    ) -> Option<Raw<AnySyncTimelineEvent>> {
        let (_, raw) = self.waiting.remove(&(room.clone(), message.clone()))?;
        Some(raw)
    }
}

/// The edit of the bot's reply `replied` that makes it say `body`. The event
/// holds the text twice (the new content and its fallback), so each gets half
/// of what one reply may take.
pub(crate) fn content(body: &Formatted, replied: &Replied) -> RoomMessageEventContent {
    let body = body
        .clone()
        .fit(crate::format::MAX_REPLY_BYTES / 2, messages::SHORTENED);
    // The reply mentioned the asker: the edit does too (in its new content),
    // without pinging them again (the event's own mentions are only the new).
    let asker = || Mentions::with_user_ids([replied.asker.clone()]);
    RoomMessageEventContent::notice_html(body.plain, body.html)
        .add_mentions(asker())
        .make_replacement(ReplacementMetadata::new(
            replied.reply.clone(),
            Some(asker()),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> OwnedEventId {
        OwnedEventId::try_from(s).unwrap()
    }

    #[test]
    fn replies_are_found_by_room_and_message_and_the_oldest_forgotten() {
        let room = OwnedRoomId::try_from("!r:x").unwrap();
        let other = OwnedRoomId::try_from("!o:x").unwrap();
        let asker = OwnedUserId::try_from("@a:x").unwrap();
        let replied = |r: &str| Replied {
            reply: id(r),
            asker: asker.clone(),
        };
        let mut replies = Replies::default();
        replies.note(room.clone(), id("$q0"), replied("$r0"));
        assert_eq!(replies.of(&room, &id("$q0")), Some(replied("$r0")));
        assert_eq!(replies.of(&other, &id("$q0")), None, "another room's");
        assert!(replies.is_reply(&room, &id("$r0")));
        assert!(!replies.is_reply(&other, &id("$r0")), "another room's");
        for i in 1..=REMEMBERED {
            replies.note(
                room.clone(),
                id(&format!("$q{i}")),
                replied(&format!("$r{i}")),
            );
        }
        assert_eq!(replies.of(&room, &id("$q0")), None);
        assert!(!replies.is_reply(&room, &id("$r0")), "forgotten with it");
        assert!(replies.is_reply(&room, &id("$r1")));
        assert!(replies.of(&room, &id("$q1")).is_some());
        // An edit waits for its message's reply; a later one supersedes it.
        let raw = |id: &str| Raw::from_json_string(format!(r#"{{"event_id":"{id}"}}"#)).unwrap();
        assert_eq!(
            replies.wait(room.clone(), id("$m"), id("$e1"), raw("$e1")),
            None
        );
        let superseded = replies.wait(room.clone(), id("$m"), id("$e2"), raw("$e2"));
        assert_eq!(superseded, Some(id("$e1")));
        assert_eq!(
            replies
                .waited(&other, &id("$m"))
                .map(|r| r.json().get().to_string()),
            None
        );
        let waited = replies.waited(&room, &id("$m")).unwrap();
        assert!(waited.json().get().contains("$e2"));
        assert!(replies.waited(&room, &id("$m")).is_none(), "handled once");
    }

    #[test]
    fn a_deleted_message_is_neither_answered_nor_edited_again() {
        let room = OwnedRoomId::try_from("!r:x").unwrap();
        let asker = OwnedUserId::try_from("@a:x").unwrap();
        let replied = Replied {
            reply: id("$reply"),
            asker,
        };
        let raw = || Raw::from_json_string(r#"{"event_id":"$e"}"#.into()).unwrap();
        let mut replies = Replies::default();
        // Answered and being edited, then deleted: its reply is returned to
        // be taken back, and the edit in flight is no longer the latest.
        replies.note(room.clone(), id("$m"), replied.clone());
        assert!(replies.is_reply(&room, &id("$reply")));
        assert_eq!(replies.edited(&room, &id("$m"), 10, &id("$e1")), Ok(None));
        let noted = replies.edit_sent(&room, &id("$m"), id("$edit1"));
        assert_eq!(noted, EditNoted::Kept);
        let other = replies.edit_sent(&room, &id("$never-answered"), id("$e0"));
        assert_eq!(other, EditNoted::NotRemembered);
        let gone = replies.delete(&room, &id("$m"));
        let want = Gone {
            replied: Some(replied.clone()),
            edits_sent: vec![id("$edit1")],
            waiting: None,
            notices: Vec::new(),
            again: false,
        };
        assert_eq!(gone, want);
        assert!(!replies.is_reply(&room, &id("$reply")));
        let late = replies.edit_sent(&room, &id("$m"), id("$edit2"));
        assert_eq!(late, EditNoted::Deleted, "to redact");
        assert!(replies.is_deleted(&room, &id("$m")));
        assert!(!replies.is_latest(&room, &id("$m"), &id("$e1")));
        assert_eq!(replies.edited(&room, &id("$m"), 20, &id("$e2")), Err(()));
        let again = Gone {
            again: true,
            ..Gone::default()
        };
        assert_eq!(replies.delete(&room, &id("$m")), again, "once");
        // Deleted while its answer is on its way, with an edit waiting: the
        // edit is returned (to be done with); the reply is not noted.
        replies.wait(room.clone(), id("$n"), id("$e"), raw());
        let gone = replies.delete(&room, &id("$n"));
        assert_eq!((gone.replied, gone.waiting), (None, Some(id("$e"))));
        assert!(replies.waited(&room, &id("$n")).is_none());
        assert_eq!(replies.wait(room.clone(), id("$n"), id("$e3"), raw()), None);
        assert!(replies.waited(&room, &id("$n")).is_none(), "kept no edit");
        replies.note(room.clone(), id("$n"), replied.clone());
        assert_eq!(replies.of(&room, &id("$n")), None);
        let other = OwnedRoomId::try_from("!o:x").unwrap();
        assert!(!replies.is_deleted(&other, &id("$n")), "another room's");
        // The latest deletions are remembered, the oldest forgotten.
        for i in 0..REMEMBERED {
            replies.delete(&room, &id(&format!("$d{i}")));
        }
        assert!(!replies.is_deleted(&room, &id("$m")));
        assert!(replies.is_deleted(&room, &id("$d0")));
    }

    #[test]
    fn notices_about_a_message_go_with_it() {
        let room = OwnedRoomId::try_from("!r:x").unwrap();
        let sender = OwnedUserId::try_from("@a:x").unwrap();
        let mut replies = Replies::default();
        assert_eq!(replies.sender_of(&room, &id("$m")), None);
        assert!(replies.noticed(&room, &id("$m"), &sender, id("$slow")));
        assert!(replies.noticed(&room, &id("$m"), &sender, id("$slow2")));
        assert_eq!(replies.sender_of(&room, &id("$m")), Some(sender.clone()));
        let gone = replies.delete(&room, &id("$m"));
        assert_eq!(gone.notices, [id("$slow"), id("$slow2")]);
        assert_eq!(gone.replied, None);
        // One that goes out after the deletion is to be taken back at once.
        assert!(!replies.noticed(&room, &id("$m"), &sender, id("$late")));
        assert!(replies.delete(&room, &id("$m")).notices.is_empty());
        // The latest are remembered, the oldest forgotten.
        for i in 0..=MAX_NOTICED {
            replies.noticed(&room, &id(&format!("$n{i}")), &sender, id("$x"));
        }
        assert_eq!(replies.sender_of(&room, &id("$n0")), None);
        assert!(replies.sender_of(&room, &id("$n1")).is_some());
    }

    #[test]
    fn only_the_latest_edit_of_a_message_is_answered() {
        let room = OwnedRoomId::try_from("!r:x").unwrap();
        let (m, e1, e2) = (id("$m"), id("$e1"), id("$e2"));
        let mut replies = Replies::default();
        assert!(replies.is_latest(&room, &m, &e1), "no edit seen yet");
        // (edit, sent at, outcome)
        assert_eq!(replies.edited(&room, &m, 10, &e1), Ok(None));
        assert_eq!(replies.edited(&room, &m, 10, &e1), Ok(None), "again");
        assert_eq!(replies.edited(&room, &m, 20, &e2), Ok(Some(e1.clone())));
        assert!(!replies.is_latest(&room, &m, &e1));
        assert!(replies.is_latest(&room, &m, &e2));
        // An older edit delivered late (a restart's journal) is stale.
        assert_eq!(replies.edited(&room, &m, 10, &e1), Err(()));
        assert!(replies.is_latest(&room, &m, &e2));
    }

    #[test]
    fn the_edit_of_a_reply_replaces_it_and_mentions_the_asker_only() {
        let replied = Replied {
            reply: id("$reply"),
            asker: OwnedUserId::try_from("@a:x").unwrap(),
        };
        let json = serde_json::to_value(content(
            &Formatted {
                plain: "July 2025".into(),
                html: "<b>July 2025</b>".into(),
            },
            &replied,
        ))
        .unwrap();
        assert_eq!(json["m.relates_to"]["rel_type"], "m.replace", "{json}");
        assert_eq!(json["m.relates_to"]["event_id"], "$reply", "{json}");
        assert_eq!(json["m.new_content"]["body"], "July 2025", "{json}");
        assert_eq!(json["m.new_content"]["msgtype"], "m.notice", "{json}");
        let asker = serde_json::json!(["@a:x"]);
        assert_eq!(json["m.new_content"]["m.mentions"]["user_ids"], asker);
        assert_eq!(json["m.mentions"], serde_json::json!({}), "no new ping");
        // Twice the text in one event, and still within one event's size.
        let long = Formatted {
            plain: "x".repeat(60_000),
            html: "x".repeat(60_000),
        };
        let size = serde_json::to_vec(&content(&long, &replied)).unwrap().len();
        assert!(size < 65_536 - 4_000, "{size}");
    }

    #[test]
    fn the_edits_of_the_longest_replies_fit_in_one_encrypted_event() {
        // The longest IDs there may be: the edit names the reply and the asker.
        let replied = Replied {
            reply: id(&format!("${}", "r".repeat(43))),
            asker: OwnedUserId::try_from(format!("@{}:x", "a".repeat(251))).unwrap(),
        };
        let half = crate::format::MAX_REPLY_BYTES / 2;
        let whole = |f: &Formatted| f.clone().fit(half, messages::SHORTENED) == *f;
        for (name, body) in messages::tests::longest_replies(whole) {
            let content = content(&body, &replied);
            let bytes = crate::format::tests::encrypted_event_bytes(&content);
            assert!(bytes <= 65_536, "{name}: {bytes} bytes");
        }
    }
}
