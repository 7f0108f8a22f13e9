//! The demo's PET exams, made ahead on worker threads: each phantom is written as the
//! scanner's DICOM series, stored in the archive for its site (as the receiver stores
//! what a scanner sends) and quantified, in injection order, while the main thread
//! enters the history. The main thread waits for an exam only when its reader would
//! read it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::SiteZone;
use crate::imaging::Quantified;
use archive::Archive;
use pet::phantom::GroundTruth;
use protocol::Settings;

use super::error::{DemoError, Result};
use super::plan::PetJob;

/// A finished exam: what the phantom holds and the quantification the reader records.
pub struct Exam {
    /// The phantom's ground truth (lesion centres, in request order).
    pub truth: GroundTruth,
    /// The quantification, its administration id still to be set.
    pub quantified: Quantified,
    /// What the archive received, as a folder import's receipt (its times are set when
    /// it is recorded, at the moment of the exam).
    pub arrived: archive::Receipt,
}

type Slot = Option<std::result::Result<Exam, String>>;

/// Exams being made by worker threads.
pub struct Pipeline {
    shared: Arc<(Mutex<Vec<Slot>>, Condvar)>,
    workers: Vec<std::thread::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Pipeline {
    /// Starts `threads` workers on the `jobs` marked used (earliest injection first).
    pub fn start(
        archive: Arc<Archive>,
        jobs: Vec<(PetJob, String, bool)>,
        settings: Settings,
        zone: SiteZone,
        threads: usize,
    ) -> Pipeline {
        let n = jobs.len();
        let slots: Vec<Slot> = (0..n).map(|_| None).collect();
        let shared = Arc::new((Mutex::new(slots), Condvar::new()));
        // Only the jobs marked used, earliest injection first.
        let mut order: Vec<usize> = (0..n).filter(|&k| jobs[k].2).collect();
        order.sort_by_key(|&k| (jobs[k].0.injected_at, k));
        let (jobs, order) = (Arc::new(jobs), Arc::new(order));
        let next = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let settings = Arc::new(settings);
        let workers = (0..threads.max(1))
            .map(|_| {
                let (shared, jobs, order) = (shared.clone(), jobs.clone(), order.clone());
                let (next, stop, archive) = (next.clone(), stop.clone(), archive.clone());
                let settings = settings.clone();
                std::thread::spawn(move || {
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&job) = order.get(k) else { return };
                        let (j, site, _) = &jobs[job];
                        let result = make(&archive, j, site, &settings, zone);
                        let (lock, ready) = &*shared;
                        if let Ok(mut slots) = lock.lock() {
                            slots[job] = Some(result);
                        }
                        ready.notify_all();
                    }
                })
            })
            .collect();
        Pipeline {
            shared,
            workers,
            stop,
        }
    }

    /// Waits for exam `job` and takes it.
    pub fn take(&self, job: usize) -> Result<Exam> {
        let (lock, ready) = &*self.shared;
        let mut slots = lock
            .lock()
            .map_err(|_| DemoError("a PET worker failed".into()))?;
        loop {
            if let Some(done) = slots.get_mut(job).and_then(Option::take) {
                return done.map_err(DemoError);
            }
            slots = ready
                .wait(slots)
                .map_err(|_| DemoError("a PET worker failed".into()))?;
        }
    }

    /// Stops the workers after the exam each is making.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            let _ = w.join();
        }
    }
}

/// Simulates, archives and quantifies one exam. The slices go straight from memory into
/// the archive, each recorded as a file of a folder named after the woman and the time
/// point (`her2ex-demo/KS-001/pet1/PT000001.dcm`): the demo writes no temporary files.
fn make(
    archive: &Archive,
    job: &PetJob,
    site: &str,
    settings: &Settings,
    zone: SiteZone,
) -> std::result::Result<Exam, String> {
    let (truth, slices) = pet::phantom::phantom_slices(&job.spec)
        .map_err(|e| format!("simulating the demo PET: {e}"))?;
    let folder = std::path::Path::new("her2ex-demo")
        .join(job.spec.patient_id.as_deref().unwrap_or("unknown"))
        .join(job.timepoint.id());
    let mut files = Vec::with_capacity(slices.len());
    let mut arrived = archive::Receipt::start(
        archive::Via::FolderImport {
            folder: folder.display().to_string(),
            os_user: "her2ex demo".into(),
            files: slices.len() as u64,
        },
        site,
        archive.now(),
    );
    for (bytes, name) in slices.iter().zip(&truth.files) {
        let source = archive::Source::Folder {
            path: folder.join(name),
        };
        let stored = archive
            .store_bytes(bytes, &source, site)
            .map_err(|e| format!("archiving the demo PET: {e}"))?;
        arrived
            .counts
            .stored(stored.outcome, &stored.series_instance_uid);
        files.push(stored.path);
    }
    arrived.ended = "completed".into();
    // Read back from the archive's stored objects, as the application reads an exam; the
    // paths come from the store itself, not from a scan of the whole archive's index.
    let series = crate::imaging::StoredSeries {
        uid: &truth.series_uid,
        files: &files,
        patient_id: job.spec.patient_id.clone(),
    };
    let quantified =
        crate::imaging::quantify_stored(&series, job.timepoint, "imp-1", settings, zone)
            .map_err(|e| format!("quantifying the demo PET: {}", e.explain()))?;
    Ok(Exam {
        truth,
        quantified,
        arrived,
    })
}
