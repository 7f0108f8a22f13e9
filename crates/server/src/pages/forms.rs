//! Web forms drawn from a command's JSON Schema: the protocol's types decide which fields
//! exist, their kinds, choices and help texts (the doc comments), so a form can never
//! ask for something the protocol does not take. Labels are the command table's words
//! (the schema's `title`), never a field's code name. A yes/no that may be left open is
//! asked as a question with Yes and No and neither chosen. Submitted text is turned back
//! into typed JSON here; what cannot be read is named field by field and nothing typed is
//! lost.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use maud::{Markup, html};
use serde_json::{Map, Value};
use trial::SiteZone;

mod words;

use words::same_words;
pub use words::{plain, plain_doc};

/// What kind of input a field takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Free text.
    Text,
    /// A whole number.
    Integer,
    /// A decimal number.
    Number,
    /// Yes or no, as a checkbox: unticked is no.
    Bool,
    /// Yes or no, asked as a question: two radio buttons, neither chosen at first, and an
    /// unanswered question stays unanswered (never read as no).
    YesNo,
    /// A calendar date.
    Date,
    /// A local date and time (Europe/Stockholm).
    DateTime,
    /// One of a fixed list: (value, label).
    Choice(Vec<(String, String)>),
}

/// One form field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Property name.
    pub name: String,
    /// Label shown.
    pub label: String,
    /// Help text (the field's doc comment).
    pub help: Option<String>,
    /// Input kind.
    pub kind: Kind,
    /// Whether a value must be given.
    pub required: bool,
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs").and_then(|d| d.get(name)))
            .map(|t| resolve(root, t))
            .unwrap_or(s),
        None => s,
    }
}

fn humanize(name: &str) -> String {
    let mut s = name.replace('_', " ");
    if let Some(first) = s.get(0..1) {
        s.replace_range(0..1, &first.to_uppercase());
    }
    s
}

/// Reads a Yes/No radio value: `Some(true)` for Yes, `Some(false)` for No, `None` when
/// unanswered.
pub fn yes_no_value(raw: &str) -> Option<bool> {
    match raw.trim() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// A Yes/No question as two radio buttons, neither chosen unless `value` says so; the
/// group's id is `id`, the buttons' `{id}-yes` and `{id}-no`.
pub fn yes_no(
    id: &str,
    name: &str,
    question: &str,
    value: &str,
    required: bool,
    help_id: Option<&str>,
) -> Markup {
    let answer = yes_no_value(value);
    html! {
        fieldset.yesno id=(id) aria-describedby=[help_id] {
            legend { (question) @if required { span.req aria-hidden="true" { " *" } } }
            label for={ (id) "-yes" } {
                input type="radio" id={ (id) "-yes" } name=(name) value="true" required[required] checked[answer == Some(true)];
                " Yes"
            }
            " "
            label for={ (id) "-no" } {
                input type="radio" id={ (id) "-no" } name=(name) value="false" required[required] checked[answer == Some(false)];
                " No"
            }
        }
    }
}

/// The text of one choice: its description, led by its value only when the value is a
/// code people use themselves ("IN7", "5.4"), never a code name ("one_plus").
fn choice_label(value: &str, description: &str) -> String {
    let text = plain_doc(description);
    let text = text.strip_suffix('.').unwrap_or(&text);
    if value.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        format!("{value}: {text}")
    } else {
        text.to_string()
    }
}

fn choice_of(parts: &[&Value]) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for p in parts {
        if let Some(c) = p.get("const").and_then(Value::as_str) {
            let label = p
                .get("description")
                .and_then(Value::as_str)
                .map(|d| choice_label(c, d))
                .unwrap_or_else(|| c.replace('_', " "));
            out.push((c.to_string(), label));
        } else if let Some(values) = p.get("enum").and_then(Value::as_array) {
            for v in values.iter().filter_map(Value::as_str) {
                out.push((v.to_string(), v.replace('_', " ")));
            }
        } else {
            return None;
        }
    }
    Some(out)
}

/// Classifies a property schema: its kind and whether null is allowed; `None` for kinds a
/// flat form cannot hold (objects, lists).
fn classify(root: &Value, s: &Value) -> Option<(Kind, bool)> {
    let s = resolve(root, s);
    for key in ["anyOf", "oneOf"] {
        if let Some(parts) = s.get(key).and_then(Value::as_array) {
            let is_null = |p: &Value| p.get("type").and_then(Value::as_str) == Some("null");
            let nullable = parts.iter().any(|p| is_null(resolve(root, p)));
            let rest: Vec<&Value> = parts
                .iter()
                .map(|p| resolve(root, p))
                .filter(|p| !is_null(p))
                .collect();
            if let Some(choices) = choice_of(&rest) {
                return Some((Kind::Choice(choices), nullable));
            }
            if rest.len() == 1 {
                return classify(root, rest[0]).map(|(k, n)| (k, n || nullable));
            }
            return None;
        }
    }
    let (ty, nullable) = match s.get("type") {
        Some(Value::String(t)) => (t.as_str(), false),
        Some(Value::Array(ts)) => {
            let non_null: Vec<&str> = ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            (
                non_null.first().copied().unwrap_or("null"),
                ts.len() > non_null.len(),
            )
        }
        _ => return None,
    };
    let kind = match ty {
        "string" => {
            if let Some(choices) = s.get("enum").and_then(|_| choice_of(&[s])) {
                Kind::Choice(choices)
            } else {
                match s.get("format").and_then(Value::as_str) {
                    Some("date") => Kind::Date,
                    Some("date-time") => Kind::DateTime,
                    _ => Kind::Text,
                }
            }
        }
        "integer" => Kind::Integer,
        "number" => Kind::Number,
        "boolean" => Kind::Bool,
        _ => return None,
    };
    Some((kind, nullable))
}

/// The fields of a command schema in the order given (declaration order; see
/// [`trial::commands::declared_fields`]), unknown ones last; `signature` is left out (the server adds it
/// after password re-entry).
pub fn fields(schema: &Value, order: &[&str]) -> Vec<Field> {
    let root = resolve(schema, schema);
    let required: Vec<&str> = root
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = root.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut names: Vec<&String> = props.keys().collect();
    names.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(usize::MAX));
    names
        .into_iter()
        .map(|name| (name, &props[name]))
        .filter(|(name, _)| name.as_str() != "signature")
        .filter_map(|(name, prop)| {
            let (kind, nullable) = classify(schema, prop)?;
            let kind = match kind {
                Kind::Bool if nullable => Kind::YesNo,
                k => k,
            };
            let label = prop
                .get("title")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| humanize(name));
            // A help text that only repeats the label ("Start date.") says nothing.
            let help = prop
                .get("description")
                .or_else(|| resolve(schema, prop).get("description"))
                .and_then(Value::as_str)
                .map(plain_doc)
                .filter(|h| !same_words(h, &label));
            Some(Field {
                name: name.clone(),
                label,
                help,
                kind,
                required: required.contains(&name.as_str())
                    && !nullable
                    && prop.get("default").is_none(),
            })
        })
        .collect()
}

/// Renders the inputs of `fields` with the values typed so far; date-times are local
/// times in `zone`.
pub fn render(fields: &[Field], values: &BTreeMap<String, String>, zone: SiteZone) -> Markup {
    render_with_problem(fields, values, zone, None)
}

/// [`render`], with a refusal shown inside the field it names (`at`: the field's name and
/// the refusal's box), so the page opens at the field to change.
pub fn render_with_problem(
    fields: &[Field],
    values: &BTreeMap<String, String>,
    zone: SiteZone,
    at: Option<(&str, &Markup)>,
) -> Markup {
    html! {
        @for f in fields {
            @let id = format!("f-{}", f.name);
            @let value = values.get(&f.name).cloned().unwrap_or_default();
            @let help_id = format!("{id}-help");
            div.field {
                @match &f.kind {
                    Kind::Bool => {
                        label for=(id) {
                            input type="checkbox" id=(id) name=(f.name) value="true" checked[value == "true"] aria-describedby=(help_id);
                            " " (f.label)
                        }
                    }
                    Kind::YesNo => (yes_no(&id, &f.name, &f.label, &value, false, Some(&help_id))),
                    kind => {
                        label for=(id) { (f.label) @if f.required { span.req aria-hidden="true" { " *" } } }
                        @match kind {
                            Kind::Choice(options) => {
                                select id=(id) name=(f.name) required[f.required] aria-describedby=(help_id) {
                                    // No choice is pre-selected: a required list starts on
                                    // an empty placeholder the browser will not accept.
                                    option value="" selected[value.is_empty()] { @if f.required { "— choose —" } @else { "—" } }
                                    @for (v, label) in options {
                                        option value=(v) selected[*v == value] { (label) }
                                    }
                                }
                            }
                            Kind::Integer => input type="number" step="1" id=(id) name=(f.name) value=(value) required[f.required] aria-describedby=(help_id);
                            Kind::Number => input type="number" step="any" id=(id) name=(f.name) value=(value) required[f.required] aria-describedby=(help_id);
                            Kind::Date => input type="date" id=(id) name=(f.name) value=(value) required[f.required] aria-describedby=(help_id);
                            Kind::DateTime => input type="datetime-local" id=(id) name=(f.name) value=(value) required[f.required] aria-describedby=(help_id);
                            _ => input type="text" id=(id) name=(f.name) value=(value) maxlength="2000" aria-describedby=(help_id);
                        }
                    }
                }
                @if let Some(help) = &f.help {
                    small.help id=(help_id) { (help) @if f.kind == Kind::DateTime { " (local time, " (zone.name()) ")" } }
                }
                @if let Some((name, problem)) = at && *name == f.name { (problem) }
            }
        }
    }
}

/// The form field a refusal is about: the first name in backticks in its message that is
/// one of the form's fields (the protocol writes "`sample_at` (…) is in the future").
pub fn refused_field(message: &str, fields: &[Field]) -> Option<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|name| fields.iter().any(|f| f.name == *name))
        .map(str::to_owned)
}

/// Reads submitted values into the command's JSON, or names every field that could not
/// be read. Date-times are read as local times in `zone`.
pub fn to_json(
    fields: &[Field],
    values: &BTreeMap<String, String>,
    zone: SiteZone,
) -> Result<Value, Vec<String>> {
    let mut out = Map::new();
    let mut problems = Vec::new();
    for f in fields {
        let raw = values.get(&f.name).map(|s| s.trim()).unwrap_or("");
        if f.kind == Kind::Bool {
            out.insert(f.name.clone(), Value::Bool(raw == "true" || raw == "on"));
            continue;
        }
        if f.kind == Kind::YesNo {
            // Unanswered stays out: the protocol decides whether an answer was needed.
            if let Some(answer) = yes_no_value(raw) {
                out.insert(f.name.clone(), Value::Bool(answer));
            }
            continue;
        }
        if raw.is_empty() {
            // An empty text is a value (an INR has the unit ""); the protocol judges it.
            if f.required && f.kind == Kind::Text {
                out.insert(f.name.clone(), Value::String(String::new()));
            } else if f.required {
                problems.push(format!("{}: required", f.label));
            }
            continue;
        }
        let parsed = match &f.kind {
            Kind::Integer => raw
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| "a whole number".to_string()),
            Kind::Number => raw
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Value::from)
                .ok_or_else(|| "a number".to_string()),
            Kind::DateTime => local_to_utc(raw, zone)
                .map(Value::String)
                .ok_or_else(|| "a date and time".to_string()),
            Kind::Choice(options) if !options.iter().any(|(v, _)| v == raw) => {
                Err("one of the listed choices".to_string())
            }
            _ => Ok(Value::String(raw.to_string())),
        };
        match parsed {
            Ok(v) => {
                out.insert(f.name.clone(), v);
            }
            Err(expected) => problems.push(format!("{}: expected {expected}", f.label)),
        }
    }
    if problems.is_empty() {
        Ok(Value::Object(out))
    } else {
        Err(problems)
    }
}

/// The fields that name an existing entry (the entry a correction corrects, the entry a
/// retraction retracts): forms offer them as a choice of the participant's entries.
pub const ENTRY_FIELDS: [&str; 2] = ["corrects", "entry_id"];

/// A field naming an entry as a choice of `entries` (id, description), never typed by
/// hand; `value` is chosen when it is one of them.
pub fn entry_select(f: &Field, entries: &[(String, String)], value: &str) -> Markup {
    let id = format!("f-{}", f.name);
    let help_id = format!("{id}-help");
    html! {
        div.field {
            label for=(id) { (f.label) @if f.required { span.req aria-hidden="true" { " *" } } }
            select id=(id) name=(f.name) required[f.required] aria-describedby=(help_id) {
                option value="" selected[value.is_empty()] { @if f.required { "— choose —" } @else { "— a new entry —" } }
                @for (v, label) in entries {
                    option value=(v) selected[v == value] { (label) }
                }
            }
            @if let Some(help) = &f.help { small.help id=(help_id) { (help) } }
        }
    }
}

/// An entry's recorded values as the form's typed values, to start a correction from
/// what is stored: date-times shown as local times in `zone`.
pub fn values_of_entry(
    fields: &[Field],
    entry: &Value,
    zone: SiteZone,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in fields {
        let Some(v) = entry.get(&f.name) else {
            continue;
        };
        let text = match (v, &f.kind) {
            (Value::String(s), Kind::DateTime) => s
                .parse::<chrono::DateTime<chrono::Utc>>()
                .map(|t| {
                    t.with_timezone(&zone.0)
                        .format("%Y-%m-%dT%H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
            (Value::String(s), _) => s.clone(),
            (Value::Number(n), _) => n.to_string(),
            (Value::Bool(b), _) => b.to_string(),
            _ => continue,
        };
        out.insert(f.name.clone(), text);
    }
    out
}

/// Converts a `datetime-local` value typed in `zone` to RFC 3339 UTC. In the autumn hour
/// that occurs twice the earlier reading is taken; in the spring hour that does not exist,
/// nothing is guessed.
pub fn local_to_utc(raw: &str, zone: SiteZone) -> Option<String> {
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    Some(
        zone.to_utc(naive)?
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["form_version", "signed_at", "count", "kind"],
            "properties": {
                "form_version": {"type": "string", "description": "Version printed on the form"},
                "signed_at": {"type": "string", "format": "date-time"},
                "count": {"type": "integer"},
                "weight_kg": {"type": ["number", "null"]},
                "kind": {"$ref": "#/$defs/Kind"},
                "flag": {"type": "boolean"},
                "signature": {"type": "object"},
                "list": {"type": "array"}
            },
            "$defs": {"Kind": {"oneOf": [{"const": "serum", "description": "blood"}, {"const": "urine"}]}}
        })
    }

    #[test]
    fn schema_becomes_fields_without_signature_or_lists() {
        let order = [
            "form_version",
            "signed_at",
            "count",
            "weight_kg",
            "kind",
            "flag",
            "signature",
            "list",
        ];
        let f = fields(&schema(), &order);
        let names: Vec<_> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "form_version",
                "signed_at",
                "count",
                "weight_kg",
                "kind",
                "flag"
            ]
        );
        assert_eq!(f[1].kind, Kind::DateTime);
        assert!(!f[3].required);
        assert_eq!(
            f[4].kind,
            Kind::Choice(vec![
                ("serum".into(), "blood".into()),
                ("urine".into(), "urine".into())
            ])
        );
    }

    #[test]
    fn submitted_text_becomes_typed_json_and_problems_are_named() {
        let f = fields(
            &schema(),
            &[
                "form_version",
                "signed_at",
                "count",
                "weight_kg",
                "kind",
                "flag",
            ],
        );
        let mut v = BTreeMap::new();
        v.insert("form_version".into(), "2.1".into());
        v.insert("signed_at".into(), "2026-07-01T10:30".into());
        v.insert("count".into(), "3".into());
        v.insert("weight_kg".into(), "61,5".into());
        v.insert("kind".into(), "serum".into());
        let j = to_json(&f, &v, SiteZone::default()).unwrap();
        // 10:30 in Stockholm in July is 08:30 UTC (CEST, UTC+2).
        assert_eq!(j["signed_at"], "2026-07-01T08:30:00Z");
        assert_eq!(j["weight_kg"], 61.5);
        assert_eq!(j["flag"], false);
        v.insert("count".into(), "three".into());
        v.remove("signed_at");
        let errs = to_json(&f, &v, SiteZone::default()).unwrap_err();
        assert_eq!(
            errs,
            vec![
                "Signed at: required".to_string(),
                "Count: expected a whole number".to_string()
            ]
        );
        // An empty required text is a value of its own (the unit of an INR is "").
        v.insert("signed_at".into(), "2026-07-01T10:30".into());
        v.insert("count".into(), "3".into());
        v.insert("form_version".into(), String::new());
        assert_eq!(
            to_json(&f, &v, SiteZone::default()).unwrap()["form_version"],
            ""
        );
    }

    #[test]
    fn an_optional_yes_no_is_a_question_with_no_answer_chosen() {
        let schema = json!({
            "type": "object",
            "required": ["criterion"],
            "properties": {
                "answer": {"type": ["boolean", "null"], "title": "Answer", "description": "Your answer: Yes or No. See [`Rule`]."},
                "start_date": {"type": "string", "format": "date", "description": "Start date."},
                "criterion": {"type": "string", "description": "Criterion, e.g. `IN7`."}
            }
        });
        let f = fields(&schema, &["answer", "start_date", "criterion"]);
        assert_eq!(f[0].kind, Kind::YesNo);
        assert_eq!(
            f[0].help.as_deref(),
            Some("Your answer: Yes or No. See Rule.")
        );
        assert_eq!(f[1].label, "Start date");
        assert_eq!(
            f[1].help, None,
            "a help text that repeats the label is left out"
        );
        assert_eq!(f[2].help.as_deref(), Some("Criterion, e.g. IN7."));
        let html = render(&f[..1], &BTreeMap::new(), SiteZone::default()).into_string();
        assert_eq!(html.matches("type=\"radio\"").count(), 2, "{html}");
        assert!(!html.contains("checked"), "nothing chosen: {html}");
        let mut v = BTreeMap::new();
        v.insert("criterion".to_string(), "IN7".to_string());
        let j = to_json(&f, &v, SiteZone::default()).unwrap();
        assert!(
            j.get("answer").is_none(),
            "unanswered stays unanswered: {j}"
        );
        v.insert("answer".to_string(), "false".to_string());
        assert_eq!(
            to_json(&f, &v, SiteZone::default()).unwrap()["answer"],
            false
        );
        v.insert("answer".to_string(), "true".to_string());
        assert_eq!(
            to_json(&f, &v, SiteZone::default()).unwrap()["answer"],
            true
        );
    }

    #[test]
    fn winter_time_is_one_hour_ahead_of_utc() {
        assert_eq!(
            local_to_utc("2026-01-15T08:00", SiteZone::default()).unwrap(),
            "2026-01-15T07:00:00Z"
        );
        // 02:30 on the last Sunday of March does not exist in Stockholm.
        assert_eq!(local_to_utc("2026-03-29T02:30", SiteZone::default()), None);
    }
}
