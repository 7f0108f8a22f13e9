//! The pass over a peer's change log, against a peer in memory that can stop answering
//! half-way (the real Orthanc is driven by the CLI's tests).

use std::cell::{Cell, RefCell};
use std::path::Path;

use super::orthanc::{Change, ChangesPage, SeriesInfo};
use super::*;

/// An Orthanc in memory: a change log, series, studies and files.
#[derive(Default)]
struct FakePeer {
    log: Vec<Change>,
    series: BTreeMap<String, SeriesInfo>,
    studies: BTreeMap<String, Option<String>>,
    files: BTreeMap<String, Vec<u8>>,
    /// Files fetched before the peer stops answering (`None`: it always answers).
    answers_left: Cell<Option<usize>>,
    /// Every file fetched, in order.
    fetched: RefCell<Vec<String>>,
}

impl FakePeer {
    fn change(&mut self, change_type: &str, id: &str) -> u64 {
        let seq = self.log.last().map_or(0, |c| c.seq) + 1;
        self.log.push(Change {
            change_type: change_type.into(),
            id: id.into(),
            seq,
        });
        seq
    }

    /// A stable series of `patient` with these instance files, logged as Orthanc logs it.
    fn add_series(&mut self, id: &str, modality: &str, patient: &str, files: &[Vec<u8>]) {
        self.add_unsettled_series(id, modality, patient, files);
        self.series.get_mut(id).unwrap().is_stable = true;
        self.change("StableSeries", id);
        self.change("StableStudy", &format!("{id}-0"));
    }

    /// A series whose instances arrived but that has no stability change (yet).
    fn add_unsettled_series(&mut self, id: &str, modality: &str, patient: &str, files: &[Vec<u8>]) {
        let study = format!("{id}-0");
        let instances: Vec<String> = (0..files.len()).map(|i| format!("{id}-{i:x}")).collect();
        for (i, (name, bytes)) in instances.iter().zip(files).enumerate() {
            self.files.insert(name.clone(), bytes.clone());
            self.change("NewInstance", name);
            if i == 0 {
                self.change("NewSeries", id);
                self.change("NewStudy", &study);
            }
        }
        self.series.insert(
            id.into(),
            SeriesInfo {
                modality: Some(modality.into()),
                parent_study: study.clone(),
                instances,
                is_stable: false,
            },
        );
        self.studies.insert(study, Some(patient.into()));
    }
}

impl PeerApi for FakePeer {
    fn name(&self) -> &str {
        "site-ks"
    }

    fn url(&self) -> &str {
        "http://127.0.0.1:8042"
    }

    fn changes(&self, since: u64, limit: u32) -> Result<ChangesPage, PullError> {
        let after: Vec<Change> = self.log.iter().filter(|c| c.seq > since).cloned().collect();
        let changes: Vec<Change> = after.iter().take(limit as usize).cloned().collect();
        let end = self.log.last().map_or(0, |c| c.seq);
        Ok(ChangesPage {
            done: changes.len() == after.len(),
            last: changes.last().map_or(end, |c| c.seq),
            changes,
        })
    }

    fn series(&self, id: &str) -> Result<Option<SeriesInfo>, PullError> {
        Ok(self.series.get(id).cloned())
    }

    fn study_patient_id(&self, id: &str) -> Result<Option<Option<String>>, PullError> {
        Ok(self.studies.get(id).cloned())
    }

    fn instance_file(&self, id: &str) -> Result<Option<Vec<u8>>, PullError> {
        match self.answers_left.get() {
            Some(0) => {
                return Err(PullError::at(
                    format!("{}/instances/{id}/file", self.url()),
                    PullErrorKind::Unreachable("Connection refused".into()),
                ));
            }
            Some(n) => self.answers_left.set(Some(n - 1)),
            None => {}
        }
        self.fetched.borrow_mut().push(id.to_string());
        Ok(self.files.get(id).cloned())
    }
}

/// The slices of a small phantom PET series of `patient`.
fn pet_series(seed: u64, patient: &str, slices: usize) -> Vec<Vec<u8>> {
    let spec = pet::phantom::PhantomSpec {
        dims: [12, 12, slices],
        spacing_mm: [20.0, 20.0, 20.0],
        patient_id: Some(patient.into()),
        ..pet::phantom::PhantomSpec::new(seed)
    };
    pet::phantom::phantom_slices(&spec).unwrap().1
}

/// The RT Structure Set of the IBSI reference object: DICOM, but no PET image.
fn rtstruct() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ibsi-suv-dro/DRO_0_0/RS");
    std::fs::read(dir.join("RS_dro_0_0.dcm")).unwrap()
}

fn participants() -> Participants {
    [("KS-001", "KS"), ("UU-002", "UU")]
        .into_iter()
        .map(|(id, site)| (StudyId::parse(id).unwrap(), SiteCode::parse(site).unwrap()))
        .collect()
}

fn last(peer: &FakePeer) -> u64 {
    peer.log.last().unwrap().seq
}

#[test]
fn a_pass_fetches_the_participants_pet_images_and_counts_everything_else() {
    let mut peer = FakePeer::default();
    let mut ks = pet_series(1, "KS-001", 3);
    ks.push(rtstruct());
    ks.push(b"not DICOM at all".to_vec());
    peer.add_series("aa01", "PT", "KS-001", &ks);
    peer.add_series(
        "aa02",
        "PT",
        "19850312-1231",
        &pet_series(2, "19850312-1231", 2),
    );
    peer.add_series("aa03", "CT", "KS-001", &pet_series(3, "KS-001", 2));
    peer.add_series("aa04", "PT", "UU-002", &pet_series(4, "UU-002", 2));
    // More changes than one page holds.
    for i in 0..150 {
        peer.change("NewInstance", &format!("ff{i:x}"));
    }

    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path()).unwrap();
    let mut report = PullReport::default();
    pull_from(
        &archive,
        &peer,
        &participants(),
        &Shutdown::new(),
        &mut report,
    )
    .unwrap();

    assert_eq!(report.changes, last(&peer));
    assert_eq!(report.series_fetched, 2);
    assert_eq!((report.new, report.duplicate, report.conflict), (5, 0, 0));
    assert_eq!(report.ignored_not_pet, 1, "the CT series");
    assert_eq!(
        report.ignored_unknown_patient, 1,
        "the PatientID that is no study id"
    );
    assert_eq!(report.ignored_not_pet_image, 1, "the RT structure set");
    assert_eq!(report.unfileable, 1, "the bytes that are not DICOM");
    assert_eq!(report.last_seq, last(&peer));
    // Nothing of the patient who is no participant, nor of the CT, was even downloaded.
    assert!(
        peer.fetched
            .borrow()
            .iter()
            .all(|id| id.starts_with("aa01") || id.starts_with("aa04")),
        "{:?}",
        peer.fetched.borrow()
    );

    let series = archive.series().unwrap();
    assert_eq!(series.len(), 2);
    let by_site: BTreeMap<_, _> = series
        .iter()
        .map(|s| {
            (
                s.site.clone().unwrap(),
                (s.patient_id.clone(), s.instance_count, s.is_pet),
            )
        })
        .collect();
    assert_eq!(by_site["KS"], (Some("KS-001".into()), 3, true));
    assert_eq!(by_site["UU"], (Some("UU-002".into()), 2, true));
    let sources: Vec<Source> = archive
        .instances()
        .unwrap()
        .into_iter()
        .map(|i| i.source)
        .collect();
    assert!(
        sources.iter().all(|s| matches!(
            s,
            Source::Network { calling_ae_title, peer }
                if calling_ae_title == "site-ks"
                    && peer.starts_with("http://127.0.0.1:8042/instances/aa0")
        )),
        "{sources:?}"
    );
    let state = read_state(&archive, "site-ks").unwrap().unwrap();
    assert_eq!(state.last_seq, last(&peer));
    assert!(state.unsettled.is_empty(), "{:?}", state.unsettled);

    // One receipt per site the pass brought something for: KS its three PET images and
    // the instance it could not file, UU its two; both name the pass's range and what it
    // passed over.
    let at = archive.now();
    let recorded = receipts("site-ks", peer.url(), &report, at, at, "completed");
    let by_site: BTreeMap<_, _> = recorded.iter().map(|r| (r.site.as_str(), r)).collect();
    assert_eq!(by_site.len(), 2);
    let ks = &by_site["KS"].counts;
    assert_eq!(
        (ks.new, ks.duplicate, ks.conflict, ks.refused),
        (3, 0, 0, 1)
    );
    assert_eq!(ks.series.values().copied().collect::<Vec<_>>(), vec![3]);
    let uu = &by_site["UU"].counts;
    assert_eq!((uu.new, uu.refused), (2, 0));
    assert_eq!(
        by_site["UU"].via,
        Via::Pull {
            peer_name: "site-ks".into(),
            url: peer.url().into(),
            from_seq: 0,
            to_seq: last(&peer),
            changes: last(&peer),
            ignored: 3,
            gone: 0,
        }
    );

    // The next pass has nothing to do, and asks for no file.
    let fetched = peer.fetched.borrow().len();
    let mut again = PullReport::default();
    pull_from(
        &archive,
        &peer,
        &participants(),
        &Shutdown::new(),
        &mut again,
    )
    .unwrap();
    assert_eq!((again.changes, again.series_fetched, again.new), (0, 0, 0));
    assert_eq!(peer.fetched.borrow().len(), fetched);
    // An empty poll leaves no receipt.
    assert!(receipts("site-ks", peer.url(), &again, at, at, "completed").is_empty());
    assert_eq!(again.since, last(&peer));
}

#[test]
fn a_series_cut_off_half_way_is_fetched_again_by_the_next_pass() {
    let mut peer = FakePeer::default();
    peer.add_series("bb01", "PT", "KS-001", &pet_series(5, "KS-001", 3));
    let stable = peer
        .log
        .iter()
        .find(|c| c.change_type == STABLE_SERIES)
        .unwrap()
        .seq;
    peer.answers_left.set(Some(2));

    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path()).unwrap();
    let mut report = PullReport::default();
    let e = pull_from(
        &archive,
        &peer,
        &participants(),
        &Shutdown::new(),
        &mut report,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("http://127.0.0.1:8042/instances/")
            && e.to_string().contains("Connection refused"),
        "the error names the address: {e}"
    );
    assert_eq!(report.new, 2, "what arrived is kept");
    assert_eq!(report.series_fetched, 0);
    // The position stays before the series' change: it is done again.
    assert_eq!(report.last_seq, stable - 1);
    assert_eq!(
        read_state(&archive, "site-ks").unwrap().unwrap().last_seq,
        stable - 1
    );

    peer.answers_left.set(None);
    let mut retry = PullReport::default();
    pull_from(
        &archive,
        &peer,
        &participants(),
        &Shutdown::new(),
        &mut retry,
    )
    .unwrap();
    assert_eq!(
        (retry.series_fetched, retry.new, retry.duplicate),
        (1, 1, 2)
    );
    assert_eq!(retry.last_seq, last(&peer));
    assert_eq!(archive.series().unwrap()[0].instance_count, 3);
}

#[test]
fn a_peer_whose_log_ends_before_the_stored_position_is_refused() {
    let mut peer = FakePeer::default();
    peer.add_series("cc01", "PT", "KS-001", &pet_series(6, "KS-001", 1));
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path()).unwrap();
    let mut report = PullReport::default();
    pull_from(
        &archive,
        &peer,
        &participants(),
        &Shutdown::new(),
        &mut report,
    )
    .unwrap();

    // The peer's database is replaced: its log starts again from 1.
    let mut fresh = FakePeer::default();
    fresh.change("NewInstance", "dd01");
    let e = pull_from(
        &archive,
        &fresh,
        &participants(),
        &Shutdown::new(),
        &mut report,
    )
    .unwrap_err();
    assert!(
        matches!(e.kind, PullErrorKind::LogBehind { stored, last: 1 } if stored == last(&peer)),
        "{e}"
    );
    assert!(e.to_string().contains("another --peer-name"), "{e}");
    assert_eq!(
        read_state(&archive, "site-ks").unwrap().unwrap().last_seq,
        last(&peer),
        "the stored position is kept"
    );
}

#[test]
fn a_raised_shutdown_ends_the_pass_without_losing_the_position() {
    let mut peer = FakePeer::default();
    peer.add_series("ee01", "PT", "KS-001", &pet_series(7, "KS-001", 1));
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path()).unwrap();
    let stop = Shutdown::new();
    stop.trigger();
    let mut report = PullReport::default();
    pull_from(&archive, &peer, &participants(), &stop, &mut report).unwrap();
    assert_eq!((report.changes, report.last_seq), (0, 0));
    let mut report = PullReport::default();
    pull_from(
        &archive,
        &peer,
        &participants(),
        &Shutdown::new(),
        &mut report,
    )
    .unwrap();
    assert_eq!((report.series_fetched, report.last_seq), (1, last(&peer)));
}

#[test]
fn a_series_whose_stable_change_was_lost_is_fetched_once_orthanc_reports_it_stable() {
    // Orthanc was stopped while the series arrived: no StableSeries will ever come.
    let mut peer = FakePeer::default();
    peer.add_unsettled_series("ff01", "PT", "KS-001", &pet_series(8, "KS-001", 2));
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path()).unwrap();

    // Still arriving: nothing is fetched, the series is remembered.
    let mut report = PullReport::default();
    pull_from(
        &archive,
        &peer,
        &participants(),
        &Shutdown::new(),
        &mut report,
    )
    .unwrap();
    assert_eq!(report.series_fetched, 0);
    let state = read_state(&archive, "site-ks").unwrap().unwrap();
    assert_eq!((state.last_seq, state.unsettled.len()), (last(&peer), 1));

    // After Orthanc's restart it reports the series stable: the next pass fetches it,
    // though the log has nothing new.
    peer.series.get_mut("ff01").unwrap().is_stable = true;
    let mut report = PullReport::default();
    pull_from(
        &archive,
        &peer,
        &participants(),
        &Shutdown::new(),
        &mut report,
    )
    .unwrap();
    assert_eq!(
        (report.changes, report.series_fetched, report.new),
        (0, 1, 2)
    );
    let state = read_state(&archive, "site-ks").unwrap().unwrap();
    assert!(state.unsettled.is_empty());
    assert_eq!(archive.series().unwrap()[0].instance_count, 2);
}
