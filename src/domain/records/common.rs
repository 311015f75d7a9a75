//! What every record type declares the same way: the fields its structs end with, the
//! sorts every list offers, and its writes as the shared pages call them.
use std::collections::BTreeMap;

use sea_orm::DatabaseTransaction;

use crate::domain::records::{OwnedInput, Record, SortKey};
use crate::domain::{Actor, Db, FieldErrorsExt, audit, webhooks};
use crate::error::{AppError, FieldErrors};

/// Declares a record type's struct with the fields every record type's has after its own:
/// `shown` (tags, custom values and timestamps, as pages and the API show a record),
/// `input` (tags and custom values as a create takes them) or `patch` (the owner, tags
/// and custom values as a partial update takes them).
macro_rules! record_struct {
    (shown $(#[$m:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            $($own)*
            /// Tag names, alphabetical.
            #[serde(default)]
            pub tags: Vec<String>,
            /// Values of the custom fields admins defined, by key.
            #[serde(default)]
            #[schema(value_type = Object)]
            pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
            pub created_at: chrono::DateTime<chrono::Utc>,
            pub updated_at: chrono::DateTime<chrono::Utc>,
        }
    };
    (input $(#[$m:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            $($own)*
            /// Tag names; new ones are created.
            #[schema(value_type = Option<Vec<crate::domain::schema::TagName>>, max_items = 20)]
            pub tags: Option<Vec<String>>,
            /// Custom field values by key.
            #[schema(value_type = Option<Object>)]
            pub custom_fields: Option<std::collections::BTreeMap<String, serde_json::Value>>,
        }
    };
    (patch $(#[$m:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            $($own)*
            #[serde(default, deserialize_with = "crate::domain::double_option")]
            #[schema(value_type = i64, required = false)]
            pub owner_id: Option<Option<i64>>,
            /// The whole set of tag names (replaces the current ones; `[]` removes all).
            #[schema(value_type = Option<Vec<crate::domain::schema::TagName>>, max_items = 20)]
            pub tags: Option<Vec<String>>,
            /// Custom field values to change, by key (`null` clears one; others are kept).
            #[schema(value_type = Option<Object>)]
            pub custom_fields: Option<std::collections::BTreeMap<String, serde_json::Value>>,
        }

        impl crate::domain::records::SharedPatch for $name {
            fn take_shared(&mut self) -> crate::domain::records::Shared {
                (self.owner_id.take(), self.tags.take(), self.custom_fields.take())
            }
        }
    };
}

pub(crate) use record_struct;

/// The sorts by creation time every record list offers.
pub const NEWEST: SortKey = SortKey {
    key: "newest",
    label: "Newest first",
    columns: &["created_at"],
    desc: true,
};

pub const OLDEST: SortKey = SortKey {
    key: "oldest",
    label: "Oldest first",
    columns: &["created_at"],
    desc: false,
};

/// What every record's patch ends with: the owner, the tags and the custom values.
pub type Shared = (
    Option<Option<i64>>,
    Option<Vec<String>>,
    Option<BTreeMap<String, serde_json::Value>>,
);

/// A record's patch, whose shared fields `Overlay::shared` lays over the input.
pub trait SharedPatch {
    /// Its shared fields, taken out of it.
    fn take_shared(&mut self) -> Shared;
}

/// A record type's writes, for the code that adds and edits any record type.
#[allow(async_fn_in_trait)]
pub trait Writes: Record + Sized {
    type Input: OwnedInput;
    /// A partial update; an input converts to one that sets every field.
    type Patch: From<Self::Input> + SharedPatch;
    async fn create(db: &Db, actor: &Actor, input: &Self::Input) -> Result<Self, AppError>;
    async fn update(db: &Db, actor: &Actor, id: i64, patch: Self::Patch) -> Result<Self, AppError>;
}

/// Declares the `create` and `update` of the module it is used in `$record`'s writes.
macro_rules! writes {
    ($record:ident, $input:ident, $patch:ident) => {
        impl crate::domain::records::Writes for $record {
            type Input = $input;
            type Patch = $patch;

            async fn create(db: &Db, actor: &Actor, input: &$input) -> Result<$record, AppError> {
                create(db, actor, input).await
            }

            async fn update(
                db: &Db,
                actor: &Actor,
                id: i64,
                patch: $patch,
            ) -> Result<$record, AppError> {
                update(db, actor, id, patch).await
            }
        }
    };
}

pub(crate) use writes;

/// A partial update laid over a record's stored values, field by field: which fields it
/// changed, and the required ones it tried to clear (refused together at `finish`).
#[derive(Default)]
pub struct Overlay {
    pub changed: Vec<&'static str>,
    nulls: FieldErrors,
}

impl Overlay {
    /// An optional field: absent keeps it, `null` (in `value`) clears it.
    pub fn optional<T>(&mut self, field: &'static str, slot: &mut T, value: Option<T>) {
        if let Some(value) = value {
            *slot = value;
            self.changed.push(field);
        }
    }

    /// A required field: absent keeps it, `null` is refused.
    pub fn required<T, U: Into<T>>(
        &mut self,
        field: &'static str,
        slot: &mut T,
        value: Option<Option<U>>,
    ) {
        match value {
            Some(Some(value)) => {
                *slot = value.into();
                self.changed.push(field);
            }
            Some(None) => self.nulls.set(field, format!("{field} cannot be null.")),
            None => {}
        }
    }

    /// The fields every record's patch ends with: the owner (required), the whole set of
    /// tags, and the custom values to change.
    pub fn shared(&mut self, input: &mut impl OwnedInput, patch: &mut impl SharedPatch) {
        let (owner_id, tags, custom) = patch.take_shared();
        match owner_id {
            Some(Some(owner_id)) => {
                input.set_owner_id(owner_id);
                self.changed.push("owner_id");
            }
            Some(None) => self.nulls.set("owner_id", "owner_id cannot be null."),
            None => {}
        }
        if let Some(tags) = tags {
            input.set_tags(tags);
            self.changed.push("tags");
        }
        if let Some(custom) = custom {
            input.set_custom_fields(custom);
            self.changed.push("custom_fields");
        }
    }

    /// The fields changed, or the refusal naming every required field set to `null`.
    pub fn finish(self) -> Result<Vec<&'static str>, AppError> {
        if !self.nulls.is_empty() {
            return Err(AppError::validation(self.nulls));
        }
        Ok(self.changed)
    }
}

/// The end of every record update: the record read back inside `tx`, the audit row with
/// what changed since `before`, the webhook event, the commit.
pub async fn updated<R: Record + serde::Serialize>(
    db: &Db,
    tx: DatabaseTransaction,
    actor: &Actor,
    before: &R,
) -> Result<R, AppError> {
    let id = before.id();
    let after: R = super::get_in(&tx, id).await?;
    let detail = audit::changes(before, &after);
    audit::record(&tx, Some(actor), "update", R::KIND.entity, id, detail).await?;
    let hooked = webhooks::emit_about(db, &tx, R::KIND.entity, "updated", &after).await?;
    tx.commit().await?;
    webhooks::wake_if(hooked);
    Ok(after)
}
