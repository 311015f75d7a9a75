//! `/welcome`: the first steps an admin of a new install is offered after setup and at
//! each sign-in until they are done or dismissed (domain: `onboarding`).
use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::onboarding::{self, Steps};
use crate::error::AppError;
use crate::web::auth::{Can, gate, set_flash};
use crate::web::pages::{Layout, ok, see_other};

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    l: Layout,
    steps: Steps,
    demo_contacts: u64,
    demo_deals: u64,
}

impl WelcomePage {
    fn total(&self) -> usize {
        Steps::TOTAL
    }
}

pub async fn show(
    state: web::Data<AppState>,
    user: Can<gate::Onboarding>,
) -> Result<HttpResponse, AppError> {
    ok(&WelcomePage {
        l: Layout::for_user(&user, ""),
        steps: onboarding::steps(&state.db).await?,
        demo_contacts: onboarding::DEMO_CONTACTS,
        demo_deals: onboarding::DEMO_DEALS,
    })
}

pub async fn load_demo(
    state: web::Data<AppState>,
    user: Can<gate::Onboarding>,
) -> Result<HttpResponse, AppError> {
    let seeded = onboarding::load_demo(&state.db, &user.actor).await?;
    set_flash(
        &user.session,
        format!(
            "Demo data loaded: {} contacts at {} companies, and {} deals on the board.",
            seeded.contacts,
            seeded.companies,
            onboarding::DEMO_DEALS
        ),
    );
    Ok(see_other("/welcome"))
}

pub async fn dismiss(
    state: web::Data<AppState>,
    user: Can<gate::Onboarding>,
) -> Result<HttpResponse, AppError> {
    onboarding::dismiss(&state.db, &user.actor).await?;
    set_flash(&user.session, "The first steps will not be shown again.");
    // On to where a sign-in lands.
    Ok(see_other("/"))
}
