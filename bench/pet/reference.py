#!/usr/bin/env python3
"""Reference implementation of the HER2-Ex PET quantification, for benchmarking.

Same steps as `pet::series` + `pet::suv` + `pet::lesions`, written with pydicom, numpy
and scipy: read every slice, apply RescaleSlope/Intercept, body-weight SUV (QIBA
vendor-neutral calculation, DecayCorrection START, decay from the radiopharmaceutical
start to the series time), candidates = 26-connected components of SUV >= 3
(scipy.ndimage.label), and per component SUVmax, SUVpeak (1 cm3 sphere, partial voxels
weighted by 8x8x8 sub-sampling, centres restricted to the component) and MTV at 41 % of
SUVmax inside the component.

Differences from the Rust code, on purpose kept out: no physiology labels, no lesion
search inside organs, no growth of the MTV past the component for faint candidates,
so candidates are compared on SUVmax, SUVpeak and on MTV where 0.41 x SUVmax >= 3.

Usage:
  reference.py DIR [--json OUT]            quantify DIR, print a summary (and save JSON)
  reference.py --compare PY.json RUST.json  compare the two candidate lists
"""

import argparse
import datetime as dt
import json
import math
import pathlib
import sys

import numpy as np
import pydicom
from scipy import ndimage
from scipy.signal import fftconvolve

THRESHOLD = 3.0
MTV_FRACTION = 0.41
PEAK_RADIUS_MM = (3.0 * 1000.0 / (4.0 * math.pi)) ** (1.0 / 3.0)


def parse_dt(date, time):
    time = time.split(".")[0].ljust(6, "0")
    return dt.datetime.strptime(date + time, "%Y%m%d%H%M%S")


def load_suv(folder):
    files = sorted(pathlib.Path(folder).glob("*.dcm"))
    slices = []
    for f in files:
        ds = pydicom.dcmread(f)
        z = float(ds.ImagePositionPatient[2])
        bq = ds.pixel_array.astype(np.float32) * np.float32(float(ds.RescaleSlope))
        bq += np.float32(float(getattr(ds, "RescaleIntercept", 0.0)))
        slices.append((z, bq))
    slices.sort(key=lambda s: s[0])
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    rp = first.RadiopharmaceuticalInformationSequence[0]
    injection = dt.datetime.strptime(rp.RadiopharmaceuticalStartDateTime.split(".")[0], "%Y%m%d%H%M%S")
    scan = parse_dt(first.SeriesDate, first.SeriesTime)
    decay = 2.0 ** (-(scan - injection).total_seconds() / float(rp.RadionuclideHalfLife))
    factor = float(first.PatientWeight) * 1000.0 / (float(rp.RadionuclideTotalDose) * decay)
    volume = np.stack([s[1] for s in slices])  # (z, y, x)
    suv = (volume.astype(np.float64) * factor).astype(np.float32)
    dz = abs(slices[1][0] - slices[0][0]) if len(slices) > 1 else float(first.SliceThickness)
    dy, dx = (float(v) for v in first.PixelSpacing)
    return suv, (dz, dy, dx)


def sphere_kernel(spacing):
    """Fraction of each voxel inside the SUVpeak sphere, by 8 x 8 x 8 sub-sampling."""
    n = 8
    reach = [int((PEAK_RADIUS_MM + s / 2.0) // s) for s in spacing]
    sub = (np.arange(n) + 0.5) / n - 0.5
    axes = [np.add.outer(np.arange(-r, r + 1), sub).ravel() * s for r, s in zip(reach, spacing)]
    z, y, x = np.meshgrid(*axes, indexing="ij")
    inside = (x * x + y * y + z * z) <= PEAK_RADIUS_MM**2
    shape = [2 * r + 1 for r in reach]
    inside = inside.reshape(shape[0], n, shape[1], n, shape[2], n)
    return inside.mean(axis=(1, 3, 5)), reach


def quantify(suv, spacing):
    voxel_ml = spacing[0] * spacing[1] * spacing[2] / 1000.0
    labels, count = ndimage.label(suv >= THRESHOLD, structure=np.ones((3, 3, 3), dtype=bool))
    kernel, reach = sphere_kernel(spacing)
    out = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        comp = labels[box] == index
        values = suv[box]
        flat = np.where(comp, values, -np.inf)
        arg = np.unravel_index(np.argmax(flat), flat.shape)
        suv_max = float(values[arg])
        mtv = comp & (values >= np.float32(MTV_FRACTION) * np.float32(suv_max))
        # SUVpeak: weighted sphere means on a crop padded by the kernel's reach.
        lo = [max(0, b.start - r) for b, r in zip(box, reach)]
        hi = [min(n, b.stop + r) for b, r, n in zip(box, reach, suv.shape)]
        crop = suv[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]].astype(np.float64)
        weights = np.ones_like(crop)
        sums = fftconvolve(crop, kernel[::-1, ::-1, ::-1], mode="same")
        norms = fftconvolve(weights, kernel[::-1, ::-1, ::-1], mode="same")
        means = sums / norms
        offs = [b.start - l for b, l in zip(box, lo)]
        inner = means[offs[0] : offs[0] + comp.shape[0], offs[1] : offs[1] + comp.shape[1], offs[2] : offs[2] + comp.shape[2]]
        suv_peak = float(np.max(np.where(comp, inner, -np.inf)))
        zc, yc, xc = (int(a + b.start) for a, b in zip(arg, box))
        out.append(
            {
                "max_voxel": [xc, yc, zc],
                "suv_max": suv_max,
                "suv_peak": suv_peak,
                "mtv_ml": float(mtv.sum()) * voxel_ml,
                "component_voxels": int(comp.sum()),
            }
        )
    return out


def compare(py_path, rust_path):
    """Matches candidates by the voxel of SUVmax and prints the largest differences.

    Candidates the Rust code finds inside the liver or spleen have no component of their
    own here, and Rust drops candidates whose MTV is under 0.5 mL, so counts differ; the
    numbers of matched candidates must agree to float32 precision.
    """
    py = json.loads(pathlib.Path(py_path).read_text())
    rust = json.loads(pathlib.Path(rust_path).read_text())
    by_voxel = {tuple(c["max_voxel"]): c for c in py}
    shared = {}
    for lesion in rust:
        key = tuple(lesion["max_voxel"])
        shared[key] = shared.get(key, 0) + 1
    worst = {"suv_max": 0.0, "suv_peak": 0.0, "mtv_ml": 0.0}
    matched = 0
    for lesion in rust:
        key = tuple(lesion["max_voxel"])
        c = by_voxel.get(key)
        if c is None:
            continue
        matched += 1
        worst["suv_max"] = max(worst["suv_max"], abs(c["suv_max"] - lesion["suv_max"]) / c["suv_max"])
        if shared[key] > 1 and lesion["physiological"] is None:
            continue  # a lesion found inside an organ: its region is not a whole component
        worst["suv_peak"] = max(worst["suv_peak"], abs(c["suv_peak"] - lesion["suv_peak"]) / c["suv_peak"])
        if MTV_FRACTION * c["suv_max"] >= THRESHOLD:
            worst["mtv_ml"] = max(worst["mtv_ml"], abs(c["mtv_ml"] - lesion["mtv_ml"]) / c["mtv_ml"])
    print(f"candidates: python {len(py)} components, rust {len(rust)} candidates, matched by SUVmax voxel {matched}")
    print("largest relative differences on matched candidates: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    agree = worst["suv_max"] < 1e-5 and worst["suv_peak"] < 1e-5 and worst["mtv_ml"] < 1e-9
    print("AGREE" if agree else "DIFFER")
    return 0 if agree else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?")
    parser.add_argument("--json")
    parser.add_argument("--compare", nargs=2, metavar=("PY_JSON", "RUST_JSON"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    suv, spacing = load_suv(args.dir)
    found = quantify(suv, spacing)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(found, indent=1))
    print(f"{suv.size} voxels, {len(found)} components >= {THRESHOLD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
