//! The application layer as the shells use it: the write path hands back the new state,
//! the read rows follow every write, time comes from the injected clock and is read in
//! the sites' zone, and settings that cannot be read stop the trial instead of silently
//! running on older ones.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use store::{EventMeta, NewEvent, Store};
use trial::participants::Registration;
use trial::{Actor, Error, FixedClock, Trial};

async fn trial_at(dir: &tempfile::TempDir, at: chrono::DateTime<Utc>) -> Trial {
    let store = Store::open_data_dir(dir.path()).await.expect("store");
    let trial = Trial::new(store).with_clock(Arc::new(FixedClock::new(at)));
    trial
        .add_site(
            &Actor::command_line(),
            "KS",
            "Karolinska University Hospital",
        )
        .await
        .expect("site");
    trial
}

fn registration() -> Registration {
    Registration {
        site: None,
        year_of_birth: 1970,
        sex: protocol::Sex::Female,
    }
}

#[tokio::test]
async fn the_write_path_returns_the_new_state_and_the_read_row_matches_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let trial = trial_at(&dir, at).await;
    let w = trial
        .register_as(&Actor::command_line(), "KS", &registration())
        .await
        .expect("registered");
    assert_eq!(w.study_id, "KS-001");
    assert_eq!(w.version, 1);
    assert_eq!(w.participant.state.name(), "registered");
    assert_eq!(w.appended.len(), 1);
    assert_eq!(w.events, vec![w.appended[0].kind().to_string()]);
    let row = trial.store().participant("KS-001").await.unwrap().unwrap();
    assert_eq!(row.version, 1);
    assert_eq!(row.updated_at, at, "stamped by the injected clock");
    assert_eq!(
        trial::participants::snapshot_of(&row).unwrap(),
        *w.participant,
        "the stored snapshot is the state the write returned"
    );
    let events = trial
        .store()
        .read_stream("participant/KS-001")
        .await
        .unwrap();
    assert_eq!(events[0].meta.recorded_at, at);
    // A second registration takes the next number; an unknown site is named.
    let w2 = trial
        .register_as(&Actor::command_line(), "KS", &registration())
        .await
        .unwrap();
    assert_eq!(w2.study_id, "KS-002");
    let err = trial
        .register_as(&Actor::command_line(), "XX", &registration())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(m) if m == "no site XX"));
}

#[tokio::test]
async fn today_is_the_sites_calendar_day_not_the_utc_one() {
    let dir = tempfile::tempdir().unwrap();
    // 22:30 UTC on 30 June is 00:30 on 1 July in Stockholm (CEST).
    let at = Utc.with_ymd_and_hms(2026, 6, 30, 22, 30, 0).unwrap();
    let trial = trial_at(&dir, at).await;
    assert_eq!(trial.today(), NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
    assert_eq!(trial.zone().format(trial.now()), "2026-07-01 00:30 CEST");
    let utc = trial.clone().with_zone(trial::SiteZone(chrono_tz::UTC));
    assert_eq!(utc.today(), NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
}

#[tokio::test]
async fn the_sites_zone_is_the_one_the_settings_name() {
    let dir = tempfile::tempdir().unwrap();
    // 23:30 UTC on 4 December is 00:30 on 5 December in Stockholm (CET).
    let at = Utc.with_ymd_and_hms(2026, 12, 4, 23, 30, 0).unwrap();
    let trial = trial_at(&dir, at).await;
    let settings = trial.settings().await.expect("settings");
    assert_eq!(settings.site_time_zone.name(), "Europe/Stockholm");
    assert_eq!(trial.today(), NaiveDate::from_ymd_opt(2026, 12, 5).unwrap());
    let utc = protocol::Settings {
        version: settings.version + 1,
        site_time_zone: protocol::local_time::SiteTimeZone::parse("UTC").unwrap(),
        ..settings
    };
    trial
        .change_settings(&Actor::command_line(), utc, "sites counted in UTC")
        .await
        .expect("settings change");
    trial.settings().await.expect("settings");
    assert_eq!(trial.zone().name(), "UTC");
    assert_eq!(trial.today(), NaiveDate::from_ymd_opt(2026, 12, 4).unwrap());
    // A reopened trial reads its zone from the settings at once.
    let reopened = Trial::open(trial.store().clone()).await.expect("open");
    assert_eq!(reopened.zone().name(), "UTC");
}

#[tokio::test]
async fn a_settings_event_that_cannot_be_read_stops_every_decision() {
    let dir = tempfile::tempdir().unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let trial = trial_at(&dir, at).await;
    let meta = EventMeta {
        actor: "system:test".into(),
        role: "admin".into(),
        site: None,
        recorded_at: at,
        reason: Some("a settings value written by an older program".into()),
    };
    let unreadable = NewEvent {
        kind: "settings_changed".into(),
        payload: serde_json::json!({"type": "settings_changed", "settings": {"version": "two"}}),
    };
    trial
        .store()
        .append("settings", 0, &[unreadable], &meta, &[])
        .await
        .unwrap();
    let err = trial.settings().await.unwrap_err();
    assert!(matches!(err, Error::Internal { .. }), "{err:?}");
    assert!(
        err.chain().contains("reading settings event 1"),
        "{}",
        err.chain()
    );
    let refused = trial
        .register_as(&Actor::command_line(), "KS", &registration())
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Internal { .. }));
    assert!(trial.store().participant("KS-001").await.unwrap().is_none());
}

#[tokio::test]
async fn site_codes_follow_the_protocols_rule_and_users_their_sites() {
    let dir = tempfile::tempdir().unwrap();
    let trial = trial_at(&dir, Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()).await;
    let err = trial
        .add_site(&Actor::command_line(), "ks1", "Somewhere")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused(r) if r.rule.id() == "ID_FORMAT"));
    let err = trial
        .add_user(
            &Actor::command_line(),
            trial::admin::NewUser {
                username: "anna".into(),
                display_name: "Anna".into(),
                role: trial::Role::ResearchNurse,
                site: Some("UU".into()),
                password: "long-enough-pw".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest(m) if m == "no site UU: add it first"));
}
