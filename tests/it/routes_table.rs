//! Every route of `src/web/mod.rs` with the permission it needs (`domain::permissions`),
//! the record its `{…}` names and a minimal request, for `routes_access`. A route added to
//! the route table without a line here fails `every_route_has_an_entry`.
use cairn::domain::Action;

/// What a route asks of the caller.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// Anyone, signed in or not (sign-in, setup, links sent by email, assets, redirects).
    Public,
    /// Any signed-in user (their own account, their own saved views, My tasks).
    SignedIn,
    /// A role granted `Action` at all.
    Can(Action),
    /// A role granted `Action` on everyone's records: the fixture is someone else's.
    Others(Action),
}

/// What fills the path's `{…}` (or, for a list of one record's entries, what its query
/// names): records of `Fixtures` (made per role), or a value that names nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fx {
    None,
    /// Another rep's contact, company, deal; their task and an activity on their contact.
    Contact,
    Company,
    Deal,
    Task,
    Activity,
    /// Another rep's records that the route removes (delete, merge away), so the records
    /// above stay for the routes that read them.
    DoomedContact,
    DoomedCompany,
    DoomedDeal,
    DoomedTask,
    DoomedActivity,
    /// Another rep's contact and company that a merge takes away.
    MergedContact,
    MergedCompany,
    /// Trashed contact, company, deal (restore, purge).
    TrashedContact,
    TrashedCompany,
    TrashedDeal,
    Pipeline,
    Stage,
    DoomedStage,
    Field,
    DoomedField,
    /// A web form, and one a route removes.
    Form,
    DoomedForm,
    Tag,
    User,
    Invite,
    /// A shared saved view an admin made.
    View,
    /// Another user's API token.
    Token,
    /// An id nothing has (the route answers 404 to whoever may call it).
    Missing,
    /// A secret of an emailed link that was never sent.
    Secret,
    /// A static asset's name.
    Asset,
}

impl Fx {
    /// Whether the path names a record another rep owns (or hangs off one): with "reps
    /// see only their own records" on, a rep is answered 404 there.
    pub fn is_others_record(self) -> bool {
        use Fx::*;
        matches!(
            self,
            Contact
                | Company
                | Deal
                | Task
                | Activity
                | DoomedContact
                | DoomedCompany
                | DoomedDeal
                | DoomedTask
                | DoomedActivity
                | MergedContact
                | MergedCompany
        )
    }
}

pub struct Route {
    pub method: &'static str,
    /// Exactly as the route table spells it.
    pub path: &'static str,
    pub need: Need,
    pub fx: Fx,
    /// A form or JSON body for writes, a query string for reads; `$contact`, `$stage`,
    /// `$n` (unique), `$me` (the caller's email) … are filled in (`routes_access::fill`).
    pub body: &'static str,
}

impl Route {
    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/v1/")
    }

    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

const fn r(
    method: &'static str,
    path: &'static str,
    need: Need,
    fx: Fx,
    body: &'static str,
) -> Route {
    Route {
        method,
        path,
        need,
        fx,
        body,
    }
}

use Action::*;
use Fx::{
    Activity, Asset, Company, Contact, Deal, DoomedActivity, DoomedCompany, DoomedContact,
    DoomedDeal, DoomedField, DoomedForm, DoomedStage, DoomedTask, Field, Form, Invite, Missing,
    Pipeline, Secret, Stage, Tag, Task, Token, TrashedCompany, TrashedContact, TrashedDeal, User,
    View,
};
use Need::{Can, Others, Public, SignedIn};
const NO: Fx = Fx::None;

const CONTACT_JSON: &str =
    r#"{"first_name":"New","last_name":"Person $n","email":"new$n@example.com"}"#;
const BULK_JSON: &str = r#"{"action":"tag","tag":"bulk$n","ids":[$contact]}"#;
const BULK_COMPANY_JSON: &str = r#"{"action":"tag","tag":"bulk$n","ids":[$company]}"#;
const STAGE_JSON: &str = r#"{"name":"Stage $n","probability":10,"kind":"open"}"#;

/// Run in this order; the last line signs the caller out.
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    // The JSON API.
    r("GET", "/api/v1/contacts", Can(ReadRecords), NO, ""),
    r("POST", "/api/v1/contacts", Can(WriteRecords), NO, CONTACT_JSON),
    r("POST", "/api/v1/contacts/bulk", Can(WriteRecords), NO, BULK_JSON),
    r("GET", "/api/v1/contacts/{id}", Can(ReadRecords), Contact, ""),
    r("PATCH", "/api/v1/contacts/{id}", Can(WriteRecords), Contact, r#"{"title":"Buyer"}"#),
    r("POST", "/api/v1/contacts/{id}/merge", Can(WriteRecords), Contact, r#"{"merge_id":$merged_contact}"#),
    r("DELETE", "/api/v1/contacts/{id}", Others(DeleteRecords), DoomedContact, ""),
    r("GET", "/api/v1/contacts/{id}/personal-data", Can(PersonalData), Contact, ""),
    // Erasing is checked on a missing id here (the role is refused before the lookup);
    // `gdpr_erase` erases real people.
    r("POST", "/api/v1/contacts/{id}/erase", Can(PersonalData), Missing, ""),
    r("GET", "/api/v1/pipelines", Can(ReadRecords), NO, ""),
    r("POST", "/api/v1/pipelines", Can(ManagePipelines), NO, r#"{"name":"Pipeline $n"}"#),
    r("PATCH", "/api/v1/pipelines/{id}", Can(ManagePipelines), Pipeline, r#"{"name":"Renamed $n"}"#),
    r("POST", "/api/v1/pipelines/{id}/stages", Can(ManagePipelines), Pipeline, STAGE_JSON),
    r("POST", "/api/v1/stages/{id}/reorder", Can(ManagePipelines), Stage, r#"{"direction":"down"}"#),
    r("PATCH", "/api/v1/stages/{id}", Can(ManagePipelines), Stage, STAGE_JSON),
    r("DELETE", "/api/v1/stages/{id}", Can(ManagePipelines), DoomedStage, ""),
    r("GET", "/api/v1/webhooks", Can(Webhooks), NO, ""),
    r("POST", "/api/v1/webhooks", Can(Webhooks), NO, r#"{"url":"","events":["contact.created"]}"#),
    r("GET", "/api/v1/webhooks/{id}", Can(Webhooks), Missing, ""),
    r("PATCH", "/api/v1/webhooks/{id}", Can(Webhooks), Missing, r#"{"url":""}"#),
    r("DELETE", "/api/v1/webhooks/{id}", Can(Webhooks), Missing, ""),
    r("POST", "/api/v1/webhooks/{id}/enable", Can(Webhooks), Missing, ""),
    r("POST", "/api/v1/webhooks/{id}/test", Can(Webhooks), Missing, ""),
    r("GET", "/api/v1/webhooks/{id}/deliveries", Can(Webhooks), Missing, ""),
    r("POST", "/api/v1/webhooks/deliveries/{id}/redeliver", Can(Webhooks), Missing, ""),
    r("GET", "/api/v1/deals", Can(ReadRecords), NO, ""),
    r("POST", "/api/v1/deals", Can(WriteRecords), NO, r#"{"title":"Deal $n","amount":100}"#),
    r("POST", "/api/v1/contacts/{id}/restore", Can(RestoreTrash), TrashedContact, ""),
    r("POST", "/api/v1/companies/{id}/restore", Can(RestoreTrash), TrashedCompany, ""),
    r("POST", "/api/v1/deals/{id}/restore", Can(RestoreTrash), TrashedDeal, ""),
    r("POST", "/api/v1/deals/{id}/move", Can(WriteRecords), Deal, r#"{"stage_id":$stage,"version":1}"#),
    r("GET", "/api/v1/deals/{id}/stage-changes", Can(ReadRecords), Deal, ""),
    r("GET", "/api/v1/deals/{id}", Can(ReadRecords), Deal, ""),
    r("PATCH", "/api/v1/deals/{id}", Can(WriteRecords), Deal, r#"{"title":"Renamed $n"}"#),
    r("DELETE", "/api/v1/deals/{id}", Others(DeleteRecords), DoomedDeal, ""),
    r("GET", "/api/v1/activities", Can(ReadRecords), Contact, "contact_id=$contact"),
    r("POST", "/api/v1/activities", Can(WriteRecords), NO, r#"{"kind":"note","body":"Note $n","contact_id":$contact}"#),
    r("PATCH", "/api/v1/activities/{id}", Others(EditEntries), Activity, r#"{"body":"Edited $n"}"#),
    r("DELETE", "/api/v1/activities/{id}", Others(EditEntries), DoomedActivity, ""),
    r("GET", "/api/v1/tasks", Can(ReadTasks), NO, ""),
    r("POST", "/api/v1/tasks", Can(WriteRecords), NO, r#"{"title":"Task $n"}"#),
    r("GET", "/api/v1/tasks/{id}", Can(ReadTasks), Task, ""),
    r("PATCH", "/api/v1/tasks/{id}", Others(EditEntries), Task, r#"{"title":"Edited $n"}"#),
    r("DELETE", "/api/v1/tasks/{id}", Others(EditEntries), DoomedTask, ""),
    r("GET", "/api/v1/activities/{id}/revisions", Can(ReadRecords), Activity, ""),
    r("GET", "/api/v1/audit", Can(AuditLog), NO, ""),
    r("GET", "/api/v1/scoring/models", Can(ReadRecords), NO, ""),
    r("GET", "/api/v1/export", Can(ExportWorkspace), NO, ""),
    r("GET", "/api/v1/dashboard", Can(ReadRecords), NO, ""),
    r("GET", "/api/v1/reports/funnel", Can(ReadRecords), NO, "days=30"),
    r("GET", "/api/v1/reports/pipeline", Can(ReadRecords), NO, "days=30"),
    r("GET", "/api/v1/reports/win-rate", Can(ReadRecords), NO, "days=30"),
    r("GET", "/api/v1/reports/velocity", Can(ReadRecords), NO, "days=30"),
    r("GET", "/api/v1/reports/forecast", Can(ReadRecords), NO, "days=30"),
    r("GET", "/api/v1/reports/activity", Can(ReadRecords), NO, "days=30"),
    r("GET", "/api/v1/reports/revenue", Can(ReadRecords), NO, "days=30"),
    r("GET", "/api/v1/search", Can(ReadRecords), NO, "q=Olive"),
    r("GET", "/api/v1/companies", Can(ReadRecords), NO, ""),
    r("POST", "/api/v1/companies", Can(WriteRecords), NO, r#"{"name":"Company $n"}"#),
    r("POST", "/api/v1/companies/bulk", Can(WriteRecords), NO, BULK_COMPANY_JSON),
    r("GET", "/api/v1/companies/{id}", Can(ReadRecords), Company, ""),
    r("PATCH", "/api/v1/companies/{id}", Can(WriteRecords), Company, r#"{"website":"https://example.com"}"#),
    r("POST", "/api/v1/companies/{id}/merge", Can(WriteRecords), Company, r#"{"merge_id":$merged_company}"#),
    r("DELETE", "/api/v1/companies/{id}", Others(DeleteRecords), DoomedCompany, ""),
    // Contacts.
    r("GET", "/contacts", Can(ReadRecords), NO, ""),
    r("POST", "/contacts", Can(WriteRecords), NO, "first_name=New&last_name=Person+$n"),
    r("GET", "/contacts/new", Can(WriteRecords), NO, ""),
    r("GET", "/contacts/export.csv", Can(ReadRecords), NO, ""),
    r("POST", "/contacts/bulk", Can(WriteRecords), NO, "action=tag&tag=bulk$n&scope=selected&ids=$contact"),
    r("GET", "/contacts/{id}", Can(ReadRecords), Contact, ""),
    r("POST", "/contacts/{id}", Can(WriteRecords), Contact, "first_name=Olive&last_name=Edited"),
    r("GET", "/contacts/{id}/edit", Can(WriteRecords), Contact, ""),
    r("GET", "/contacts/{id}/merge", Can(WriteRecords), Contact, ""),
    r("POST", "/contacts/{id}/merge", Can(WriteRecords), Contact, "with=$merged_contact"),
    r("GET", "/contacts/{id}/delete", Others(DeleteRecords), Contact, ""),
    r("DELETE", "/contacts/{id}", Others(DeleteRecords), DoomedContact, ""),
    r("POST", "/contacts/{id}/delete", Others(DeleteRecords), DoomedContact, ""),
    r("GET", "/contacts/{id}/personal-data", Can(PersonalData), Contact, ""),
    r("GET", "/contacts/{id}/erase", Can(PersonalData), Contact, ""),
    r("POST", "/contacts/{id}/erase", Can(PersonalData), Missing, "confirm=erase"),
    // Companies.
    r("GET", "/companies", Can(ReadRecords), NO, ""),
    r("POST", "/companies", Can(WriteRecords), NO, "name=Company+$n"),
    r("GET", "/companies/new", Can(WriteRecords), NO, ""),
    r("GET", "/companies/export.csv", Can(ReadRecords), NO, ""),
    r("POST", "/companies/bulk", Can(WriteRecords), NO, "action=tag&tag=bulk$n&scope=selected&ids=$company"),
    r("GET", "/companies/{id}", Can(ReadRecords), Company, ""),
    r("POST", "/companies/{id}", Can(WriteRecords), Company, "name=Olive+Works+$n"),
    r("GET", "/companies/{id}/edit", Can(WriteRecords), Company, ""),
    r("GET", "/companies/{id}/merge", Can(WriteRecords), Company, ""),
    r("POST", "/companies/{id}/merge", Can(WriteRecords), Company, "with=$merged_company"),
    r("GET", "/companies/{id}/delete", Others(DeleteRecords), Company, ""),
    r("POST", "/companies/{id}/delete", Others(DeleteRecords), DoomedCompany, ""),
    // Deals.
    r("GET", "/deals", Can(ReadRecords), NO, ""),
    r("POST", "/deals", Can(WriteRecords), NO, "title=Deal+$n&amount=100"),
    r("GET", "/deals/new", Can(WriteRecords), NO, ""),
    r("GET", "/deals/list", Can(ReadRecords), NO, ""),
    r("GET", "/deals/options", Can(ReadRecords), NO, "pipeline=$pipeline"),
    r("GET", "/deals/column/{stage}", Can(ReadRecords), Stage, ""),
    r("GET", "/deals/{id}", Can(ReadRecords), Deal, ""),
    r("POST", "/deals/{id}", Can(WriteRecords), Deal, "title=Renamed+$n&amount=100&version=1"),
    r("GET", "/deals/{id}/edit", Can(WriteRecords), Deal, ""),
    r("POST", "/deals/{id}/move", Can(WriteRecords), Deal, "stage_id=$stage&version=1"),
    r("POST", "/deals/{id}/delete", Others(DeleteRecords), DoomedDeal, ""),
    // Tasks.
    r("GET", "/tasks", Can(ReadTasks), NO, ""),
    r("POST", "/tasks", Can(WriteRecords), NO, "title=Task+$n"),
    r("GET", "/tasks/done", Can(ReadTasks), NO, ""),
    r("GET", "/tasks/more", Can(ReadTasks), NO, ""),
    r("POST", "/tasks/{id}", Others(EditEntries), Task, "title=Edited+$n"),
    r("GET", "/tasks/{id}/edit", Others(EditEntries), Task, ""),
    r("GET", "/tasks/{id}/notes", Can(ReadTasks), Task, ""),
    r("POST", "/tasks/{id}/done", Others(EditEntries), Task, "done=true"),
    r("POST", "/tasks/{id}/delete", Others(EditEntries), DoomedTask, ""),
    r("GET", "/static/{name}", Public, Asset, ""),
    // Activities.
    r("GET", "/activities", Can(ReadRecords), Contact, "contact_id=$contact"),
    r("POST", "/activities", Can(WriteRecords), NO, "kind=note&body=Note+$n&contact_id=$contact"),
    r("GET", "/activities/{id}", Can(ReadRecords), Activity, ""),
    r("POST", "/activities/{id}", Others(EditEntries), Activity, "body=Edited+$n&version=1"),
    r("GET", "/activities/{id}/edit", Others(EditEntries), Activity, ""),
    r("GET", "/activities/{id}/history", Can(ReadRecords), Activity, ""),
    r("POST", "/activities/{id}/delete", Others(EditEntries), DoomedActivity, ""),
    // Pickers, search, saved views.
    r("GET", "/pick/options", Can(ReadRecords), NO, "kind=contact&q=Olive"),
    r("GET", "/pick/contact", Can(ReadRecords), NO, "contact_id=$contact"),
    r("GET", "/search", Can(ReadRecords), NO, "q=Olive"),
    r("GET", "/reports/funnel", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/funnel.csv", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/pipeline", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/pipeline.csv", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/win-rate", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/win-rate.csv", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/velocity", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/velocity.csv", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/forecast", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/forecast.csv", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/activity", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/activity.csv", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/revenue", Can(ReadRecords), NO, "days=30"),
    r("GET", "/reports/revenue.csv", Can(ReadRecords), NO, "days=30"),
    r("POST", "/views", SignedIn, NO, "list=contacts&name=Mine+$n&query=sort%3Dname"),
    r("POST", "/views/default", SignedIn, NO, "list=contacts&view="),
    r("POST", "/views/{id}/delete", Others(ManageViews), View, ""),
    // Outside any sign-in.
    r("GET", "/healthz", Public, NO, ""),
    // Its token is not a session's: refused (401) to anyone without it, tested in `metrics`.
    r("GET", "/metrics", Public, NO, ""),
    r("POST", "/webhooks/stripe", Public, NO, "{}"),
    r("GET", "/api/openapi.json", Public, NO, ""),
    r("GET", "/", Can(ReadRecords), NO, ""),
    r("GET", "/favicon.ico", Public, NO, ""),
    r("GET", "/login", Public, NO, ""),
    r("POST", "/login", Public, NO, "email=$me&password=$password"),
    // No provider is set up: the start is refused, and so is a callback nobody began.
    r("GET", "/login/sso", Public, NO, ""),
    r("GET", "/login/sso/callback", Public, NO, "state=forged&code=forged"),
    r("GET", "/invite/{secret}", Public, Secret, ""),
    r("POST", "/invite/{secret}", Public, Secret, "name=Someone&password=a+long+enough+password"),
    r("GET", "/password/forgot", Public, NO, ""),
    r("POST", "/password/forgot", Public, NO, "email=$me"),
    r("GET", "/password/reset/{secret}", Public, Secret, ""),
    r("POST", "/password/reset/{secret}", Public, Secret, "password=a+long+enough+password"),
    r("GET", "/login/two-factor", Public, NO, ""),
    r("POST", "/login/two-factor", Public, NO, "code=000000"),
    r("POST", "/f/{key}", Public, Missing, "email=a%40example.com"),
    r("OPTIONS", "/f/{key}", Public, Missing, ""),
    r("GET", "/setup", Public, NO, ""),
    r("POST", "/setup", Public, NO, "email=late@example.com&name=Late&password=a+long+enough+password&password_confirm=a+long+enough+password"),
    // First steps after setup.
    r("GET", "/welcome", Can(Onboarding), NO, ""),
    r("POST", "/welcome/dismiss", Can(Onboarding), NO, ""),
    // The caller's own account.
    r("GET", "/account", SignedIn, NO, ""),
    r("POST", "/account/password", SignedIn, NO, "current_password=wrong&new_password=&new_password_confirm="),
    r("POST", "/account/notifications", SignedIn, NO, ""),
    r("POST", "/account/time-zone", SignedIn, NO, "time_zone=Europe%2FParis"),
    r("POST", "/account/sessions/{id}/end", SignedIn, Missing, ""),
    r("POST", "/account/sessions/end-others", SignedIn, NO, ""),
    r("POST", "/account/tokens", SignedIn, NO, "name=Token+$n"),
    r("POST", "/account/tokens/{id}/revoke", Others(ManageTokens), Token, ""),
    r("GET", "/account/two-factor", SignedIn, NO, ""),
    r("POST", "/account/two-factor", SignedIn, NO, ""),
    r("POST", "/account/two-factor/confirm", SignedIn, NO, "code=000000"),
    r("POST", "/account/two-factor/disable", SignedIn, NO, "password=wrong"),
    // Settings.
    r("GET", "/settings", Public, NO, ""),
    r("GET", "/settings/audit", Can(AuditLog), NO, ""),
    r("POST", "/settings/audit/retention", Can(AuditLog), NO, "days=400"),
    r("GET", "/settings/backups", Can(Backups), NO, ""),
    r("GET", "/settings/monitoring", Can(Monitoring), NO, ""),
    r("POST", "/settings/monitoring/token", Can(Monitoring), NO, ""),
    r("POST", "/settings/monitoring/token/revoke", Can(Monitoring), NO, ""),
    r("GET", "/settings/scoring", Can(Scoring), NO, ""),
    r("POST", "/settings/scoring/train", Can(Scoring), NO, ""),
    r("POST", "/settings/scoring/features", Can(Scoring), NO, ""),
    r("POST", "/settings/scoring/horizon", Can(Scoring), NO, "horizon_days=90"),
    r("POST", "/settings/scoring/{kind}/{version}/activate", Can(Scoring), Missing, ""),
    r("POST", "/settings/backups", Can(Backups), NO, "time=02:00&keep=3&folder="),
    r("GET", "/settings/email", Can(EmailSettings), NO, ""),
    r("GET", "/settings/export", Can(ExportWorkspace), NO, ""),
    r("POST", "/settings/export", Can(ExportWorkspace), NO, ""),
    // Not multipart: the upload is refused as unreadable (400), after the grant.
    r("GET", "/settings/import", Can(OrgSettings), NO, ""),
    r("POST", "/settings/import", Can(OrgSettings), NO, ""),
    r("GET", "/settings/import/{id}", Can(OrgSettings), Missing, ""),
    r("POST", "/settings/import/{id}/mapping", Can(OrgSettings), Missing, ""),
    r("POST", "/settings/import/{id}/dry-run", Can(OrgSettings), Missing, ""),
    r("POST", "/settings/import/{id}/start", Can(OrgSettings), Missing, ""),
    r("GET", "/settings/import/{id}/progress", Can(OrgSettings), Missing, ""),
    r("POST", "/settings/import/{id}/undo", Can(OrgSettings), Missing, ""),
    r("POST", "/settings/email", Can(EmailSettings), NO, "host=&port=587&from=crm%40example.com"),
    r("POST", "/settings/email/test", Can(EmailSettings), NO, ""),
    r("POST", "/settings/email/release-held", Can(EmailSettings), NO, ""),
    r("GET", "/settings/email/outbox/{id}", Can(EmailSettings), Missing, ""),
    r("GET", "/settings/fields", Can(ManageFields), NO, ""),
    r("POST", "/settings/fields", Can(ManageFields), NO, "entity=contact&label=Field+$n&kind=text"),
    r("POST", "/settings/fields/{id}", Can(ManageFields), Field, "label=Renamed+$n"),
    r("GET", "/settings/fields/{id}/edit", Can(ManageFields), Field, ""),
    r("POST", "/settings/fields/{id}/delete", Can(ManageFields), DoomedField, ""),
    r("GET", "/settings/forms", Can(ManageForms), NO, ""),
    r("POST", "/settings/forms", Can(ManageForms), NO, "name=Form+$n&source=organic"),
    r("GET", "/settings/forms/new", Can(ManageForms), NO, ""),
    r("GET", "/settings/forms/{id}", Can(ManageForms), Form, ""),
    r("POST", "/settings/forms/{id}", Can(ManageForms), Form, "name=Renamed+$n&source=organic"),
    r("GET", "/settings/forms/{id}/submissions", Can(ManageForms), Form, ""),
    r("POST", "/settings/forms/{id}/delete", Can(ManageForms), DoomedForm, ""),
    r("GET", "/settings/integrations", Public, NO, ""),
    r("GET", "/settings/integrations/stripe", Can(Integrations), NO, ""),
    r("POST", "/settings/integrations/stripe/secret", Can(Integrations), NO, "secret=whsec_route_$n"),
    r("POST", "/settings/integrations/stripe/secret/previous/delete", Can(Integrations), NO, ""),
    r("POST", "/settings/integrations/stripe/retention", Can(Integrations), NO, "retention_days=90"),
    r("POST", "/settings/integrations/stripe/events/{id}/reprocess", Can(Integrations), Missing, ""),
    r("GET", "/settings/jobs", Can(Jobs), NO, ""),
    r("POST", "/settings/jobs/retry-dead", Can(Jobs), NO, ""),
    r("POST", "/settings/jobs/{id}/retry", Can(Jobs), Missing, ""),
    // An empty name is refused, so the rules in force stay as the test set them.
    r("GET", "/settings/organisation", Can(OrgSettings), NO, ""),
    r("POST", "/settings/organisation", Can(OrgSettings), NO, "name=&time_zone=UTC&currency=USD&session_days=14"),
    // An empty form keeps single sign-on off.
    r("GET", "/settings/sign-in", Can(OrgSettings), NO, ""),
    r("POST", "/settings/sign-in", Can(OrgSettings), NO, ""),
    // An empty URL is refused, so no endpoint is made for the other routes' writes.
    r("GET", "/settings/webhooks", Can(Webhooks), NO, ""),
    r("POST", "/settings/webhooks", Can(Webhooks), NO, "url=&kind=json&events=contact.created"),
    r("GET", "/settings/webhooks/new", Can(Webhooks), NO, ""),
    r("GET", "/settings/webhooks/{id}", Can(Webhooks), Missing, ""),
    r("POST", "/settings/webhooks/{id}", Can(Webhooks), Missing, "url=&kind=json"),
    r("POST", "/settings/webhooks/{id}/delete", Can(Webhooks), Missing, ""),
    r("POST", "/settings/webhooks/{id}/enable", Can(Webhooks), Missing, ""),
    r("POST", "/settings/webhooks/{id}/test", Can(Webhooks), Missing, ""),
    r("POST", "/settings/webhooks/deliveries/{id}/redeliver", Can(Webhooks), Missing, ""),
    r("GET", "/settings/tokens", Can(ManageTokens), NO, ""),
    r("POST", "/settings/tokens/{id}/revoke", Others(ManageTokens), Token, ""),
    r("GET", "/settings/pipelines", Can(ManagePipelines), NO, ""),
    r("POST", "/settings/pipelines", Can(ManagePipelines), NO, "name=Pipeline+$n"),
    r("POST", "/settings/pipelines/{id}", Can(ManagePipelines), Pipeline, "name=Renamed+$n"),
    r("POST", "/settings/pipelines/{id}/stages", Can(ManagePipelines), Pipeline, "name=Stage+$n&probability=10&kind=open"),
    r("POST", "/settings/stages/{id}", Can(ManagePipelines), Stage, "name=Stage+$n&probability=20&kind=open"),
    r("POST", "/settings/stages/{id}/reorder", Can(ManagePipelines), Stage, "direction=down"),
    r("POST", "/settings/stages/{id}/delete", Can(ManagePipelines), DoomedStage, ""),
    r("GET", "/settings/trash", Can(RestoreTrash), NO, ""),
    r("POST", "/settings/trash/{kind}/{id}/restore", Can(RestoreTrash), TrashedContact, ""),
    r("POST", "/settings/trash/{kind}/{id}/purge", Can(PurgeTrash), TrashedContact, ""),
    r("GET", "/settings/tags", Can(ManageTags), NO, ""),
    r("POST", "/settings/tags/{id}", Can(ManageTags), Tag, "name=renamed$n"),
    r("POST", "/settings/tags/{id}/merge", Can(ManageTags), Tag, "into=$tag"),
    r("POST", "/settings/tags/{id}/delete", Can(ManageTags), Tag, ""),
    r("GET", "/settings/users", Can(ManageUsers), NO, ""),
    r("POST", "/settings/users", Can(ManageUsers), NO, "email=made$n%40example.com&name=Made&password=a+long+enough+password&role=rep"),
    r("POST", "/settings/users/invites", Can(ManageUsers), NO, "email=invited$n%40example.com&role=rep"),
    r("POST", "/settings/users/invites/{id}/resend", Can(ManageUsers), Invite, ""),
    r("POST", "/settings/users/invites/{id}/revoke", Can(ManageUsers), Invite, ""),
    r("POST", "/settings/users/{id}/role", Can(ManageUsers), User, "role=manager"),
    r("POST", "/settings/users/{id}/deactivate", Can(ManageUsers), User, ""),
    r("POST", "/settings/users/{id}/activate", Can(ManageUsers), User, ""),
    // The fixture user has no two-factor: an admin is answered 409, others 403.
    r("POST", "/settings/users/{id}/two-factor/reset", Can(ManageUsers), User, ""),
    // Loads demo records: after every other route, so they see the fixtures alone.
    r("POST", "/welcome/demo", Can(Onboarding), NO, ""),
    // Last: it ends the caller's session.
    r("POST", "/logout", Public, NO, ""),
];

/// The (method, path) pairs `src/web/mod.rs` declares, read from its text: every
/// `web::resource("…")` with its `.get(…)`/`.post(…)`… and every `.route("…", web::get()…)`,
/// under the `web::scope("…")` that holds it.
pub fn declared() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/mod.rs"))
        .expect("read src/web/mod.rs");
    let body = &text[text.find("pub fn routes(").expect("fn routes")..];
    let code: String = body
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let string_at = |at: usize| -> String { code[at..].split('"').next().unwrap().to_string() };
    let (mut depth, mut scopes, mut resource) = (0usize, Vec::<(String, usize)>::new(), None);
    let mut found = Vec::new();
    let prefix =
        |scopes: &Vec<(String, usize)>| scopes.last().map(|s| s.0.clone()).unwrap_or_default();
    for (i, c) in code.char_indices() {
        let rest = &code[i..];
        if let Some(p) = rest.strip_prefix("web::scope(\"") {
            scopes.push((string_at(code.len() - p.len()), depth));
        } else if let Some(p) = rest.strip_prefix("web::resource(\"") {
            resource = Some((string_at(code.len() - p.len()), depth));
        } else if let Some(p) = rest.strip_prefix(".route(\"") {
            let path = string_at(code.len() - p.len());
            let after = &p[path.len()..];
            // `web::get()`, or `web::method(Method::OPTIONS)` for methods without one.
            let method = after
                .strip_prefix("\",web::")
                .and_then(|m| match m.strip_prefix("method(Method::") {
                    Some(named) => named.split(')').next(),
                    None => m.split("()").next(),
                })
                .expect("a .route(path, web::METHOD()…)");
            found.push((method.to_uppercase(), format!("{}{path}", prefix(&scopes))));
        } else if let Some((path, d)) = &resource
            && depth == *d
        {
            for m in ["get", "post", "put", "patch", "delete"] {
                if rest.starts_with(&format!(".{m}(")) {
                    found.push((m.to_uppercase(), format!("{}{path}", prefix(&scopes))));
                }
            }
        }
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if scopes.last().is_some_and(|s| depth < s.1) {
                    scopes.pop();
                }
                if resource.as_ref().is_some_and(|r| depth < r.1) {
                    resource = None;
                }
            }
            _ => {}
        }
    }
    found
}
