//! The simulator's speed: 1 000 virtual 70-participant trials, each analysed (ROC with
//! DeLong, the 2×2 table at SUVmax 6, kappa, log-rank), as `her2ex simulate --n 70` runs
//! them. Goal (issue 14): under 10 s on 2 cores. Run once with
//! `cargo bench -p analysis --bench simulate -- --sample-size 10`.

use analysis::simulate::{Assumptions, operating_characteristics};
use criterion::{Criterion, criterion_group, criterion_main};

fn thousand_trials_of_70(c: &mut Criterion) {
    let a = Assumptions::default();
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    g.bench_function("1000 replicates, n = 70", |b| {
        b.iter(|| operating_characteristics(&a, &[70], 1000, 20251003, &|| {}))
    });
    g.finish();
}

criterion_group!(benches, thousand_trials_of_70);
criterion_main!(benches);
