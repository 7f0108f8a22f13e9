//! The work list page: what the signed-in user's role has to do now, grouped by kind,
//! each item linking to the page where it is done ([`trial::Trial::work_list`]).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use trial::Capability;
use trial::worklist::{WorkItem, WorkList};

use super::{page, page_try};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/work", get(show))
}

async fn show(State(state): State<AppState>, PageUser(user): PageUser) -> Response {
    let list = page_try!(state.trial.work_list(&user).await);
    page("Work", &user, body(&user, &list))
}

fn body(user: &CurrentUser, list: &WorkList) -> Markup {
    let mut groups: Vec<(&'static str, Vec<&WorkItem>)> = Vec::new();
    for item in &list.items {
        let heading = item.kind.heading();
        match groups.last_mut() {
            Some((h, items)) if *h == heading => items.push(item),
            _ => groups.push((heading, vec![item])),
        }
    }
    html! {
        h1 { "Work · " (user.role.label()) @if let Some(site) = &list.site { " at " (site) } }
        @if user.role.may(Capability::EnterData) {
            p { a.button href="/participants/new" { "Register a participant" } }
        }
        @if groups.is_empty() {
            p.muted #no-work { "Nothing waits for you now." }
        }
        @for (heading, items) in &groups {
            section.work {
                h2 { (heading) " " span.muted { "(" (items.len()) ")" } }
                div.table-scroll {
                    table.work-list {
                        thead { tr { th { "Participant" } th { "Site" } th { "To do" } th { "Waiting since" } } }
                        tbody {
                            @for i in items {
                                tr data-kind=(serde_json::to_value(i.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) data-participant=(i.study_id) {
                                    td { a href={ "/participants/" (i.study_id) } { (i.study_id) } }
                                    td { (i.site) }
                                    td { a href=(i.link) { (i.what) } }
                                    td { @if let Some(t) = i.since { (user.local_time(t)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href="/participants" { "Every participant" } " · " a href="/queries" { "Every query" } " · " a href="/visits" { "Visits" } }
    }
}
