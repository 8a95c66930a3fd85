//! Data structures shared by all the APIs (common.md §4).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::tolerant;

/// Where and how the server delivers notifications (§4.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallbackReference {
    /// URL the server POSTs notifications to.
    #[serde(rename = "notifyURL")]
    pub notify_url: String,
    /// Opaque value echoed in every notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// `JSON` or `XML`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_format: Option<String>,
}

/// A typed link to a related resource (§4.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Link {
    /// Relation name, e.g. `CallEventSubscription`.
    pub rel: String,
    /// Target URL.
    pub href: String,
}

/// The URL of a created resource (§4.2).
///
/// It only ever appears as a whole body, so it serializes with its root element:
/// `{"resourceReference": {"resourceURL": "..."}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceReference {
    /// Absolute URL, the same as the `Location` header.
    pub resource_url: String,
}

#[derive(Serialize, Deserialize)]
struct ResourceReferenceRoot<T> {
    #[serde(rename = "resourceReference")]
    resource_reference: T,
}

#[derive(Serialize, Deserialize)]
struct ResourceReferenceBody<T> {
    #[serde(rename = "resourceURL")]
    resource_url: T,
}

impl Serialize for ResourceReference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ResourceReferenceRoot {
            resource_reference: ResourceReferenceBody {
                resource_url: self.resource_url.as_str(),
            },
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ResourceReference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let root =
            ResourceReferenceRoot::<ResourceReferenceBody<String>>::deserialize(deserializer)?;
        Ok(ResourceReference {
            resource_url: root.resource_reference.resource_url,
        })
    }
}

/// What to charge for an operation; field name `charging` where used (§4.4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChargingInformation {
    /// Text for the bill; a single string is accepted on input, an array is always written.
    #[serde(deserialize_with = "tolerant::string_or_many")]
    pub description: Vec<String>,
    /// ISO 4217 currency code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Amount to charge; a number or a numeric string on input.
    #[serde(
        default,
        deserialize_with = "tolerant::option_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<f64>,
    /// Operator tariff code, instead of an amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn callback_reference_uses_spec_names() {
        let reference = CallbackReference {
            notify_url: "http://app.example.org/cn/events".into(),
            callback_data: Some("alice-events".into()),
            notification_format: None,
        };
        let value = serde_json::to_value(&reference).unwrap();
        assert_eq!(
            value,
            json!({"notifyURL": "http://app.example.org/cn/events", "callbackData": "alice-events"})
        );
        assert_eq!(
            serde_json::from_value::<CallbackReference>(value).unwrap(),
            reference
        );
    }

    #[test]
    fn callback_reference_rejects_unknown_fields() {
        let body = json!({"notifyURL": "http://a", "notifyUrl": "http://b"});
        let error = serde_json::from_value::<CallbackReference>(body).unwrap_err();
        assert!(error.to_string().contains("notifyUrl"), "{error}");
        assert!(serde_json::from_value::<CallbackReference>(json!({})).is_err());
    }

    #[test]
    fn resource_reference_has_its_root() {
        let reference = ResourceReference {
            resource_url: "http://api.example.com/r/1".into(),
        };
        let value = serde_json::to_value(&reference).unwrap();
        assert_eq!(
            value,
            json!({"resourceReference": {"resourceURL": "http://api.example.com/r/1"}})
        );
        assert_eq!(
            serde_json::from_value::<ResourceReference>(value).unwrap(),
            reference
        );
    }

    #[test]
    fn link_round_trips() {
        let link = Link {
            rel: "CallEventSubscription".into(),
            href: "http://x/ce91".into(),
        };
        let value = serde_json::to_value(&link).unwrap();
        assert_eq!(
            value,
            json!({"rel": "CallEventSubscription", "href": "http://x/ce91"})
        );
        assert_eq!(serde_json::from_value::<Link>(value).unwrap(), link);
    }

    #[test]
    fn charging_is_tolerant_on_input_and_strict_on_output() {
        let loose = json!({"description": "Call", "currency": "EUR", "amount": "0.50"});
        let charging: ChargingInformation = serde_json::from_value(loose).unwrap();
        assert_eq!(charging.description, ["Call"]);
        assert_eq!(charging.amount, Some(0.5));
        assert_eq!(
            serde_json::to_value(&charging).unwrap(),
            json!({"description": ["Call"], "currency": "EUR", "amount": 0.5})
        );
        let with_code = json!({"description": ["a", "b"], "code": "T1"});
        let charging: ChargingInformation = serde_json::from_value(with_code).unwrap();
        assert_eq!(charging.code.as_deref(), Some("T1"));
        assert!(serde_json::from_value::<ChargingInformation>(json!({"code": "T1"})).is_err());
        let unknown = json!({"description": "x", "price": 1});
        assert!(serde_json::from_value::<ChargingInformation>(unknown).is_err());
    }
}
