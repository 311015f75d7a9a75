//! Who may do what: one table of role × action, which every permission check in the
//! domain, the pages' role guards and the pages' "show this button" questions consult.
//!
//! A grant is a `Scope`: `All` records, only the actor's `Own` (a record they own, an
//! entry they wrote or were assigned), or `None`. `Actor::require` asks whether a role
//! may do an action at all; `Actor::may_on` asks about one record. Who is limited
//! to their own records while "reps see only their own records" is on is the row
//! `ReadUnderOwnRecordsRule`; the filter that applies it to every read is
//! `domain::access`'s.
use crate::domain::{Actor, Role};
use crate::error::AppError;

/// Everything the code checks a role for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// See contacts, companies, deals, activities, tasks, search and exports.
    ReadRecords,
    /// What a role sees while "reps see only their own records" is on: everything, or
    /// only what they `Own` (and what hangs off it). The filter is `domain::access`'s.
    ReadUnderOwnRecordsRule,
    /// Add and change contacts, companies, deals, activities and tasks; move deals,
    /// merge records, change many at once, keep shared saved views.
    WriteRecords,
    /// Move a contact, company or deal to the trash (one, or a selection).
    DeleteRecords,
    /// Delete more than `records::bulk::REP_DELETE_MAX` records in one action.
    DeleteMany,
    /// Change or remove an activity or task: `Own` is one the actor wrote, was
    /// assigned or created.
    EditEntries,
    /// See tasks: `Own` is those assigned to or created by the actor.
    ReadTasks,
    /// Rename, merge and delete tags.
    ManageTags,
    /// See the trash and restore from it.
    RestoreTrash,
    /// Delete from the trash for good.
    PurgeTrash,
    /// Pipelines and their stages.
    ManagePipelines,
    /// Custom field definitions.
    ManageFields,
    /// Users, their roles and activation, and invitations.
    ManageUsers,
    /// Every user's API tokens: Settings → API tokens, revoking or making another's
    /// (one's own are always one's own).
    ManageTokens,
    /// Remove another user's shared saved view.
    ManageViews,
    /// Settings → Organisation: name, time zone, currency, sign-in lifetime, and the
    /// own-records and two-factor rules.
    OrgSettings,
    /// Read the audit log and set its retention.
    AuditLog,
    /// See the job queue and run failed jobs again.
    Jobs,
    /// SMTP settings, the test message, the outbox and held mail.
    EmailSettings,
    /// Outbound webhook endpoints, their delivery log, test events and redelivery.
    Webhooks,
    /// The first steps after setup (demo data, dismissing them).
    Onboarding,
    /// Web-to-lead forms and their submission logs.
    ManageForms,
    /// Settings → Integrations (the Stripe webhook's secrets and received events).
    Integrations,
    /// A person's data under the GDPR: export it all, or erase the person.
    PersonalData,
    /// Settings → Backups (the scheduled copy of a SQLite database).
    Backups,
    /// Download the whole workspace (`domain::export`): every record, whoever owns it.
    ExportWorkspace,
    /// Settings → Scoring: train the deal score now, switch an earlier model back in.
    Scoring,
    /// Settings → Monitoring: the token a Prometheus scraper reads `/metrics` with.
    Monitoring,
}

/// How far a grant reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    None,
    /// Only what the actor owns, wrote or was assigned.
    Own,
    All,
}

use Scope::{All, None as No, Own};

/// The table: for each action, the grant of admin, manager, rep and viewer, in that
/// order (`Role::ALL`'s). A `match`, so an action added without its row does not compile.
pub const fn grants(action: Action) -> [Scope; 4] {
    match action {
        // [admin, manager, rep, viewer]
        Action::ReadRecords => [All, All, All, All],
        Action::ReadUnderOwnRecordsRule => [All, All, Own, All],
        Action::WriteRecords => [All, All, All, No],
        Action::DeleteRecords => [All, All, Own, No],
        Action::DeleteMany => [All, All, No, No],
        Action::EditEntries => [All, All, Own, No],
        Action::ReadTasks => [All, All, Own, Own],
        Action::ManageTags => [All, All, No, No],
        Action::RestoreTrash => [All, All, No, No],
        Action::PurgeTrash => [All, No, No, No],
        Action::ManagePipelines => [All, No, No, No],
        Action::ManageFields => [All, No, No, No],
        Action::ManageUsers => [All, No, No, No],
        Action::ManageTokens => [All, No, No, No],
        Action::ManageViews => [All, No, No, No],
        Action::OrgSettings => [All, No, No, No],
        Action::AuditLog => [All, No, No, No],
        Action::Jobs => [All, No, No, No],
        Action::EmailSettings => [All, No, No, No],
        Action::Webhooks => [All, No, No, No],
        Action::Onboarding => [All, No, No, No],
        Action::ManageForms => [All, No, No, No],
        Action::Integrations => [All, No, No, No],
        Action::PersonalData => [All, No, No, No],
        Action::Backups => [All, No, No, No],
        Action::ExportWorkspace => [All, No, No, No],
        Action::Scoring => [All, No, No, No],
        Action::Monitoring => [All, No, No, No],
    }
}

/// What `role` is granted for `action`.
pub const fn scope(role: Role, action: Action) -> Scope {
    let index = match role {
        Role::Admin => 0,
        Role::Manager => 1,
        Role::Rep => 2,
        Role::Viewer => 3,
    };
    grants(action)[index]
}

/// Whether `role` may do `action` on at least its own records.
pub fn allows(role: Role, action: Action) -> bool {
    !matches!(scope(role, action), Scope::None)
}

/// The refusal for `role` asking for `action`, naming who may. A viewer refused
/// something reps may do is told the role is read-only.
pub fn refusal(role: Role, action: Action) -> AppError {
    let may: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| allows(*r, action))
        .collect();
    if role == Role::Viewer && may.contains(&Role::Rep) {
        return AppError::Forbidden(
            "Your role (viewer) can only read; ask an admin for write access.".into(),
        );
    }
    AppError::Forbidden(match may.as_slice() {
        [Role::Admin] => "Only admins can do this.".into(),
        [Role::Admin, Role::Manager] => "Only admins and managers can do this.".into(),
        _ => format!("Your role ({}) cannot do this.", role.as_str()),
    })
}

impl Actor {
    /// The permission check: may this actor do `action` at all (on their own records
    /// at least)? Refused with a message saying who may.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if allows(self.role, action) {
            Ok(())
        } else {
            Err(refusal(self.role, action))
        }
    }

    /// Whether this actor may do `action` at all.
    pub fn can(&self, action: Action) -> bool {
        allows(self.role, action)
    }

    /// Whether this actor may do `action` on one record; `owned` says whether it is
    /// theirs (they own it, wrote it, or were assigned it).
    pub fn may_on(&self, action: Action, owned: bool) -> bool {
        match scope(self.role, action) {
            Scope::All => true,
            Scope::Own => owned,
            Scope::None => false,
        }
    }

    /// Whether this actor's grant for `action` reaches everyone's records.
    pub fn reaches_all(&self, action: Action) -> bool {
        scope(self.role, action) == Scope::All
    }

    /// Viewers read only.
    pub fn can_write(&self) -> bool {
        self.can(Action::WriteRecords)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `web::auth` refuses every write of the API and of the record pages to a role
    /// without `WriteRecords` before reading its body: that holds only while no write
    /// is granted to a role that lacks it.
    #[test]
    fn every_write_needs_write_records() {
        use Action::*;
        let writes = [
            WriteRecords,
            DeleteRecords,
            DeleteMany,
            EditEntries,
            ManageTags,
            RestoreTrash,
            PurgeTrash,
            ManagePipelines,
            ManageFields,
            ManageUsers,
            ManageTokens,
            ManageViews,
            OrgSettings,
            Jobs,
            EmailSettings,
            Onboarding,
            PersonalData,
            Backups,
            Scoring,
            Monitoring,
        ];
        for role in Role::ALL {
            for action in writes {
                assert!(
                    !allows(role, action) || allows(role, WriteRecords),
                    "{role:?} may {action:?} but not write records"
                );
            }
        }
    }

    #[test]
    fn refusals_say_who_may() {
        let text = |role, action| refusal(role, action).to_string();
        assert_eq!(
            text(Role::Rep, Action::ManageUsers),
            "Only admins can do this."
        );
        assert_eq!(
            text(Role::Rep, Action::ManageTags),
            "Only admins and managers can do this."
        );
        assert!(text(Role::Viewer, Action::WriteRecords).contains("can only read"));
    }
}
