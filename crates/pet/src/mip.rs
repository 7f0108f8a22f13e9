//! Coronal maximum-intensity projection (MIP) as a PNG, with numbered lesion markers.
//!
//! The projection runs along the grid axis closest to the patient's antero-posterior
//! direction. The picture is seen from the front as nuclear-medicine readers do: the
//! patient's right on the left of the image, head at the top. Grey scale is inverted
//! (SUV 0 white, `max_suv` and above black). Pixels are square: the MIP is resampled
//! (nearest neighbour) to a pixel size no larger than the finest of the two in-plane
//! spacings and small enough that the image is at least 800 pixels tall, so anatomy keeps
//! its proportions whatever the voxel shape. Markers are red rings at lesion centroids
//! with their number drawn in a 3 × 5 bitmap font.

use crate::volume::Volume;
use rayon::prelude::*;

/// 3 × 5 bitmap digits, one byte per row, the three low bits left to right.
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

const MARKER: [u8; 3] = [220, 20, 20];
const MIN_HEIGHT_PX: f64 = 800.0;

/// An RGB picture under construction.
struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn set(&mut self, x: i64, y: i64, colour: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            let at = 3 * (y as usize * self.width + x as usize);
            self.rgb[at..at + 3].copy_from_slice(&colour);
        }
    }

    fn ring(&mut self, cx: i64, cy: i64, radius: i64) {
        for dy in -radius - 1..=radius + 1 {
            for dx in -radius - 1..=radius + 1 {
                let d2 = dx * dx + dy * dy;
                if d2 <= radius * radius && d2 >= (radius - 2) * (radius - 2) {
                    self.set(cx + dx, cy + dy, MARKER);
                }
            }
        }
    }

    /// Draws `number` with its top-left corner at (x, y), each font pixel `scale` wide,
    /// on a white box so it stays readable over dark uptake.
    fn number(&mut self, x: i64, y: i64, number: u32, scale: i64) {
        let text = number.to_string();
        let w = text.len() as i64 * 4 * scale + scale;
        for dy in -scale..6 * scale {
            for dx in -scale..w {
                self.set(x + dx, y + dy, [255, 255, 255]);
            }
        }
        for (n, ch) in text.bytes().enumerate() {
            let glyph = DIGITS[usize::from(ch - b'0')];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..3 {
                    if bits & (0b100 >> col) != 0 {
                        for sy in 0..scale {
                            for sx in 0..scale {
                                let px = x + (n as i64 * 4 + col) * scale + sx;
                                self.set(px, y + row as i64 * scale + sy, MARKER);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The grid axes closest to patient x (left), y (posterior) and z (superior).
fn patient_axes(direction: &[[f64; 3]; 3]) -> [usize; 3] {
    let closest = |c: usize| {
        (0..3)
            .max_by(|&a, &b| direction[a][c].abs().total_cmp(&direction[b][c].abs()))
            .unwrap_or(c)
    };
    let axes = [closest(0), closest(1), closest(2)];
    if axes[0] != axes[1] && axes[1] != axes[2] && axes[0] != axes[2] {
        axes
    } else {
        [0, 1, 2]
    }
}

/// Coronal MIP of `suv` as PNG bytes, grey inverted from 0 to `max_suv`, with a numbered
/// marker at each `(id, centroid_mm)`. An empty or inconsistent volume gives a 1 × 1
/// white picture.
pub fn coronal_mip_png(suv: &Volume, markers: &[(u32, [f64; 3])], max_suv: f32) -> Vec<u8> {
    let canvas = render(suv, markers, max_suv).unwrap_or(Canvas {
        width: 1,
        height: 1,
        rgb: vec![255; 3],
    });
    encode(&canvas)
}

/// Where a coronal MIP's grid axes land in its picture, and the picture's size.
struct Geometry {
    /// Grid axes closest to patient left-right, antero-posterior and head-feet.
    axes: [usize; 3],
    /// Voxels along the horizontal and vertical axes.
    nh: usize,
    nv: usize,
    /// The picture's size in pixels.
    width: usize,
    height: usize,
    /// Whether the horizontal and vertical axes run against the picture's.
    flip_h: bool,
    flip_v: bool,
    /// Pixels per font pixel of the marker numbers (and a quarter of a ring's radius).
    font: i64,
}

fn geometry(suv: &Volume) -> Option<Geometry> {
    let dims = suv.dims;
    if suv.data.is_empty() || suv.data.len() != dims.iter().product::<usize>() {
        return None;
    }
    let axes = patient_axes(&suv.direction);
    let [ax_h, _, ax_v] = axes;
    let (nh, nv) = (dims[ax_h], dims[ax_v]);
    let (sh, sv) = (suv.spacing_mm[ax_h], suv.spacing_mm[ax_v]);
    if !(sh > 0.0 && sv > 0.0) {
        return None;
    }
    let px = sh.min(sv).min(nv as f64 * sv / MIN_HEIGHT_PX);
    let width = ((nh as f64 * sh / px).round() as usize).clamp(1, 8192);
    let height = ((nv as f64 * sv / px).round() as usize).clamp(1, 8192);
    Some(Geometry {
        axes,
        nh,
        nv,
        width,
        height,
        // Patient right on the image left; head at the top.
        flip_h: suv.direction[ax_h][0] < 0.0,
        flip_v: suv.direction[ax_v][2] > 0.0,
        font: ((height as f64 / 400.0).round() as i64).max(2),
    })
}

impl Geometry {
    /// The pixel of a patient position, and the radius of its marker ring.
    fn marker(&self, suv: &Volume, mm: [f64; 3]) -> Option<(i64, i64, i64)> {
        let ix = to_index(suv, mm)?;
        let to_px = |index: f64, n: usize, out: usize, flip: bool| {
            let f = (index + 0.5) / n as f64;
            let f = if flip { 1.0 - f } else { f };
            (f * out as f64).floor() as i64
        };
        let [ax_h, _, ax_v] = self.axes;
        let cx = to_px(ix[ax_h], self.nh, self.width, self.flip_h);
        let cy = to_px(ix[ax_v], self.nv, self.height, self.flip_v);
        Some((cx, cy, 4 * self.font))
    }
}

/// Where the numbered markers of [`coronal_mip_png`] sit in its picture: what a page
/// needs to draw over the picture (to highlight one candidate) without decoding it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MipLayout {
    /// The picture's width in pixels.
    pub width: u32,
    /// The picture's height in pixels.
    pub height: u32,
    /// The markers, in the order given.
    pub markers: Vec<MipMarker>,
}

/// One numbered marker ring of a MIP picture, in pixels from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MipMarker {
    /// The candidate's number.
    pub number: u32,
    /// Centre, pixels from the left.
    pub x: i64,
    /// Centre, pixels from the top.
    pub y: i64,
    /// Radius of the ring, pixels.
    pub radius: i64,
}

/// The layout of the picture [`coronal_mip_png`] draws for the same volume and markers
/// (none for the 1 × 1 picture of an empty or inconsistent volume). A marker outside the
/// volume's grid lies outside the picture, where its ring is clipped away.
pub fn coronal_mip_layout(suv: &Volume, markers: &[(u32, [f64; 3])]) -> Option<MipLayout> {
    let g = geometry(suv)?;
    Some(MipLayout {
        width: u32::try_from(g.width).ok()?,
        height: u32::try_from(g.height).ok()?,
        markers: markers
            .iter()
            .filter_map(|&(number, mm)| {
                let (x, y, radius) = g.marker(suv, mm)?;
                Some(MipMarker {
                    number,
                    x,
                    y,
                    radius,
                })
            })
            .collect(),
    })
}

fn render(suv: &Volume, markers: &[(u32, [f64; 3])], max_suv: f32) -> Option<Canvas> {
    let g = geometry(suv)?;
    let dims = suv.dims;
    let [ax_h, ax_p, ax_v] = g.axes;
    let (nh, nv, width, height) = (g.nh, g.nv, g.width, g.height);
    let stride = [1, dims[0], dims[0] * dims[1]];
    // Projection: for every (h, v) the maximum along the AP axis; rows of v in parallel.
    let mip: Vec<f32> = (0..nv)
        .into_par_iter()
        .flat_map_iter(|v| {
            (0..nh).map(move |h| {
                (0..dims[ax_p])
                    .map(|p| suv.data[h * stride[ax_h] + v * stride[ax_v] + p * stride[ax_p]])
                    .fold(f32::NEG_INFINITY, f32::max)
            })
        })
        .collect();
    let (flip_h, flip_v) = (g.flip_h, g.flip_v);
    let scale = if max_suv.is_finite() && max_suv > 0.0 {
        max_suv
    } else {
        10.0
    };
    let mut canvas = Canvas {
        width,
        height,
        rgb: vec![0; width * height * 3],
    };
    canvas
        .rgb
        .par_chunks_mut(width * 3)
        .enumerate()
        .for_each(|(y, row)| {
            let v = ((y as f64 + 0.5) * nv as f64 / height as f64) as usize;
            let v = if flip_v {
                nv - 1 - v.min(nv - 1)
            } else {
                v.min(nv - 1)
            };
            for x in 0..width {
                let h = (((x as f64 + 0.5) * nh as f64 / width as f64) as usize).min(nh - 1);
                let h = if flip_h { nh - 1 - h } else { h };
                let value = mip[v * nh + h];
                let level = if value.is_finite() {
                    (value / scale).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let grey = 255 - (level * 255.0).round() as u8;
                row[3 * x..3 * x + 3].copy_from_slice(&[grey; 3]);
            }
        });
    let font = g.font;
    for &(id, mm) in markers {
        let Some((cx, cy, radius)) = g.marker(suv, mm) else {
            continue;
        };
        canvas.ring(cx, cy, radius);
        canvas.number(cx + radius + font, cy - radius - 3 * font, id, font);
    }
    Some(canvas)
}

/// Continuous voxel index of a patient position (direction assumed orthonormal).
fn to_index(suv: &Volume, mm: [f64; 3]) -> Option<[f64; 3]> {
    let d = [
        mm[0] - suv.origin_mm[0],
        mm[1] - suv.origin_mm[1],
        mm[2] - suv.origin_mm[2],
    ];
    let ix: [f64; 3] = std::array::from_fn(|a| {
        let dot: f64 = (0..3).map(|c| d[c] * suv.direction[a][c]).sum();
        dot / suv.spacing_mm[a]
    });
    ix.iter().all(|v| v.is_finite()).then_some(ix)
}

fn encode(canvas: &Canvas) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, canvas.width as u32, canvas.height as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&canvas.rgb));
    if written.is_err() {
        // Dimensions are clamped to 1..=8192 and the buffer matches them, so the encoder
        // has no reason to fail; an empty answer signals it if it ever does.
        return Vec::new();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info.width as usize, info.height as usize, buf)
    }

    #[test]
    fn hot_voxel_on_the_patients_left_and_high_shows_right_and_top() {
        // 10 × 4 × 20 grid of 2 × 2 × 4 mm voxels: 20 mm wide, 80 mm tall.
        let dims = [10, 4, 20];
        let mut v = Volume {
            dims,
            spacing_mm: [2.0, 2.0, 4.0],
            origin_mm: [0.0; 3],
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            data: vec![0.0; 800],
        };
        let hot = v.index(9, 2, 19);
        v.data[hot] = 8.0;
        let (w, h, rgb) = decode(&coronal_mip_png(&v, &[], 8.0));
        // Aspect kept: 20 mm × 80 mm → width : height = 1 : 4.
        assert_eq!(h, 4 * w);
        assert!(h >= 800);
        // Top-right pixel black (hot, patient's left, superior); bottom-left white.
        assert_eq!(&rgb[3 * (w - 1)..3 * w], &[0, 0, 0]);
        assert_eq!(
            &rgb[rgb.len() - 3 * w..rgb.len() - 3 * w + 3],
            &[255, 255, 255]
        );
    }

    #[test]
    fn markers_are_drawn_in_red_and_bad_input_still_gives_a_png() {
        let dims = [20, 20, 20];
        let v = Volume {
            dims,
            spacing_mm: [4.0; 3],
            origin_mm: [0.0; 3],
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            data: vec![1.0; 8000],
        };
        let (_, _, rgb) = decode(&coronal_mip_png(&v, &[(7, [40.0, 40.0, 40.0])], 5.0));
        assert!(rgb.chunks(3).any(|p| p == MARKER));
        let broken = Volume {
            data: vec![1.0; 3],
            ..v
        };
        let (w, h, _) = decode(&coronal_mip_png(&broken, &[], 5.0));
        assert_eq!((w, h), (1, 1));
    }

    #[test]
    fn the_layout_puts_each_marker_on_its_ring_in_the_picture() {
        let v = Volume {
            dims: [20, 10, 30],
            spacing_mm: [4.0, 4.0, 3.0],
            origin_mm: [0.0; 3],
            direction: [[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            data: vec![0.0; 6000],
        };
        let markers = [(3, [-20.0, 20.0, 30.0]), (9, [-60.0, 20.0, 70.0])];
        let (w, h, rgb) = decode(&coronal_mip_png(&v, &markers, 5.0));
        let layout = coronal_mip_layout(&v, &markers).expect("a layout");
        assert_eq!((layout.width as usize, layout.height as usize), (w, h));
        assert_eq!(layout.markers.len(), 2);
        for m in &layout.markers {
            // The ring passes through the pixel one radius (less one) to the left.
            let (x, y) = ((m.x - m.radius + 1) as usize, m.y as usize);
            let at = 3 * (y * w + x);
            assert_eq!(
                &rgb[at..at + 3],
                &MARKER,
                "marker {} at ({x}, {y})",
                m.number
            );
        }
        assert_ne!(layout.markers[0].y, layout.markers[1].y);
        // Outside the grid: outside the picture.
        let outside = coronal_mip_layout(&v, &[(1, [500.0, 0.0, 0.0])]).expect("a layout");
        assert!(outside.markers.iter().all(|m| m.x < 0 || m.x >= w as i64));
    }
}
