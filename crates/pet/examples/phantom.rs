//! Writes a phantom: `cargo run -p pet --example phantom -- OUT_DIR [SEED] [bench|demo]`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: phantom OUT_DIR [SEED] [bench|demo]")?;
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let spec = match args.next().as_deref() {
        Some("bench") => pet::phantom::PhantomSpec::bench(seed),
        Some("demo") => pet::phantom::PhantomSpec::demo(seed),
        _ => pet::phantom::PhantomSpec::new(seed),
    };
    let started = std::time::Instant::now();
    let truth = pet::phantom::write_phantom_with(std::path::Path::new(&out), &spec)?;
    println!(
        "{} files, {} lesions, SUV per Bq/mL {}, written in {:.3} s",
        truth.files.len(),
        truth.lesions.len(),
        truth.suv_per_bqml,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
