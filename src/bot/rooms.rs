//! Which `[rooms]` entry applies to a room, and which knowledge collections the
//! room sees. Entries are keyed by room ID or alias; aliases are resolved once
//! at start, and a room whose alias couldn't be resolved is still matched by the
//! aliases in its own state (so a room mapped to some collections never falls
//! back to seeing all of them just because the directory lookup failed).

use std::collections::HashMap;

use matrix_sdk::ruma::{OwnedRoomId, RoomAliasId};
use matrix_sdk::{Client, Room};
use tracing::{info, warn};

use crate::config::{Config, RoomConfig};

/// The `[rooms]` entries by room ID, aliases resolved.
pub(crate) struct Rooms {
    by_id: HashMap<OwnedRoomId, RoomConfig>,
    /// Entries keyed by an alias, for rooms matched through their own state.
    by_alias: HashMap<String, RoomConfig>,
}

impl Rooms {
    /// Resolves the aliases among the `[rooms]` keys.
    pub async fn resolve(client: &Client, config: &Config) -> Rooms {
        let mut by_id = HashMap::new();
        let mut by_alias = HashMap::new();
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
            if let Some(id) = resolve_alias(client, key).await {
                info!(alias = %key, room = %id, "[rooms] alias resolved");
                by_id.entry(id).or_insert_with(|| rc.clone());
            }
        }
        Rooms { by_id, by_alias }
    }

    /// The `[rooms]` entry for `room`, if any.
    pub fn get(&self, room: &Room) -> Option<&RoomConfig> {
        self.by_id.get(room.room_id()).or_else(|| {
            let aliases = room.canonical_alias().into_iter().chain(room.alt_aliases());
            aliases
                .into_iter()
                .find_map(|a| self.by_alias.get(a.as_str()))
        })
    }

    /// The collections `room` sees (`None`: all).
    pub fn collections(&self, room: &Room) -> Option<Vec<String>> {
        self.get(room).and_then(|r| r.collections.clone())
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
