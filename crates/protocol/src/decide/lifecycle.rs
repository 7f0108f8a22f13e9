//! Registration, consent, withdrawal, enrolment, screen failure, death, loss to follow-up.

use chrono::Datelike;

use super::{Dc, required};
use crate::command::{
    Enrol, RecordConsent, RecordDeath, RecordLostToFollowUp, RegisterParticipant, ScreenFail,
    WithdrawConsent,
};
use crate::eligibility::{Overall, evaluate_eligibility};
use crate::event::Event;
use crate::ids::{SiteCode, StudyId};
use crate::participant::{Consent, Withdrawal};
use crate::rule::{Refusal, Rule};

pub(super) fn register(ctx: &Dc, c: &RegisterParticipant) -> Result<Vec<Event>, Refusal> {
    let site = SiteCode::parse(&c.site)?;
    let id = StudyId::parse(&c.study_id)?;
    if id.site() != &site {
        return Err(Refusal::new(
            Rule::ID_FORMAT,
            format!("Study id {id} does not belong to site {}.", site.as_str()),
        ));
    }
    let this_year = ctx.now.year();
    if c.year_of_birth < 1900 || c.year_of_birth > this_year {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!(
                "Year of birth {} is not possible (1900–{this_year}).",
                c.year_of_birth
            ),
        ));
    }
    Ok(vec![Event::ParticipantRegistered {
        site: site.as_str().to_owned(),
        study_id: id.to_string(),
        year_of_birth: c.year_of_birth,
        sex: c.sex,
        registered_at: ctx.now,
    }])
}

pub(super) fn consent(ctx: &Dc, c: &RecordConsent) -> Result<Vec<Event>, Refusal> {
    required("form_version", &c.form_version)?;
    ctx.not_future("signed_at", c.signed_at)?;
    if ctx.day(c.signed_at) < ctx.s.study_start {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!(
                "Consent dated {} is before the study started ({}).",
                ctx.day(c.signed_at),
                ctx.s.study_start
            ),
        ));
    }
    if let Some(prev) = ctx.p.consent()
        && c.signed_at <= prev.signed_at
    {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!(
                "A re-consent must be signed after the current consent ({}).",
                ctx.s.local_text(prev.signed_at)
            ),
        ));
    }
    let yob = ctx.p.year_of_birth.unwrap_or(c.signed_at.year());
    let diff = u32::try_from(c.signed_at.year() - yob).unwrap_or(0);
    // Born in year Y, on a day in year C she is C − Y after her birthday, else one less.
    let (age_min, age_max) = (diff.saturating_sub(1), diff);
    if let Some(age) = c.age_at_consent
        && (age < age_min || age > age_max)
    {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!(
                "Age {age} at consent does not fit year of birth {yob} and consent in {} (must be {age_min} or {age_max}).",
                c.signed_at.year()
            ),
        ));
    }
    Ok(vec![Event::ConsentRecorded {
        consent: Consent {
            form_version: c.form_version.trim().to_owned(),
            signed_at: c.signed_at,
            age_at_consent: c.age_at_consent,
            age_min,
            age_max,
        },
        recorded_at: ctx.now,
    }])
}

pub(super) fn withdraw(ctx: &Dc, c: &WithdrawConsent) -> Result<Vec<Event>, Refusal> {
    ctx.not_future("withdrawn_at", c.withdrawn_at)?;
    let Some(first) = ctx.p.first_consent() else {
        return Err(Refusal::new(
            Rule::STATE_TRANSITION,
            "There is no consent to withdraw.",
        ));
    };
    if c.withdrawn_at < first.signed_at {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            "Consent cannot be withdrawn before it was signed.",
        ));
    }
    Ok(vec![Event::ConsentWithdrawn {
        withdrawal: Withdrawal {
            withdrawn_at: c.withdrawn_at,
            reason: c.reason.trim().to_owned(),
        },
        recorded_at: ctx.now,
    }])
}

fn ids(rules: &[Rule]) -> String {
    rules.iter().map(|r| r.id()).collect::<Vec<_>>().join(", ")
}

pub(super) fn enrol(ctx: &Dc, c: &Enrol) -> Result<Vec<Event>, Refusal> {
    ctx.signature(&c.signature)?;
    let report = evaluate_eligibility(ctx.p, ctx.now, ctx.s);
    if report.overall != Overall::Eligible {
        let failed = report.failed();
        let missing = report.missing();
        let mut msg = String::from("Enrolment needs an eligible result.");
        if !failed.is_empty() {
            msg.push_str(&format!(" Not satisfied: {}.", ids(&failed)));
        }
        if !missing.is_empty() {
            msg.push_str(&format!(" Missing data: {}.", ids(&missing)));
        }
        let hint = if failed.is_empty() {
            "Record the missing data, then sign again."
        } else {
            "The participant is not eligible; record a screen failure."
        };
        return Err(Refusal::new(Rule::ELIGIBILITY, msg).with_hint(hint));
    }
    Ok(vec![Event::Enrolled {
        enrolled_at: ctx.now,
        signature: c.signature.clone(),
        eligibility: report,
        settings_version: ctx.s.version,
    }])
}

pub(super) fn screen_fail(ctx: &Dc, c: &ScreenFail) -> Result<Vec<Event>, Refusal> {
    required("reason", &c.reason)?;
    let report = evaluate_eligibility(ctx.p, ctx.now, ctx.s);
    Ok(vec![Event::ScreenFailed {
        recorded_at: ctx.now,
        reason: c.reason.trim().to_owned(),
        failed_criteria: report.failed().iter().map(|r| r.id().to_owned()).collect(),
        eligibility: report,
        settings_version: ctx.s.version,
    }])
}

/// Records a death, also after participation ended (off study or lost to follow-up):
/// survival is analysed (PROTOCOL §13). The date can be neither before consent nor
/// before the last contact the record already holds (`VALUE_IMPOSSIBLE`).
pub(super) fn death(ctx: &Dc, c: &RecordDeath) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("died_on", c.died_on)?;
    let alive = [
        ctx.p
            .first_consent()
            .map(|k| (ctx.day(k.signed_at), "she signed the informed consent")),
        ctx.p
            .off_study
            .as_ref()
            .map(|e| (e.ended_on, "her last study contact (end of participation)")),
        ctx.p
            .last_contact_on
            .map(|d| (d, "her last contact before she was lost to follow-up")),
    ];
    if let Some((d, what)) = alive.into_iter().flatten().find(|(d, _)| c.died_on < *d) {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!("Death on {} is before {d}, when {what}.", c.died_on),
        ));
    }
    Ok(vec![Event::Died {
        died_on: c.died_on,
        cause: c.cause.clone(),
        recorded_at: ctx.now,
    }])
}

pub(super) fn lost(ctx: &Dc, c: &RecordLostToFollowUp) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("last_contact_on", c.last_contact_on)?;
    Ok(vec![Event::LostToFollowUp {
        last_contact_on: c.last_contact_on,
        note: c.note.clone(),
        recorded_at: ctx.now,
    }])
}
