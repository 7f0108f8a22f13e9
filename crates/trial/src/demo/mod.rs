//! The demo study: a whole HER2-Ex trial to look at, built through the same write path
//! as real work (`her2ex demo`, and the tests that open its pages).
//!
//! The trial simulator generates the women (70 enrolled by default, with the screen
//! failures it takes to get there) from its shipped assumptions and a seed; [`plan`]
//! turns them into every entry of every user, dated over the fourteen months before
//! today; [`execute`] enters them through `decide` with the clock moved to each step,
//! while worker threads make each HER2-PET as a DICOM phantom with her lesions' SUVs,
//! store it in the archive and quantify it ([`pets`]).
//!
//! | module | what |
//! |---|---|
//! | [`people`] | sites and demo accounts |
//! | [`plan`] | the simulated trial as dated steps; study ids; rarer paths |
//! | [`plan_journey`] | screening, enrolment, PET1, biopsy, pathology, arm 2 |
//! | [`plan_treatment`] | arm 1: T-DXd cycles, AEs and dose rules, CT/RECIST, PET2, PET3, ends |
//! | [`plan_oversight`] | monitoring visits, queries, SDV, signatures, freeze/lock, deviations |
//! | [`pets`] | the PET exams made on worker threads |
//! | [`execute`] | the plan through the write path |

pub mod error;
pub mod execute;
pub mod people;
pub mod pets;
pub mod plan;
pub mod plan_journey;
pub mod plan_oversight;
pub mod plan_treatment;

use rand::SeedableRng;

use crate::Trial;
use crate::admin::NewUser;
pub use error::{DemoError, Result};
pub use people::{DEMO_PASSWORD, SITES, USERS};

/// The seed of the default demo.
pub const DEFAULT_SEED: u64 = 20251003;

/// How the demo goes while it is built.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// The plan is made: women screened, entries and PET exams to come.
    Planned {
        /// Women screened.
        people: usize,
        /// Entries to make.
        steps: usize,
        /// PET exams to simulate.
        pets: usize,
    },
    /// Entries made so far, and PET exams recorded.
    Entered {
        /// Entries made.
        done: usize,
        /// Entries in all.
        steps: usize,
        /// PET exams recorded.
        pets: usize,
        /// PET exams in all.
        all_pets: usize,
    },
}

/// Builds the demo in an empty store: sites, users, then the simulated trial of
/// `participants` enrolled women from `seed`, entered step by step. `clock` is the one
/// `state` reads; it is left at the present it stood at.
pub async fn build(
    state: &Trial,
    clock: &crate::FixedClock,
    seed: u64,
    participants: u32,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let present = state.now();
    let study_start = state.settings().await?.study_start;
    let calendar = plan::Calendar::new(state.zone(), present, study_start);
    // The study was set up the day before the first screening: the log stays in time
    // order, so an analysis as of any past day reads the study as it then was.
    clock.set(calendar.at(calendar.start - chrono::Duration::days(1), 8, 0));
    let result = setup_and_enter(state, clock, calendar, seed, participants, progress).await;
    clock.set(present);
    result
}

async fn setup_and_enter(
    state: &Trial,
    clock: &crate::FixedClock,
    calendar: plan::Calendar,
    seed: u64,
    participants: u32,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let cli = crate::Actor::command_line();
    for (code, name, _) in SITES {
        state.add_site(&cli, code, name).await?;
    }
    for (username, name, role, site) in USERS {
        let user = NewUser {
            username: username.into(),
            display_name: name.into(),
            role,
            site: site.map(Into::into),
            password: DEMO_PASSWORD.into(),
        };
        state.add_user(&cli, user).await?;
    }
    let assumptions = analysis::simulate::Assumptions::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let sim = analysis::simulate::simulate_trial(&assumptions, participants as usize, &mut rng);
    let plan = plan::plan(&sim, seed, calendar);
    progress(Progress::Planned {
        people: plan.people.len(),
        steps: plan.steps.len(),
        pets: plan.exams_read().len(),
    });
    execute::execute(state, clock, &plan, &mut |done, steps, pets, all_pets| {
        progress(Progress::Entered {
            done,
            steps,
            pets,
            all_pets,
        })
    })
    .await
}
