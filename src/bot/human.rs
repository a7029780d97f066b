//! A person's Matrix client, used by the demo, the integration tests and the
//! latency bench: a real matrix-sdk client that creates rooms, sends
//! messages and waits for what arrives over `/sync`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::filter::FilterDefinition;
use matrix_sdk::ruma::api::client::message::send_message_event;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoomRequest;
use matrix_sdk::ruma::api::client::room::get_room_event;
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::Annotation;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, TransactionId};
use matrix_sdk::{Client, Room};
use serde_json::Value;

/// One timeline event seen over sync.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The room it arrived in.
    pub room_id: OwnedRoomId,
    /// The event as JSON (decrypted where needed).
    pub event: Value,
}

impl Seen {
    /// `event.sender`.
    pub fn sender(&self) -> &str {
        self.event["sender"].as_str().unwrap_or_default()
    }
    /// `event.event_id`.
    pub fn event_id(&self) -> anyhow::Result<OwnedEventId> {
        let id = self.event["event_id"]
            .as_str()
            .context("event without event_id")?;
        Ok(id.try_into()?)
    }
    /// `event.type`.
    pub fn kind(&self) -> &str {
        self.event["type"].as_str().unwrap_or_default()
    }
    /// `content.body`.
    pub fn body(&self) -> &str {
        self.event["content"]["body"].as_str().unwrap_or_default()
    }
    /// `content.formatted_body`.
    pub fn html(&self) -> &str {
        self.event["content"]["formatted_body"]
            .as_str()
            .unwrap_or_default()
    }
    /// What this redacts, if it is a redaction (the ID is in the content from
    /// room version 11, outside it before).
    pub fn redacts(&self) -> Option<&str> {
        if self.kind() != "m.room.redaction" {
            return None;
        }
        (self.event["redacts"].as_str()).or(self.event["content"]["redacts"].as_str())
    }
    /// `content.m.relates_to.m.in_reply_to.event_id`: what this replies to.
    pub fn in_reply_to(&self) -> Option<&str> {
        self.event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"].as_str()
    }
    /// Whether this is a message from `sender` replying to `event_id`.
    pub fn is_reply(&self, sender: &str, event_id: &str) -> bool {
        self.kind() == "m.room.message"
            && self.sender() == sender
            && self.in_reply_to() == Some(event_id)
    }
}

/// A logged-in person.
pub struct Human {
    /// The client (in-memory stores, crypto included: it decrypts what it
    /// receives and encrypts what it sends in encrypted rooms).
    pub client: Client,
    seen: Vec<Seen>,
    /// Where the last sync ended.
    since: Option<String>,
}

impl Human {
    /// Logs in with a password and catches up with one sync.
    pub async fn login(homeserver: &str, user: &str, password: &str) -> anyhow::Result<Human> {
        let client = Client::builder().homeserver_url(homeserver).build().await?;
        client
            .matrix_auth()
            .login_username(user, password)
            .initial_device_display_name("citebot-human")
            .send()
            .await
            .with_context(|| format!("logging in as {user}"))?;
        let mut human = Human {
            client,
            seen: Vec::new(),
            since: None,
        };
        human.sync(Duration::ZERO).await?;
        human.seen.clear();
        Ok(human)
    }

    /// This person's user ID.
    pub fn user_id(&self) -> OwnedUserId {
        self.client.user_id().expect("logged in").to_owned()
    }

    async fn sync(&mut self, timeout: Duration) -> anyhow::Result<()> {
        // A big timeline limit: with Synapse's default of 10, a burst of
        // messages would hide earlier events (the ones being waited for).
        let mut filter = FilterDefinition::default();
        filter.room.timeline.limit = Some(1000u32.into());
        let settings = SyncSettings::default()
            .timeout(timeout)
            .filter(Filter::FilterDefinition(filter));
        let response = self.client.sync_once(settings).await?;
        let since = self.since.replace(response.next_batch.clone());
        for (room_id, update) in response.rooms.joined {
            // The homeserver caps a timeline: events before it are fetched, as a
            // client scrolling back would, so a burst hides nothing.
            let earlier = match (&since, update.timeline.limited, &update.timeline.prev_batch) {
                (Some(since), true, Some(from)) => self.backfill(&room_id, from, since).await?,
                _ => Vec::new(),
            };
            for event in earlier.iter().chain(&update.timeline.events) {
                if let Ok(event) = event.raw().deserialize_as::<Value>() {
                    self.seen.push(Seen {
                        room_id: room_id.clone(),
                        event,
                    });
                }
            }
        }
        Ok(())
    }

    /// The events of `room_id` between the sync token `since` and `from` (the
    /// start of a limited timeline), oldest first.
    async fn backfill(
        &self,
        room_id: &RoomId,
        from: &str,
        since: &str,
    ) -> anyhow::Result<Vec<matrix_sdk::deserialized_responses::TimelineEvent>> {
        let room = self.room(room_id)?;
        let mut events = Vec::new();
        let mut from = from.to_owned();
        loop {
            let mut options = matrix_sdk::room::MessagesOptions::backward().from(from.as_str());
            options.to = Some(since.to_owned());
            options.limit = 100u32.into();
            let page = room.messages(options).await?;
            let done = page.chunk.is_empty() || page.end.is_none();
            events.extend(page.chunk);
            match page.end {
                Some(end) if !done => from = end,
                _ => break,
            }
        }
        events.reverse();
        Ok(events)
    }

    /// Creates a room and invites `invite`. `direct` marks it as a DM.
    pub async fn create_room(
        &mut self,
        name: &str,
        invite: &[OwnedUserId],
        direct: bool,
    ) -> anyhow::Result<Room> {
        self.create_room_with(name, invite, direct, false).await
    }

    /// `create_room`, end-to-end encrypted from the start when `encrypted`.
    pub async fn create_room_with(
        &mut self,
        name: &str,
        invite: &[OwnedUserId],
        direct: bool,
        encrypted: bool,
    ) -> anyhow::Result<Room> {
        let mut request = CreateRoomRequest::new();
        request.name = Some(name.to_owned());
        request.invite = invite.to_vec();
        request.is_direct = direct;
        if encrypted {
            request.initial_state = vec![
                InitialStateEvent::with_empty_state_key(
                    RoomEncryptionEventContent::with_recommended_defaults(),
                )
                .to_raw_any(),
            ];
        }
        let room = self
            .client
            .create_room(request)
            .await
            .context("creating a room")?;
        Ok(room)
    }

    /// The joined room `room_id` (after a sync).
    pub fn room(&self, room_id: &RoomId) -> anyhow::Result<Room> {
        self.client.get_room(room_id).context("unknown room")
    }

    /// Sends a plain text message.
    pub async fn say(&self, room: &Room, text: &str) -> anyhow::Result<OwnedEventId> {
        self.send(room, RoomMessageEventContent::text_plain(text))
            .await
    }

    /// Sends any message content.
    pub async fn send(
        &self,
        room: &Room,
        content: RoomMessageEventContent,
    ) -> anyhow::Result<OwnedEventId> {
        Ok(room
            .send(content)
            .await
            .context("sending a message")?
            .response
            .event_id)
    }

    /// Redacts event `event_id` in `room` (a reaction taken back, a message
    /// deleted).
    pub async fn redact(&self, room: &Room, event_id: &str) -> anyhow::Result<()> {
        let event_id = OwnedEventId::try_from(event_id).context("not an event ID")?;
        room.redact(&event_id, None, None)
            .await
            .context("redacting an event")?;
        Ok(())
    }

    /// Reacts to `event_id` with `key` (an `m.annotation`, as clients send 👍).
    pub async fn react(
        &self,
        room: &Room,
        event_id: &str,
        key: &str,
    ) -> anyhow::Result<OwnedEventId> {
        let target = OwnedEventId::try_from(event_id).context("not an event ID")?;
        let content = ReactionEventContent::new(Annotation::new(target, key.to_owned()));
        Ok(room
            .send(content)
            .await
            .context("sending a reaction")?
            .response
            .event_id)
    }

    /// The `type` of an event as the homeserver stores it (`m.room.encrypted`
    /// for anything sent in an encrypted room).
    pub async fn server_event_type(
        &self,
        room_id: &RoomId,
        event_id: &EventId,
    ) -> anyhow::Result<String> {
        let response = self
            .client
            .send(get_room_event::v3::Request::new(
                room_id.to_owned(),
                event_id.to_owned(),
            ))
            .await
            .context("fetching an event from the server")?;
        Ok(response
            .event
            .get_field::<String>("type")?
            .unwrap_or_default())
    }

    /// Sends an `m.room.encrypted` event whose Megolm session nobody has, as
    /// a client would whose key never reaches the recipients.
    pub async fn send_undecryptable(&self, room: &Room) -> anyhow::Result<OwnedEventId> {
        let sender_key = self
            .client
            .encryption()
            .curve25519_key()
            .await
            .context("the client has no identity key")?
            .to_base64();
        let session_id: String = format!("{:0>43}", TransactionId::new());
        let content = serde_json::json!({
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg2yyOwAtHaZTwyNg37afzg8f3r9IsN9r4RNFg7MaZencUJe4qvELiDiopUjy5wYVDAtqdBzer5bWRD9ldxp1FLgbQvBcjkkywYjCsmsq6+hArLd9oAQZnGKn/qLsK+5uNX3PaWzDRC9wZPQvWYYPCTov3jCwXKTPsLKIiTrcCXDqMvnn8m+T3zF/I2zqxg158tnUwWWIw51UO",
            "device_id": self.client.device_id().context("no device")?.as_str(),
            "sender_key": sender_key,
            "session_id": session_id,
        });
        let request = send_message_event::v3::Request::new_raw(
            room.room_id().to_owned(),
            TransactionId::new(),
            "m.room.encrypted".into(),
            Raw::new(&content)?.cast_unchecked(),
        );
        Ok(self
            .client
            .send(request)
            .await
            .context("sending an undecryptable event")?
            .event_id)
    }

    /// Waits until an event matching `pred` arrives (or was already seen and
    /// not yet consumed); removes and returns it.
    pub async fn wait_for(
        &mut self,
        limit: Duration,
        pred: impl Fn(&Seen) -> bool,
    ) -> anyhow::Result<Seen> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(i) = self.seen.iter().position(&pred) {
                return Ok(self.seen.remove(i));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("nothing matching arrived within {limit:?}");
            }
            self.sync(left.min(Duration::from_secs(5))).await?;
        }
    }

    /// Waits for `sender`'s reply to `event_id`.
    pub async fn reply_from(
        &mut self,
        sender: &str,
        event_id: &str,
        limit: Duration,
    ) -> anyhow::Result<Seen> {
        self.wait_for(limit, |s| s.is_reply(sender, event_id))
            .await
            .with_context(|| format!("waiting for {sender}'s reply to {event_id}"))
    }

    /// Everything matching `pred` that arrives within `window` (for checking
    /// that something does *not* happen, or how often).
    pub async fn collect(
        &mut self,
        window: Duration,
        pred: impl Fn(&Seen) -> bool,
    ) -> anyhow::Result<Vec<Seen>> {
        let deadline = Instant::now() + window;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.sync(left).await?;
        }
        let (hit, rest): (Vec<Seen>, Vec<Seen>) = std::mem::take(&mut self.seen)
            .into_iter()
            .partition(|s| pred(s));
        self.seen = rest;
        Ok(hit)
    }

    /// Waits until `user` has membership `membership` (`join`, `leave`) in `room_id`.
    pub async fn wait_membership(
        &mut self,
        room_id: &RoomId,
        user: &str,
        membership: &str,
        limit: Duration,
    ) -> anyhow::Result<()> {
        self.wait_for(limit, |s| {
            s.room_id == room_id
                && s.kind() == "m.room.member"
                && s.event["state_key"] == user
                && s.event["content"]["membership"] == membership
        })
        .await
        .with_context(|| format!("waiting for {user} to {membership} {room_id}"))?;
        Ok(())
    }
}
