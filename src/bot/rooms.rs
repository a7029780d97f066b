//! Which `[rooms]` entry applies to a room, and which knowledge collections the
//! room sees: its scope, the one place every read path (answers, `!why`,
//! `!sources`, `!stats`, `!status`, `!reload`, `!gaps`, admin-room posts) takes
//! it from. Entries are keyed by room ID or alias. An alias that can't be
//! resolved at start is retried in the background; meanwhile the room is still
//! matched by the aliases in its own state, and otherwise gets
//! `access.default_collections` like any room without an entry, never more. An
//! upgraded room keeps its predecessor's entry when the predecessor's tombstone
//! names it (a room's creator can claim any predecessor; only the old room's
//! admins can tombstone it).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use matrix_sdk::ruma::{OwnedRoomId, RoomAliasId};
use matrix_sdk::{Client, Room};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{Config, RoomConfig};

/// The `[rooms]` entries by room ID, aliases resolved.
pub(crate) struct Rooms {
    by_id: RwLock<HashMap<OwnedRoomId, RoomConfig>>,
    /// Entries keyed by an alias, for rooms matched through their own state.
    by_alias: HashMap<String, RoomConfig>,
    /// Aliases still to resolve.
    unresolved: RwLock<Vec<String>>,
    /// What a room without an entry (or an entry without `collections`) sees.
    default: Option<Vec<String>>,
    /// How often `unresolved` is tried again.
    retry: Duration,
}

impl Rooms {
    /// Resolves the aliases among the `[rooms]` keys.
    pub async fn resolve(client: &Client, config: &Config) -> Rooms {
        let mut by_id = HashMap::new();
        let mut by_alias = HashMap::new();
        let mut unresolved = Vec::new();
        for (key, rc) in &config.rooms {
            if key.starts_with('!') {
                match OwnedRoomId::try_from(key.as_str()) {
                    Ok(id) => {
                        by_id.insert(id, rc.clone());
                    }
                    Err(err) => {
                        warn!(room = %key, error = %err, "[rooms] key is not a valid room ID")
                    }
                }
                continue;
            }
            by_alias.insert(key.clone(), rc.clone());
            match resolve_alias(client, key).await {
                Some(id) => {
                    info!(alias = %key, room = %id, "[rooms] alias resolved");
                    by_id.entry(id).or_insert_with(|| rc.clone());
                }
                None => unresolved.push(key.clone()),
            }
        }
        Rooms {
            by_id: RwLock::new(by_id),
            by_alias,
            unresolved: RwLock::new(unresolved),
            default: config.access.default_collections.scope(),
            retry: Duration::from_secs(config.access.alias_retry_secs),
        }
    }

    /// Tries the aliases that didn't resolve again (`access.alias_retry_secs`), until all
    /// have or `shutdown` is cancelled.
    pub async fn keep_resolving(&self, client: &Client, shutdown: &CancellationToken) {
        loop {
            let pending = self
                .unresolved
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if pending.is_empty() {
                return;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.retry) => {}
            }
            for alias in pending {
                let Some(id) = resolve_alias(client, &alias).await else {
                    continue;
                };
                info!(%alias, room = %id, "[rooms] alias resolved on retry");
                if let Some(rc) = self.by_alias.get(&alias) {
                    self.by_id
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(id)
                        .or_insert_with(|| rc.clone());
                }
                self.unresolved
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|a| *a != alias);
            }
        }
    }

    /// The `[rooms]` entry for `room`, if any.
    pub fn get(&self, room: &Room) -> Option<RoomConfig> {
        let by_id = self.by_id.read().unwrap_or_else(|e| e.into_inner());
        if let Some(rc) = by_id.get(room.room_id()) {
            return Some(rc.clone());
        }
        let aliases = room.canonical_alias().into_iter().chain(room.alt_aliases());
        if let Some(rc) = aliases
            .into_iter()
            .find_map(|a| self.by_alias.get(a.as_str()))
        {
            return Some(rc.clone());
        }
        // An upgraded room: the old room must name this one as its successor.
        let old = room.predecessor_room()?.room_id;
        let successor = room.client().get_room(&old)?.successor_room()?.room_id;
        if successor != room.room_id() {
            return None;
        }
        by_id.get(&old).cloned()
    }

    /// The collections `room` sees (`None`: all): its entry's, else
    /// `access.default_collections`.
    pub fn collections(&self, room: &Room) -> Option<Vec<String>> {
        match self.get(room) {
            Some(RoomConfig {
                collections: Some(c),
                ..
            }) => Some(c),
            _ => self.default.clone(),
        }
    }

    /// What a room without an entry sees (`None`: all).
    pub fn default_scope(&self) -> Option<Vec<String>> {
        self.default.clone()
    }

    /// Whether `room` answers every message ending in `?`.
    pub fn answers_questions(&self, room: &Room) -> bool {
        self.get(room).is_some_and(|r| r.answer_questions)
    }
}

/// The room an alias (`#x:server`) or ID (`!x:server`) names; `None` (logged)
/// when it can't be resolved.
pub(crate) async fn resolve_alias(client: &Client, key: &str) -> Option<OwnedRoomId> {
    if key.starts_with('!') {
        return OwnedRoomId::try_from(key).ok();
    }
    let alias = match <&RoomAliasId>::try_from(key) {
        Ok(a) => a,
        Err(err) => {
            warn!(alias = %key, error = %err, "not a valid room alias");
            return None;
        }
    };
    match client.resolve_room_alias(alias).await {
        Ok(response) => Some(response.room_id),
        Err(err) => {
            warn!(alias = %key, error = %err, "cannot resolve the room alias");
            None
        }
    }
}
