//! The study's analyses and report: the data set as of a cut-off, every analysis over it,
//! and the self-contained HTML report, each taken by a statistician or the study director
//! and recorded as an audited output.

use analysis::analyses::{Analyses, analyse};
use analysis::dataset::{Dataset, Rules};
use analysis::source::{CutOff, StudyInfo};
use chrono::{DateTime, Utc};
use protocol::outputs::OutputKind;

use crate::Trial;
use crate::access::User;
use crate::error::{Error, Result};

/// Everything the study report shows: the study's facts, the data set and the analyses.
#[derive(Debug, Clone)]
pub struct StudyResults {
    /// Sites, users, cut-off.
    pub study: StudyInfo,
    /// The data set.
    pub dataset: Dataset,
    /// The analyses.
    pub analyses: Analyses,
}

impl Trial {
    /// The data set and the analyses as of `as_of` (now when `None`), without recording
    /// an output (for pages that show a number or two).
    pub async fn study_results(
        &self,
        user: &User,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<StudyResults> {
        user.require(OutputKind::Analysis.capability())?;
        let cut = self.cut_off(as_of).await?;
        self.results_at(&cut).await
    }

    /// The results as of a cut-off already taken.
    pub async fn results_at(&self, cut: &CutOff) -> Result<StudyResults> {
        let settings = self.settings_as_of(cut.head_seq).await?;
        let cut_off_date = self.zone().date_of(cut.as_of);
        let mut dataset = Dataset::new(Rules::from_settings(&settings, cut_off_date));
        self.participant_sources(cut, |s| {
            dataset.add(&s);
            Ok(())
        })
        .await?;
        let analyses = analyse(cut, &dataset);
        Ok(StudyResults {
            study: self.study_info(cut).await?,
            dataset,
            analyses,
        })
    }

    /// Takes an output of the results (the analyses' JSON or the report): checks the
    /// role, computes, and records the output in the audit trail.
    pub async fn take_results(
        &self,
        user: &User,
        kind: OutputKind,
        as_of: Option<DateTime<Utc>>,
        destination: &str,
    ) -> Result<StudyResults> {
        if !matches!(kind, OutputKind::Analysis | OutputKind::Report) {
            return Err(Error::BadRequest(format!(
                "{} is an export, not a result",
                kind.label()
            )));
        }
        self.require_output(user, kind)?;
        let cut = self.cut_off(as_of).await?;
        let results = self.results_at(&cut).await?;
        self.record_output(
            user,
            kind,
            &cut,
            results.dataset.participants.len(),
            destination,
        )
        .await?;
        Ok(results)
    }
}
