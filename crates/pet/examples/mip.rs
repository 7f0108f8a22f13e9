//! Detects lesions in a phantom and draws its MIP: `cargo run -p pet --example mip -- SEED OUT.png`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let out = args.next().unwrap_or_else(|| "mip.png".into());
    let (suv, _) = pet::phantom::simulate(&pet::phantom::PhantomSpec::new(seed))?;
    let lesions = pet::lesions::detect(&suv, &pet::lesions::LesionParams::default());
    let markers: Vec<_> = lesions.iter().map(|l| (l.id, l.centroid_mm)).collect();
    std::fs::write(&out, pet::mip::coronal_mip_png(&suv, &markers, 10.0))?;
    for l in &lesions {
        println!("{:>2} {:?} SUVmax {:.1}", l.id, l.physiological, l.suv_max);
    }
    Ok(())
}
