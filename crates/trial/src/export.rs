//! Exports as use cases: the data manager or the statistician takes the casebook as a
//! CDISC ODM 1.3.2 file or as SDTM-like CSV datasets, as of a data cut-off.
//!
//! Each export checks the user's capability first, takes the cut-off, streams the
//! participants one at a time through the pure writers of [`analysis::export`] and, once
//! the output is complete, records it as an audited output (who, what, cut-off, chain
//! head, how many participants, where it went). A failed export is not recorded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use analysis::export::sdtm::{DATASETS, write_define};
use analysis::export::{ExportError, OdmWriter, SdtmFiles, SdtmWriter};
use analysis::source::CutOff;
use chrono::{DateTime, Utc};
use protocol::outputs::OutputKind;

use crate::Trial;
use crate::access::User;
use crate::error::{Error, Result};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// The cut-off it rests on.
    pub cut: CutOff,
    /// Participants written.
    pub participants: usize,
    /// ODM: `ItemData` elements; SDTM: rows over all datasets.
    pub data: usize,
    /// The files written (SDTM: one per dataset and `define.csv`).
    pub files: Vec<PathBuf>,
}

fn export_error(e: ExportError) -> Error {
    Error::internal("writing the export", e)
}

impl Trial {
    /// Writes the ODM 1.3.2 snapshot as of `as_of` (now when `None`) into `w`, calls
    /// `progress` with the number of participants written so far, and records the output
    /// (`destination` says where it went, e.g. the file name).
    pub async fn export_odm<W: Write>(
        &self,
        user: &User,
        as_of: Option<DateTime<Utc>>,
        w: W,
        destination: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<(W, ExportSummary)> {
        self.require_output(user, OutputKind::OdmExport)?;
        let cut = self.cut_off(as_of).await?;
        let info = self.study_info(&cut).await?;
        let mut odm = OdmWriter::new(w, &info).map_err(export_error)?;
        let n = self
            .participant_sources(&cut, |src| {
                odm.participant(&src).map_err(export_error)?;
                progress(odm.counts().participants);
                Ok(())
            })
            .await?;
        let data = odm.counts().data;
        let w = odm.finish().map_err(export_error)?;
        self.record_output(user, OutputKind::OdmExport, &cut, n, destination)
            .await?;
        let summary = ExportSummary {
            cut,
            participants: n,
            data,
            files: vec![PathBuf::from(destination)],
        };
        Ok((w, summary))
    }

    /// Writes the SDTM-like datasets and `define.csv` as of `as_of` into `dir` (created
    /// when missing), calls `progress` per participant, and records the output.
    pub async fn export_sdtm(
        &self,
        user: &User,
        as_of: Option<DateTime<Utc>>,
        dir: &Path,
        mut progress: impl FnMut(usize),
    ) -> Result<ExportSummary> {
        self.require_output(user, OutputKind::SdtmExport)?;
        let cut = self.cut_off(as_of).await?;
        let info = self.study_info(&cut).await?;
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::internal(format!("creating {}", dir.display()), e))?;
        let mut paths: Vec<PathBuf> = DATASETS.iter().map(|d| dir.join(d.file_name())).collect();
        let [dm, ae, tu, tr, rs, ec, dv] = open_all(&paths)?;
        let files = SdtmFiles {
            dm,
            ae,
            tu,
            tr,
            rs,
            ec,
            dv,
        };
        let mut sdtm = SdtmWriter::new(files, &info).map_err(export_error)?;
        let n = self
            .participant_sources(&cut, |src| {
                sdtm.participant(&src).map_err(export_error)?;
                progress(sdtm.counts().participants);
                Ok(())
            })
            .await?;
        let data = sdtm.counts().data;
        sdtm.finish().map_err(export_error)?;
        let define = dir.join("define.csv");
        let mut w = create(&define)?;
        write_define(&mut w).map_err(|e| Error::internal("writing define.csv", e))?;
        paths.push(define);
        let destination = dir.display().to_string();
        self.record_output(user, OutputKind::SdtmExport, &cut, n, &destination)
            .await?;
        Ok(ExportSummary {
            cut,
            participants: n,
            data,
            files: paths,
        })
    }
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| Error::internal(format!("creating {}", path.display()), e))
}

/// Opens the seven dataset files in the order of [`DATASETS`].
fn open_all(paths: &[PathBuf]) -> Result<[BufWriter<File>; 7]> {
    let files = paths
        .iter()
        .map(|p| create(p))
        .collect::<Result<Vec<_>>>()?;
    files
        .try_into()
        .map_err(|_| Error::internal("opening the datasets", "expected seven dataset files"))
}

impl Trial {
    /// The account an operator at the command line exports as: it must exist, be active
    /// and not locked, and its role decides what it may take (the audited output names
    /// it).
    pub async fn account_user(&self, username: &str) -> Result<User> {
        let row = self
            .store()
            .user(username)
            .await?
            .filter(|u| u.active && !u.locked)
            .ok_or_else(|| Error::NotFound(format!("no active account {username}")))?;
        let role = crate::roles::Role::parse(&row.role).ok_or_else(|| {
            Error::internal(
                format!("reading the account {username}"),
                format!("unknown role {}", row.role),
            )
        })?;
        Ok(User {
            username: row.username,
            display_name: row.display_name,
            role,
            site: row.site,
            client_address: None,
        })
    }
}
