//! The shape of a value as its JSON schema (from `schemars`) describes it: a scalar with
//! its data type and allowed values, an object with its fields, a list, or free JSON.
//! Enums with data become the union of their variants' fields, so one set of items covers
//! every variant.

use serde_json::{Map, Value};

use super::metadata::DataType;

/// The shape a schema gives a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    Scalar(DataType, Vec<String>),
    Object(Vec<(String, Shape, Option<String>)>),
    Array(Box<Shape>),
    Json,
}

/// Deepest nesting followed; deeper values are JSON text (no protocol type is this deep).
const MAX_DEPTH: usize = 12;

/// Follows `$ref`s to the definition.
fn deref<'a>(defs: &'a Map<String, Value>, mut s: &'a Value) -> &'a Value {
    for _ in 0..MAX_DEPTH {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.rsplit('/').next().and_then(|n| defs.get(n)) {
                Some(d) => s = d,
                None => return &Value::Null,
            },
            None => return s,
        }
    }
    s
}

/// The shape of a schema.
pub(crate) fn shape(defs: &Map<String, Value>, s: &Value, depth: usize) -> Shape {
    if depth > MAX_DEPTH {
        return Shape::Json;
    }
    let Some(o) = s.as_object() else {
        return Shape::Json;
    };
    if o.contains_key("$ref") {
        let target = shape(defs, deref(defs, s), depth + 1);
        // A `$ref` with fields beside it (an internally tagged newtype variant: the tag
        // beside the variant's type) is both.
        return match o.get("properties") {
            Some(Value::Object(_)) => merge(object_shape(defs, o, depth), target),
            _ => target,
        };
    }
    if let Some(c) = o.get("const").and_then(Value::as_str) {
        return Shape::Scalar(DataType::Text, vec![c.to_string()]);
    }
    if let Some(e) = o.get("enum").and_then(Value::as_array) {
        let codes: Vec<String> = e
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        if !codes.is_empty() && codes.len() == e.iter().filter(|v| !v.is_null()).count() {
            return Shape::Scalar(DataType::Text, codes);
        }
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(vs) = o.get(k).and_then(Value::as_array) {
            let mut merged: Option<Shape> = None;
            for v in vs {
                if deref(defs, v).get("type").and_then(Value::as_str) == Some("null") {
                    continue;
                }
                let sh = shape(defs, v, depth + 1);
                merged = Some(match merged {
                    None => sh,
                    Some(m) => merge(m, sh),
                });
            }
            let mut base = merged.unwrap_or(Shape::Json);
            // Fields beside `oneOf` (an internally tagged enum's common ones) join it.
            if let Some(Value::Object(_)) = o.get("properties") {
                base = merge(object_shape(defs, o, depth), base);
            }
            return base;
        }
    }
    let ty = match o.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    match ty {
        Some("object") if o.contains_key("properties") => object_shape(defs, o, depth),
        Some("array") => match o.get("items") {
            Some(items) => Shape::Array(Box::new(shape(defs, items, depth + 1))),
            None => Shape::Array(Box::new(Shape::Json)),
        },
        Some("string") => match o.get("format").and_then(Value::as_str) {
            Some("date") => Shape::Scalar(DataType::Date, Vec::new()),
            Some("date-time") => Shape::Scalar(DataType::DateTime, Vec::new()),
            _ => Shape::Scalar(DataType::Text, Vec::new()),
        },
        Some("integer") => Shape::Scalar(DataType::Integer, Vec::new()),
        Some("number") => Shape::Scalar(DataType::Float, Vec::new()),
        Some("boolean") => Shape::Scalar(DataType::Boolean, Vec::new()),
        _ => Shape::Json,
    }
}

fn object_shape(defs: &Map<String, Value>, o: &Map<String, Value>, depth: usize) -> Shape {
    let props = o.get("properties").and_then(Value::as_object);
    Shape::Object(
        props
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let d = deref(defs, v)
                    .get("description")
                    .or_else(|| v.get("description"))
                    .and_then(Value::as_str)
                    .map(String::from);
                (k.clone(), shape(defs, v, depth + 1), d)
            })
            .collect(),
    )
}

/// One shape for values of either shape (the variants of an enum).
fn merge(a: Shape, b: Shape) -> Shape {
    match (a, b) {
        (Shape::Scalar(x, mut cx), Shape::Scalar(y, cy)) if x == y => {
            if cx.is_empty() || cy.is_empty() {
                cx.clear();
            } else {
                for c in cy {
                    if !cx.contains(&c) {
                        cx.push(c);
                    }
                }
            }
            Shape::Scalar(x, cx)
        }
        (Shape::Scalar(..), Shape::Scalar(..)) => Shape::Scalar(DataType::Text, Vec::new()),
        (Shape::Object(mut pa), Shape::Object(pb)) => {
            for (k, s, d) in pb {
                match pa.iter().position(|(n, _, _)| *n == k) {
                    Some(i) => {
                        let old = std::mem::replace(&mut pa[i].1, Shape::Json);
                        pa[i].1 = merge(old, s);
                    }
                    None => pa.push((k, s, d)),
                }
            }
            Shape::Object(pa)
        }
        (Shape::Array(x), Shape::Array(y)) => Shape::Array(Box::new(merge(*x, *y))),
        _ => Shape::Json,
    }
}
