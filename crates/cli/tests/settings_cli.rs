//! `her2ex settings` and issue 10, point 16: the settings output names the settings
//! version and the protocol version they belong to; an amendment names its protocol
//! version; an APTT limit set both ways is refused naming the keys.

#[allow(dead_code)]
mod common;

use common::{her2ex_with as her2ex, text};

use serde_json::{Value, json};

#[test]
fn settings_show_and_set_name_the_protocol_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let o = her2ex(
        data,
        &["init", "--password-stdin"],
        Some("admin-password-1\n"),
    );
    assert!(o.status.success(), "{}", text(&o));

    let o = her2ex(data, &["settings", "show"], None);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "settings version 1 in force (protocol: HER2-Ex PET registration NCT06830382"
        ),
        "{stderr}"
    );
    // stdout is still the JSON to edit, with the new keys and their defaults.
    let mut settings: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(settings["bleeding"]["aptt_max_s"], 30.0);
    assert_eq!(settings["bleeding"]["aptt_max_x_uln"], Value::Null);
    assert_eq!(settings["imp_products"], json!(["ABY-025"]));
    assert_eq!(settings["regulatory_framework"], "EU_CTR");

    let file = data.join("amendment.json");
    let set = |settings: &Value| {
        std::fs::write(&file, settings.to_string()).unwrap();
        let args = [
            "settings",
            "set",
            file.to_str().unwrap(),
            "--reason",
            "amendment 1: APTT by ULN",
        ];
        her2ex(data, &args, None)
    };
    settings["version"] = json!(2);
    settings["protocol_version"] = json!("HER2-Ex PET protocol v2.0");
    settings["bleeding"]["aptt_max_x_uln"] = json!(1.5);
    let o = set(&settings);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("bleeding.aptt_max_s / bleeding.aptt_max_x_uln"),
        "{}",
        text(&o)
    );

    settings["bleeding"]["aptt_max_s"] = Value::Null;
    let o = set(&settings);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("settings version 2 in force (protocol: HER2-Ex PET protocol v2.0)"),
        "{}",
        text(&o)
    );
    let o = her2ex(data, &["settings", "show"], None);
    let now: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(now["bleeding"]["aptt_max_x_uln"], 1.5);
    assert_eq!(now["protocol_version"], "HER2-Ex PET protocol v2.0");
}
