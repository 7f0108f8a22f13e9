//! The forms, item groups, items and code lists of the exports, derived from the JSON
//! schemas the protocol types derive (`schemars`), and the flattening of a record's JSON
//! into item values by the same rule, so data and definitions cannot drift apart.
//!
//! Naming rule (documented in `docs/exports.md`):
//!
//! - a form `lab` is `F.LAB`; its main item group `IG.LAB` holds one repeat per record,
//!   keyed by the record's key (item `IT.LAB.KEY`);
//! - a field is an item named by its JSON path joined with dots (`ae.onset`) whose OID is
//!   `IT.` + form + `.` + the path in capitals (`IT.AE.AE.ONSET`); nested objects are
//!   flattened this way; an enum with data is the union of its variants' fields;
//! - a list of objects directly in the record is a repeating item group
//!   `IG.<FORM>.<FIELD>` (repeat key `<record key>/<n>`, n from 1); any other list, and
//!   anything without a fixed shape (maps), is one text item holding compact JSON;
//! - a field whose values are a fixed set of strings has a code list `CL.<item OID
//!   without IT.>`;
//! - a field the schema does not name (none today) goes to the text item
//!   `IT.<FORM>.OTHER` as JSON, so nothing is dropped.

use serde_json::{Map, Value};

use super::records::Form;

/// An ODM data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// Free text (also JSON text).
    Text,
    /// Whole number.
    Integer,
    /// Decimal number.
    Float,
    /// ISO 8601 date.
    Date,
    /// ISO 8601 date and time.
    DateTime,
    /// true / false.
    Boolean,
}

impl DataType {
    /// The ODM `DataType` attribute value.
    pub fn odm(self) -> &'static str {
        match self {
            DataType::Text => "text",
            DataType::Integer => "integer",
            DataType::Float => "float",
            DataType::Date => "date",
            DataType::DateTime => "datetime",
            DataType::Boolean => "boolean",
        }
    }
}

/// One item (a field of a form).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// OID, e.g. `IT.LAB.VALUE`.
    pub oid: String,
    /// JSON path, e.g. `value`.
    pub name: String,
    /// Data type.
    pub data_type: DataType,
    /// The allowed values, when fixed.
    pub codes: Vec<String>,
    /// What the protocol type's doc comment says about it.
    pub description: Option<String>,
}

impl Item {
    /// The item's code list OID, when it has one.
    pub fn codelist_oid(&self) -> Option<String> {
        (!self.codes.is_empty()).then(|| format!("CL.{}", &self.oid[3..]))
    }
}

/// An item group: a form's main group or one of its repeating lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// OID, e.g. `IG.PETQUANT.CANDIDATES`.
    pub oid: String,
    /// Name, e.g. `petquant.candidates`.
    pub name: String,
    /// Items in order.
    pub items: Vec<Item>,
}

/// A form's definition and how to flatten its records.
#[derive(Debug, Clone)]
pub struct FormMeta {
    /// The form.
    pub form: Form,
    /// OID, e.g. `F.LAB`.
    pub oid: String,
    /// The main group first, then the repeating lists.
    pub groups: Vec<Group>,
    tree: Node,
}

/// One repeat of an item group with its item values.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupData {
    /// Index in [`FormMeta::groups`].
    pub group: usize,
    /// Repeat key.
    pub key: String,
    /// (item index in the group, value) in item order.
    pub values: Vec<(usize, String)>,
}

/// The shape a schema gives a value.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Scalar(DataType, Vec<String>),
    Object(Vec<(String, Shape, Option<String>)>),
    Array(Box<Shape>),
    Json,
}

/// How a record's JSON maps to items.
#[derive(Debug, Clone)]
enum Node {
    Leaf(usize),
    Object(Vec<(String, Node)>),
    Group(usize, Box<Node>),
}

/// Deepest nesting followed; deeper values are JSON text (no protocol type is this deep).
const MAX_DEPTH: usize = 12;

impl FormMeta {
    /// The form's definition from its schema.
    pub fn new(form: Form) -> FormMeta {
        let schema = form.schema();
        let root = schema.as_value();
        let empty = Map::new();
        let defs = root
            .get("$defs")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let shape = shape(defs, root, 0);
        let f = form.id().to_uppercase();
        let mut meta = FormMeta {
            form,
            oid: format!("F.{f}"),
            groups: vec![Group {
                oid: format!("IG.{f}"),
                name: form.id().to_string(),
                items: vec![item(
                    &f,
                    "key",
                    DataType::Text,
                    Vec::new(),
                    Some("Record key"),
                )],
            }],
            tree: Node::Object(Vec::new()),
        };
        let props = match shape {
            Shape::Object(props) => props,
            other => vec![("value".to_string(), other, None)],
        };
        let mut nodes = Vec::new();
        for (name, s, d) in props {
            let node = meta.compile(0, &name, s, d, true);
            nodes.push((name, node));
        }
        meta.tree = Node::Object(nodes);
        let other = "Fields without a definition, as JSON";
        meta.groups[0]
            .items
            .push(item(&f, "other", DataType::Text, Vec::new(), Some(other)));
        meta
    }

    /// Adds the items of `shape` at `path` to group `g`.
    fn compile(
        &mut self,
        g: usize,
        path: &str,
        shape: Shape,
        d: Option<String>,
        top: bool,
    ) -> Node {
        let f = self.form.id().to_uppercase();
        match shape {
            Shape::Object(props) => Node::Object(
                props
                    .into_iter()
                    .map(|(name, s, d)| {
                        let node = self.compile(g, &format!("{path}.{name}"), s, d, false);
                        (name, node)
                    })
                    .collect(),
            ),
            Shape::Array(inner) if top && matches!(*inner, Shape::Object(_)) => {
                let gi = self.groups.len();
                self.groups.push(Group {
                    oid: format!("IG.{f}.{}", path.to_uppercase()),
                    name: format!("{}.{path}", self.form.id()),
                    items: vec![item(
                        &f,
                        &format!("{path}.key"),
                        DataType::Text,
                        Vec::new(),
                        Some("Repeat key"),
                    )],
                });
                let node = match *inner {
                    Shape::Object(props) => Node::Object(
                        props
                            .into_iter()
                            .map(|(name, s, d)| {
                                let node = self.compile(gi, &format!("{path}.{name}"), s, d, false);
                                (name, node)
                            })
                            .collect(),
                    ),
                    _ => Node::Object(Vec::new()),
                };
                Node::Group(gi, Box::new(node))
            }
            Shape::Scalar(dt, codes) => self.leaf(g, item(&f, path, dt, codes, d.as_deref())),
            Shape::Array(_) | Shape::Json => {
                self.leaf(g, item(&f, path, DataType::Text, Vec::new(), d.as_deref()))
            }
        }
    }

    fn leaf(&mut self, g: usize, it: Item) -> Node {
        self.groups[g].items.push(it);
        Node::Leaf(self.groups[g].items.len() - 1)
    }

    /// A record's item values: its main group's repeat first, then the repeats of its
    /// lists in field order.
    pub fn flatten(&self, key: &str, value: &Value) -> Vec<GroupData> {
        let mut main = GroupData {
            group: 0,
            key: key.to_string(),
            values: vec![(0, key.to_string())],
        };
        let mut more = Vec::new();
        let mut other = Map::new();
        let Node::Object(props) = &self.tree else {
            return vec![main];
        };
        match value {
            Value::Object(fields) => {
                walk_object(props, fields, "", &mut main, key, &mut more, &mut other)
            }
            v => {
                if let Some((_, n)) = props.first() {
                    walk(n, v, "value", &mut main, key, &mut more, &mut other);
                }
            }
        }
        if !other.is_empty() {
            let i = self.groups[0].items.len() - 1;
            main.values.push((i, Value::Object(other).to_string()));
        }
        main.values.sort_by_key(|(i, _)| *i);
        let mut out = vec![main];
        out.extend(more);
        out
    }
}

fn walk_object(
    props: &[(String, Node)],
    fields: &Map<String, Value>,
    prefix: &str,
    into: &mut GroupData,
    key: &str,
    more: &mut Vec<GroupData>,
    other: &mut Map<String, Value>,
) {
    for (name, v) in fields {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match props.iter().find(|(n, _)| n == name) {
            Some((_, node)) => walk(node, v, &path, into, key, more, other),
            None if !v.is_null() => {
                other.insert(path, v.clone());
            }
            None => {}
        }
    }
}

fn walk(
    node: &Node,
    v: &Value,
    path: &str,
    into: &mut GroupData,
    key: &str,
    more: &mut Vec<GroupData>,
    other: &mut Map<String, Value>,
) {
    match (node, v) {
        (_, Value::Null) => {}
        (Node::Leaf(i), v) => into.values.push((*i, scalar_text(v))),
        (Node::Object(props), Value::Object(fields)) => {
            walk_object(props, fields, path, into, key, more, other)
        }
        (Node::Group(g, inner), Value::Array(xs)) => {
            for (n, x) in xs.iter().enumerate() {
                let rk = format!("{key}/{}", n + 1);
                let mut gd = GroupData {
                    group: *g,
                    key: rk.clone(),
                    values: vec![(0, rk)],
                };
                walk(inner, x, path, &mut gd, key, more, other);
                gd.values.sort_by_key(|(i, _)| *i);
                more.push(gd);
            }
        }
        (_, v) => {
            other.insert(path.to_string(), v.clone());
        }
    }
}

/// A JSON value as an item value: strings as they are, numbers and booleans as JSON
/// writes them, lists and objects as compact JSON.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn item(form: &str, path: &str, dt: DataType, codes: Vec<String>, d: Option<&str>) -> Item {
    Item {
        oid: format!("IT.{form}.{}", path.to_uppercase()),
        name: path.to_string(),
        data_type: dt,
        codes,
        description: d.map(str::to_string),
    }
}

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
fn shape(defs: &Map<String, Value>, s: &Value, depth: usize) -> Shape {
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

/// Every form's definition, built once per export.
#[derive(Debug, Clone)]
pub struct Catalog {
    forms: Vec<FormMeta>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::new()
    }
}

impl Catalog {
    /// The definitions of all forms, in casebook order.
    pub fn new() -> Catalog {
        Catalog {
            forms: Form::ALL.iter().map(|&f| FormMeta::new(f)).collect(),
        }
    }

    /// One form's definition.
    pub fn form(&self, form: Form) -> &FormMeta {
        &self.forms[form as usize]
    }

    /// All forms' definitions in casebook order.
    pub fn forms(&self) -> &[FormMeta] {
        &self.forms
    }
}
