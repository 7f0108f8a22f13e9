//! The few calls of Orthanc's REST API a pull makes, over plain HTTP with blocking I/O
//! (the archive's other network service, the receiver, is blocking too).
//!
//! | call | answer used |
//! |---|---|
//! | `GET /changes?since=N&limit=M` | `Changes[]` (`ChangeType`, `ID`, `Seq`), `Done`, `Last` |
//! | `GET /series/{id}` | `MainDicomTags.Modality`, `ParentStudy`, `Instances[]`, `IsStable` |
//! | `GET /studies/{id}` | `PatientMainDicomTags.PatientID` |
//! | `GET /instances/{id}/file` | the DICOM Part 10 bytes as Orthanc stored them |
//!
//! Identifiers the peer sends are checked before they go into a path, answers are read
//! up to a bound, redirects are not followed (they could carry the credentials elsewhere)
//! and no proxy is used (images and PatientIDs go to the peer only).

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use reqwest::Url;
use reqwest::blocking::{Client, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::{PullError, PullErrorKind};

/// The largest JSON answer read (a series of 10 000 instances lists about 500 kB).
const MAX_JSON_BYTES: u64 = 64 << 20;

/// How a pull reaches an Orthanc peer.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerConfig {
    /// The name the pull's state is kept under (`dicom/pull/<name>.json`): 1–64 letters,
    /// digits, `-`, `_` or `.`, not starting with a dot.
    pub name: String,
    /// The peer's REST API, e.g. `http://127.0.0.1:8042` (a path is kept, for an Orthanc
    /// behind a reverse proxy).
    pub url: String,
    /// HTTP basic authentication: user name and password.
    pub credentials: Option<(String, String)>,
    /// Allow a peer on another machine over plain HTTP (see [`PeerConfig::validate`]).
    pub allow_unencrypted: bool,
    /// Longest wait for a connection or a read.
    pub timeout: Duration,
    /// Largest DICOM file fetched; a larger one is an error of the pass.
    pub max_object_bytes: u64,
}

impl std::fmt::Debug for PeerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("PeerConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .field("allow_unencrypted", &self.allow_unencrypted)
            .field("timeout", &self.timeout)
            .field("max_object_bytes", &self.max_object_bytes)
            .finish()
    }
}

impl PeerConfig {
    /// A peer reached without credentials, 60 s time-out, files up to 1 GiB (the
    /// receiver's default bound).
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            credentials: None,
            allow_unencrypted: false,
            timeout: Duration::from_secs(60),
            max_object_bytes: 1 << 30,
        }
    }

    /// Checks the settings and returns the peer's address without a trailing slash.
    ///
    /// Refused: a name that cannot be a file name; an address that is not `http://`
    /// (this build has no TLS) or holds a user, password, query or fragment; plain HTTP to
    /// another machine unless [`PeerConfig::allow_unencrypted`] (images and PatientIDs
    /// would cross the network readable).
    pub fn validate(&self) -> Result<Url, PullError> {
        if !is_peer_name(&self.name) {
            return Err(PullError::config(format!(
                "peer name {:?} must be 1–64 letters, digits, '-', '_' or '.', not starting \
                 with a dot (it names the pull's state file)",
                self.name
            )));
        }
        let url = Url::parse(&self.url).map_err(|e| {
            PullError::config(format!("peer URL {:?} is not an address: {e}", self.url))
        })?;
        if url.scheme() != "http" {
            return Err(PullError::config(format!(
                "peer URL {} must start with http:// (this build speaks plain HTTP only; \
                 reach an https peer through a TLS tunnel ending on this machine)",
                self.url
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(PullError::config(
                "the peer URL may not hold a user or password (they would be logged): give \
                 the user with --peer-user and the password in HER2EX_PEER_PASSWORD",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(PullError::config(format!(
                "peer URL {} may not hold a query or fragment: give the address of the REST API",
                self.url
            )));
        }
        let Some(host) = url.host_str() else {
            return Err(PullError::config(format!(
                "peer URL {} names no host",
                self.url
            )));
        };
        let local = host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !local && !self.allow_unencrypted {
            return Err(PullError::config(format!(
                "peer {} is not on this machine and plain HTTP would carry images and \
                 PatientIDs across the network readable: reach it through a TLS tunnel ending \
                 on 127.0.0.1, or pass --allow-unencrypted on a network you trust",
                self.url
            )));
        }
        if self.timeout.is_zero() || self.max_object_bytes == 0 {
            return Err(PullError::config(
                "time-out and object size must be positive",
            ));
        }
        Ok(url)
    }

    /// The peer's base address as validated, without a trailing slash.
    fn base(&self) -> Result<String, PullError> {
        Ok(self.validate()?.as_str().trim_end_matches('/').to_string())
    }

    /// A client for this peer (no request is made yet).
    pub fn connect(&self) -> Result<OrthancPeer, PullError> {
        let base = self.base()?;
        let client = Client::builder()
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("her2ex/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PullError::config(format!("HTTP client: {}", innermost(&e))))?;
        Ok(OrthancPeer {
            name: self.name.clone(),
            base,
            credentials: self.credentials.clone(),
            max_object_bytes: self.max_object_bytes,
            client,
        })
    }
}

/// Whether `name` may name a peer (and its state file).
pub(crate) fn is_peer_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether `id` is shaped like an Orthanc identifier (hexadecimal groups and dashes), so it
/// can go into a path without naming another resource.
pub(crate) fn is_orthanc_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// One page of the peer's change log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ChangesPage {
    /// The changes after `since`, oldest first.
    pub changes: Vec<Change>,
    /// Whether this page reaches the end of the log.
    pub done: bool,
    /// The sequence number of the last change listed (of the log, when none is).
    pub last: u64,
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Change {
    /// `StableSeries`, `NewInstance`, …
    pub change_type: String,
    /// The Orthanc identifier of the resource changed.
    #[serde(rename = "ID")]
    pub id: String,
    /// Its sequence number.
    pub seq: u64,
}

/// What a pull reads of a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeriesInfo {
    /// Modality (0008,0060), when Orthanc indexed one.
    pub modality: Option<String>,
    /// The Orthanc identifier of its study.
    pub parent_study: String,
    /// The Orthanc identifiers of its instances.
    pub instances: Vec<String>,
    /// Whether Orthanc has no stability change of it pending (`IsStable`).
    pub is_stable: bool,
}

/// The peer's calls a pull makes; `None` when the resource is gone (HTTP 404).
pub(crate) trait PeerApi {
    /// The peer's name (of its state file).
    fn name(&self) -> &str;
    /// The peer's address.
    fn url(&self) -> &str;
    /// The changes after `since`, at most `limit`.
    fn changes(&self, since: u64, limit: u32) -> Result<ChangesPage, PullError>;
    /// A series.
    fn series(&self, id: &str) -> Result<Option<SeriesInfo>, PullError>;
    /// The PatientID of a study (`Some(None)`: the study has none).
    fn study_patient_id(&self, id: &str) -> Result<Option<Option<String>>, PullError>;
    /// The DICOM file of an instance.
    fn instance_file(&self, id: &str) -> Result<Option<Vec<u8>>, PullError>;
}

/// An Orthanc peer reached over its REST API (built by [`PeerConfig::connect`]).
#[derive(Debug)]
pub struct OrthancPeer {
    name: String,
    base: String,
    credentials: Option<(String, String)>,
    max_object_bytes: u64,
    client: Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SeriesAnswer {
    #[serde(default)]
    main_dicom_tags: BTreeMap<String, serde_json::Value>,
    parent_study: String,
    instances: Vec<String>,
    /// Absent from an old Orthanc: then only its `StableSeries` change says so.
    #[serde(default)]
    is_stable: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StudyAnswer {
    #[serde(default)]
    patient_main_dicom_tags: BTreeMap<String, serde_json::Value>,
}

impl OrthancPeer {
    /// The peer's configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address of the peer's REST API as validated (no credentials, no trailing
    /// slash).
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Sends `GET {base}{path}`; `None` on 404, an error on any other failure.
    fn get(&self, path: &str) -> Result<Option<(String, Response)>, PullError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.get(&url);
        if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, Some(password));
        }
        let response = request
            .send()
            .map_err(|e| PullError::at(&url, PullErrorKind::Unreachable(innermost(&e))))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let hint = match status.as_u16() {
                401 => Some("the peer wants credentials: --peer-user and HER2EX_PEER_PASSWORD"),
                403 => Some("the peer refuses this user"),
                300..=399 => Some("redirects are not followed: give the final address"),
                _ => None,
            };
            return Err(PullError::at(
                &url,
                PullErrorKind::Status {
                    status: status.as_u16(),
                    hint,
                },
            ));
        }
        Ok(Some((url, response)))
    }

    /// `GET` a JSON answer.
    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, PullError> {
        let Some((url, response)) = self.get(path)? else {
            return Ok(None);
        };
        let bytes = read_bounded(&url, response, MAX_JSON_BYTES)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PullError::at(&url, PullErrorKind::BadAnswer(e.to_string())))
    }
}

/// Reads a body of at most `max` bytes.
fn read_bounded(url: &str, response: Response, max: u64) -> Result<Vec<u8>, PullError> {
    let too_large = || {
        PullError::at(
            url,
            PullErrorKind::BadAnswer(format!("answer larger than {max} bytes")),
        )
    };
    if response.content_length().is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    response
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PullError::at(url, PullErrorKind::Unreachable(e.to_string())))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Refuses an identifier the peer sent that could name another path.
fn checked_id<'a>(url: &str, id: &'a str) -> Result<&'a str, PullError> {
    if is_orthanc_id(id) {
        Ok(id)
    } else {
        Err(PullError::at(
            url,
            PullErrorKind::BadAnswer(format!("{id:?} is not an Orthanc identifier")),
        ))
    }
}

/// A text tag of a `MainDicomTags` object, trimmed; `None` when absent or empty.
fn tag(tags: &BTreeMap<String, serde_json::Value>, name: &str) -> Option<String> {
    let value = tags.get(name)?.as_str()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

impl PeerApi for OrthancPeer {
    fn name(&self) -> &str {
        &self.name
    }

    fn url(&self) -> &str {
        &self.base
    }

    fn changes(&self, since: u64, limit: u32) -> Result<ChangesPage, PullError> {
        let path = format!("/changes?since={since}&limit={limit}");
        let page: ChangesPage = self.get_json(&path)?.ok_or_else(|| {
            PullError::at(
                format!("{}{path}", self.base),
                PullErrorKind::BadAnswer("no change log here (HTTP 404): is this Orthanc?".into()),
            )
        })?;
        for change in &page.changes {
            checked_id(&format!("{}{path}", self.base), &change.id)?;
        }
        Ok(page)
    }

    fn series(&self, id: &str) -> Result<Option<SeriesInfo>, PullError> {
        let path = format!("/series/{}", checked_id(&self.base, id)?);
        let Some(answer) = self.get_json::<SeriesAnswer>(&path)? else {
            return Ok(None);
        };
        let url = format!("{}{path}", self.base);
        checked_id(&url, &answer.parent_study)?;
        for instance in &answer.instances {
            checked_id(&url, instance)?;
        }
        Ok(Some(SeriesInfo {
            modality: tag(&answer.main_dicom_tags, "Modality"),
            parent_study: answer.parent_study,
            instances: answer.instances,
            is_stable: answer.is_stable,
        }))
    }

    fn study_patient_id(&self, id: &str) -> Result<Option<Option<String>>, PullError> {
        let path = format!("/studies/{}", checked_id(&self.base, id)?);
        Ok(self
            .get_json::<StudyAnswer>(&path)?
            .map(|s| tag(&s.patient_main_dicom_tags, "PatientID")))
    }

    fn instance_file(&self, id: &str) -> Result<Option<Vec<u8>>, PullError> {
        let path = format!("/instances/{}/file", checked_id(&self.base, id)?);
        let Some((url, response)) = self.get(&path)? else {
            return Ok(None);
        };
        read_bounded(&url, response, self.max_object_bytes).map(Some)
    }
}

/// The innermost cause of an error ("Connection refused"), which says more to an operator
/// than the outer "error sending request".
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(config: &PeerConfig) -> String {
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn a_local_http_peer_is_accepted_and_its_slash_dropped() {
        let config = PeerConfig::new("site-ks", "http://127.0.0.1:8042/orthanc/");
        assert_eq!(config.base().unwrap(), "http://127.0.0.1:8042/orthanc");
        assert!(
            PeerConfig::new("a", "http://localhost:8042")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn addresses_that_would_leak_or_mislead_are_refused_with_the_rule() {
        let https = refused(&PeerConfig::new("p", "https://127.0.0.1:8042"));
        assert!(https.contains("plain HTTP only"), "{https}");
        let secret = refused(&PeerConfig::new("p", "http://u:secret@127.0.0.1:8042"));
        assert!(
            secret.contains("may not hold a user or password"),
            "{secret}"
        );
        assert!(
            !secret.contains("secret"),
            "the password is not repeated: {secret}"
        );
        let remote = refused(&PeerConfig::new("p", "http://10.1.2.3:8042"));
        assert!(remote.contains("--allow-unencrypted"), "{remote}");
        let allowed = PeerConfig {
            allow_unencrypted: true,
            ..PeerConfig::new("p", "http://10.1.2.3:8042")
        };
        assert!(allowed.validate().is_ok());
        let query = refused(&PeerConfig::new("p", "http://127.0.0.1:8042/?x=1"));
        assert!(query.contains("query"), "{query}");
        let name = refused(&PeerConfig::new("../etc", "http://127.0.0.1:8042"));
        assert!(name.contains("names the pull's state file"), "{name}");
        assert!(refused(&PeerConfig::new("p", "not a url")).contains("not an address"));
    }

    #[test]
    fn identifiers_from_the_peer_cannot_name_another_path() {
        assert!(is_orthanc_id(
            "b48bcf0f-cec45680-82b232df-73174a54-bc44c611"
        ));
        assert!(!is_orthanc_id("../../system"));
        assert!(!is_orthanc_id(""));
        assert!(!is_orthanc_id("abc/file"));
    }

    #[test]
    fn the_password_is_never_printed() {
        let config = PeerConfig {
            credentials: Some(("pull".into(), "hunter2-secret".into())),
            ..PeerConfig::new("p", "http://127.0.0.1:8042")
        };
        let shown = format!("{config:?}");
        assert!(
            shown.contains("pull") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
