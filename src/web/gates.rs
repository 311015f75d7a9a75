//! The routes a whole role is refused, known from the path alone: the settings pages and
//! the API's pipeline, stage, webhook and restore writes. A write there from a role the permission
//! table (`domain::permissions`) grants nothing is refused before the body is read, so a
//! rep's or a manager's malformed request gets the 403 a good one gets, never a 400 or
//! 422 that would say the route took them for someone allowed. The handlers still check
//! (`Can<G>`, the domain's `require`): this only moves the refusal ahead of the parsing.
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage};

use crate::domain::Action::{self, *};
use crate::web::auth::{CurrentUser, is_read};

/// Path prefixes (whole segments) and the grant every write under them needs.
const GATES: [(&str, Action); 23] = [
    ("/api/v1/pipelines", ManagePipelines),
    ("/api/v1/stages", ManagePipelines),
    ("/api/v1/webhooks", Webhooks),
    ("/settings/audit", AuditLog),
    ("/settings/backups", Backups),
    ("/settings/email", EmailSettings),
    ("/settings/export", ExportWorkspace),
    ("/settings/sign-in", OrgSettings),
    ("/settings/organisation", OrgSettings),
    ("/settings/import", OrgSettings),
    ("/settings/fields", ManageFields),
    ("/settings/forms", ManageForms),
    ("/settings/jobs", Jobs),
    ("/settings/pipelines", ManagePipelines),
    ("/settings/stages", ManagePipelines),
    ("/settings/trash", RestoreTrash),
    ("/settings/tokens", ManageTokens),
    ("/settings/tags", ManageTags),
    ("/settings/users", ManageUsers),
    ("/settings/webhooks", Webhooks),
    ("/settings/integrations", Integrations),
    ("/settings/scoring", Scoring),
    ("/settings/monitoring", Monitoring),
];

/// The grant a write to `path` needs before anything reads its body, if the path alone
/// says (record writes are decided per record, after the body, by the domain).
pub fn gate(path: &str) -> Option<Action> {
    if path.starts_with("/settings/trash/") && path.ends_with("/purge") {
        return Some(PurgeTrash);
    }
    if path.starts_with("/api/v1/") && path.ends_with("/restore") {
        return Some(RestoreTrash);
    }
    GATES
        .iter()
        .find(|(prefix, _)| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map(|(_, action)| *action)
}

/// For the settings scope: a signed-in user whose role lacks the page's grant is refused
/// a write before the form is read. The user looked up is kept for the handler; a
/// signed-out caller is left to the handler, which sends them to sign in.
pub async fn gated(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !is_read(req.method())
        && let Some(action) = gate(req.path())
        && let Ok(user) = CurrentUser::from_request(req.request(), &mut Payload::None).await
    {
        if let Err(e) = user.actor.require(action) {
            return Ok(req.error_response(e).map_into_right_body());
        }
        req.extensions_mut().insert(user);
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
