//! When two stored versions of a SOP instance are the same image: the digest of a data
//! set's content, independent of how it was encoded and wrapped.
//!
//! The archive names an object by the SHA-256 of its bytes, and those bytes differ for
//! the same image sent twice in ways that change nothing of it: the file meta group is
//! the archive's own (it names the sender, the transfer syntax, the provenance), and the
//! transfer syntax changes how every element is written (explicit or implicit VR, little
//! or big endian, defined or undefined sequence lengths). The rule of the archive:
//!
//! > A resend of a SOP instance is a **duplicate** when its data set has the same content
//! > as a version already stored, whatever its file meta or transfer syntax; a data set
//! > with other content under the same SOP Instance UID is a **conflict**, kept beside
//! > the first.
//!
//! "The same content" is equality of [`data_set_digest`]: SHA-256 over every element of
//! the data set, nested ones included, in tag order, each as its tag and its value
//! decoded from the transfer syntax (numbers in one byte order, text as read, items of a
//! sequence in order, pixel fragments as sent). Not part of it: the file meta group,
//! value representations (absent in implicit VR), length encodings, group lengths
//! (gggg,0000) and trailing padding (FFFC,FFFC), all of which describe the encoding,
//! not the image. Every attribute of the image is part of it, so a corrected weight or
//! dose sent under the old UID stays a conflict for a person to decide.
//!
//! The digest reads the whole object, pixel data included; it is computed only when a
//! SOP instance already has a version with other bytes (a resend that is not
//! byte-identical), never on the path of a new instance.

use std::path::Path;

use dicom_core::header::Header;
use dicom_object::mem::InMemElement;
use dicom_object::{InMemDicomObject, OpenFileOptions};
use sha2::{Digest, Sha256};

use crate::error::IngestErrorKind;

/// The digest of the content of the data set of a Part 10 file (see the module
/// documentation).
pub(crate) fn data_set_digest(path: &Path) -> Result<[u8; 32], IngestErrorKind> {
    let obj = OpenFileOptions::new()
        .read_preamble(dicom_object::file::ReadPreamble::Always)
        .open_file(path)
        .map_err(|e| IngestErrorKind::NotDicom(e.to_string()))?;
    let mut hasher = Sha256::new();
    hash_data_set(&mut hasher, &obj);
    Ok(hasher.finalize().into())
}

/// Markers that keep the structure in the digest (a value cannot pose as an item).
const VALUE: u8 = 1;
const SEQUENCE: u8 = 2;
const ITEM: u8 = 3;
const FRAGMENTS: u8 = 4;
const END: u8 = 5;

fn hash_data_set(h: &mut Sha256, data_set: &InMemDicomObject) {
    for element in data_set {
        let tag = element.tag();
        if tag.element() == 0x0000 || (tag.group(), tag.element()) == (0xFFFC, 0xFFFC) {
            continue;
        }
        h.update(tag.group().to_le_bytes());
        h.update(tag.element().to_le_bytes());
        hash_value(h, element);
    }
}

fn hash_value(h: &mut Sha256, element: &InMemElement) {
    let value = element.value();
    if let Some(items) = value.items() {
        h.update([SEQUENCE]);
        h.update((items.len() as u64).to_le_bytes());
        for item in items {
            h.update([ITEM]);
            hash_data_set(h, item);
            h.update([END]);
        }
    } else if let Some(fragments) = value.fragments() {
        h.update([FRAGMENTS]);
        let table = value.offset_table().unwrap_or(&[]);
        hash_bytes(
            h,
            &table
                .iter()
                .flat_map(|o| o.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
        h.update((fragments.len() as u64).to_le_bytes());
        for fragment in fragments {
            hash_bytes(h, fragment);
        }
    } else if let Some(primitive) = value.primitive() {
        h.update([VALUE]);
        // Numbers in the machine's byte order, whatever the transfer syntax's; text as
        // decoded; the same for both versions compared on this machine.
        hash_bytes(h, &primitive.to_bytes());
    }
}

/// A byte string with its length, so that two adjacent values cannot run into each other.
fn hash_bytes(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}
