//! The one way a page's form reaches the write path: every command form carries the
//! participant's version it was drawn at (a form without one is refused, never written
//! blind over someone else's change), one optional reason (for a change, or for the
//! correction of an entry) and, for signed commands, the password entered again.

use std::collections::BTreeMap;

use serde_json::Value;
use trial::batch::BatchRequest;
use trial::participants::{CommandRequest, SignatureRequest};

use crate::error::ApiError;

/// The participant's version a submitted form was drawn at.
pub fn expected_version(values: &BTreeMap<String, String>) -> Result<i64, ApiError> {
    let raw = values
        .get("expected_version")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest(
                "this form does not say which version of the record it was filled in on: reload the page and enter the change again".into(),
            )
        })?;
    raw.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "the form's record version {raw:?} is not a number: reload the page"
        ))
    })
}

/// The one reason of a form: the reason for a change, or, on a form that corrects an
/// entry, the reason for the correction (a form shows one reason field, never two).
fn reason(values: &BTreeMap<String, String>) -> Option<String> {
    ["change_reason", "correction_reason"]
        .into_iter()
        .filter_map(|k| values.get(k))
        .find(|r| !r.trim().is_empty())
        .map(|r| r.trim().to_string())
}

fn signature(values: &BTreeMap<String, String>) -> Option<SignatureRequest> {
    values.get("signature_password").map(|p| SignatureRequest {
        password: p.clone(),
    })
}

/// The command request of a submitted form with its data.
pub fn command_request(
    values: &BTreeMap<String, String>,
    data: Value,
) -> Result<CommandRequest, ApiError> {
    Ok(CommandRequest {
        expected_version: expected_version(values)?,
        reason: reason(values),
        data,
        signature: signature(values),
    })
}

/// The request of a form that records several commands of one kind at once (all or
/// nothing) under one signature.
pub fn batch_request(
    values: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Result<BatchRequest, ApiError> {
    Ok(BatchRequest {
        expected_version: expected_version(values)?,
        reason: reason(values),
        items,
        signature: signature(values),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_without_its_version_is_refused() {
        let mut v = BTreeMap::new();
        assert!(matches!(
            command_request(&v, Value::Null),
            Err(ApiError::BadRequest(m)) if m.contains("reload the page")
        ));
        v.insert("expected_version".to_string(), "seven".to_string());
        assert!(command_request(&v, Value::Null).is_err());
        v.insert("expected_version".to_string(), "7".to_string());
        v.insert("change_reason".to_string(), "  ".to_string());
        let r = command_request(&v, Value::Null).unwrap();
        assert_eq!(r.expected_version, 7);
        assert_eq!(r.reason, None);
        assert!(r.signature.is_none());
    }

    #[test]
    fn the_correction_reason_is_the_reason_of_the_change() {
        let mut v = BTreeMap::new();
        v.insert("expected_version".to_string(), "3".to_string());
        v.insert(
            "correction_reason".to_string(),
            " grade went down ".to_string(),
        );
        let r = command_request(&v, Value::Null).unwrap();
        assert_eq!(r.reason.as_deref(), Some("grade went down"));
        v.insert("signature_password".to_string(), "pw".to_string());
        let b = batch_request(&v, vec![Value::Null, Value::Null]).unwrap();
        assert_eq!((b.expected_version, b.items.len()), (3, 2));
        assert_eq!(b.signature.map(|s| s.password).as_deref(), Some("pw"));
    }
}
