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
use super::schema::{Shape, shape};

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

/// How a record's JSON maps to items.
#[derive(Debug, Clone)]
enum Node {
    Leaf(usize),
    Object(Vec<(String, Node)>),
    Group(usize, Box<Node>),
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn item<'a>(meta: &'a FormMeta, oid: &str) -> &'a Item {
        meta.groups
            .iter()
            .flat_map(|g| &g.items)
            .find(|i| i.oid == oid)
            .unwrap_or_else(|| panic!("no {oid}"))
    }

    #[test]
    fn an_internally_tagged_enum_is_one_set_of_items_with_its_tags_as_codes() {
        let meta = FormMeta::new(Form::Biopsy);
        let kind = item(&meta, "IT.BIOPSY.SOURCE.KIND");
        assert_eq!(kind.codes, ["fresh", "archival"]);
        assert_eq!(
            kind.codelist_oid().as_deref(),
            Some("CL.BIOPSY.SOURCE.KIND")
        );
    }

    #[test]
    fn items_take_their_types_from_the_schema() {
        let meta = FormMeta::new(Form::Lab);
        assert_eq!(item(&meta, "IT.LAB.VALUE").data_type, DataType::Float);
        assert_eq!(
            item(&meta, "IT.LAB.SAMPLE_AT").data_type,
            DataType::DateTime
        );
        assert!(
            item(&meta, "IT.LAB.ANALYTE")
                .codes
                .contains(&"anc".to_string())
        );
        let ae = FormMeta::new(Form::Ae);
        assert_eq!(item(&ae, "IT.AE.AE.ONSET").data_type, DataType::Date);
        assert_eq!(item(&ae, "IT.AE.AE.GRADE").data_type, DataType::Integer);
    }

    #[test]
    fn a_list_of_objects_becomes_repeats_keyed_under_the_record() {
        let meta = FormMeta::new(Form::PetQuant);
        let value = serde_json::json!({
            "volume_suv_max": 9.0,
            "candidates": [{"number": 1, "suv_max": 9.0}, {"number": 2, "suv_max": 4.5}],
            "warnings": ["a", "b"]
        });
        let data = meta.flatten("petquant.1", &value);
        let keys: Vec<&str> = data.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["petquant.1", "petquant.1/1", "petquant.1/2"]);
        let g = &meta.groups[data[2].group];
        assert_eq!(g.oid, "IG.PETQUANT.CANDIDATES");
        let suv = data[2]
            .values
            .iter()
            .find(|(i, _)| g.items[*i].name == "candidates.suv_max");
        assert_eq!(suv.map(|(_, v)| v.as_str()), Some("4.5"));
        // A list of strings is one text item of compact JSON.
        let main = &meta.groups[0];
        let warnings = data[0]
            .values
            .iter()
            .find(|(i, _)| main.items[*i].name == "warnings");
        assert_eq!(warnings.map(|(_, v)| v.as_str()), Some("[\"a\",\"b\"]"));
    }

    #[test]
    fn a_field_without_a_definition_is_kept_as_json_not_dropped() {
        let meta = FormMeta::new(Form::Weight);
        let data = meta.flatten(
            "weight-1",
            &serde_json::json!({"weight_kg": 68.0, "mystery": 1}),
        );
        let main = &meta.groups[0];
        let other = data[0]
            .values
            .iter()
            .find(|(i, _)| main.items[*i].name == "other");
        assert_eq!(other.map(|(_, v)| v.as_str()), Some("{\"mystery\":1}"));
    }
}
