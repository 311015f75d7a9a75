//! HubSpot's exports: display labels as headers (`Record ID`, `First Name`), owners by
//! name (`Contact owner`), associations as `;`-separated id lists, UTF-8 with a BOM, and
//! dates in the portal's time zone. Labels are matched in any case: HubSpot has changed
//! their capitals over the years ("Phone Number", "Phone number").
use super::{field, norm};
use crate::domain::import::{ObjectKind, Target};

pub fn target(kind: ObjectKind, header: &str) -> Option<Target> {
    use ObjectKind as K;
    let h = norm(header);
    // "Associated Company IDs (Primary)" is the first of "Associated Company IDs".
    let ids = h.strip_prefix("associated").and_then(|r| {
        r.strip_suffix("ids")
            .or_else(|| r.strip_suffix("idsprimary"))
    });
    if let Some(other) = ids {
        return linked(other).map(|k| {
            if h.ends_with("primary") {
                Target::LinkId(k)
            } else {
                Target::LinkIds(k)
            }
        });
    }
    match (kind, h.as_str()) {
        (_, "recordid") => Some(Target::SourceId),
        (_, "primaryassociatedcompanyid") => Some(Target::LinkId(K::Company)),
        (
            _,
            "contactowner" | "companyowner" | "dealowner" | "activityassignedto" | "assignedto"
            | "taskowner",
        ) => Some(Target::Owner),
        (_, "createdate") => field("created_at"),
        (K::Contact, "firstname") => field("first_name"),
        (K::Contact, "lastname") => field("last_name"),
        (K::Contact, "email") => field("email"),
        (K::Contact, "phonenumber" | "mobilephonenumber") => field("phone"),
        (K::Contact, "jobtitle") => field("title"),
        (K::Contact, "associatedcompany" | "companyname") => Some(Target::LinkName(K::Company)),
        (K::Company, "companyname" | "name") => field("name"),
        (K::Company, "companydomainname") => field("domain"),
        (K::Company, "websiteurl") => field("website"),
        (K::Company, "phonenumber") => field("phone"),
        (K::Company, "industry") => field("industry"),
        (K::Company, "numberofemployees") => field("size_band"),
        (K::Company, "streetaddress" | "city" | "postalcode" | "stateregion" | "countryregion") => {
            field("address")
        }
        (K::Deal, "dealname") => field("title"),
        (K::Deal, "associatedcompany") => Some(Target::LinkName(K::Company)),
        (K::Deal, "amount") => field("amount"),
        (K::Deal, "currency") => field("currency"),
        (K::Deal, "pipeline") => field("pipeline"),
        (K::Deal, "dealstage") => field("stage"),
        (K::Deal, "closedate") => field("expected_close"),
        (K::Deal, "dealprobability") => field("probability"),
        (K::Deal, "closedlostreason") => field("lost_reason"),
        (K::Deal, "isclosedwon") => field("won"),
        (K::Deal, "isdealclosed" | "isclosed") => field("closed"),
        (K::Company, "description") | (K::Deal, "dealdescription") => {
            Some(Target::NewCustom("Description".into()))
        }
        (K::Task, "tasktitle" | "title") => field("title"),
        (K::Task, "notes" | "tasknotes") => field("notes"),
        (K::Task, "duedate") => field("due_at"),
        (K::Task, "priority") => field("priority"),
        (K::Task, "taskstatus") => field("done"),
        (K::Task, "tasktype") => field("kind"),
        (
            K::Activity,
            "notebody" | "callnotes" | "meetingdescription" | "emailbody" | "calltitle"
            | "meetingname",
        ) => field("body"),
        (K::Activity, "emailsubject") => field("body"),
        (K::Activity, "activitydate" | "meetingstarttime") => field("occurred_at"),
        (K::Activity, "activitytype" | "engagementtype") => field("kind"),
        _ => None,
    }
}

fn linked(object: &str) -> Option<ObjectKind> {
    match object {
        "company" => Some(ObjectKind::Company),
        "contact" => Some(ObjectKind::Contact),
        "deal" => Some(ObjectKind::Deal),
        _ => None,
    }
}

pub fn kind(headers: &[String]) -> Option<ObjectKind> {
    let has = |name: &str| headers.iter().any(|h| norm(h) == name);
    if has("dealname") || has("dealstage") {
        Some(ObjectKind::Deal)
    } else if has("tasktitle") {
        Some(ObjectKind::Task)
    } else if has("notebody") || has("callnotes") || has("meetingname") {
        Some(ObjectKind::Activity)
    } else if has("companydomainname") || has("companyowner") {
        Some(ObjectKind::Company)
    } else if has("firstname") || has("contactowner") || has("email") {
        Some(ObjectKind::Contact)
    } else {
        None
    }
}
