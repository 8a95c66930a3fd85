use serde_json::json;

use super::*;

#[test]
fn delivery_notification_reads_an_object_or_a_one_element_array() {
    let one =
        json!({"deliveryInfo": {"address": "tel:+1", "deliveryStatus": "DeliveredToTerminal"}});
    let array =
        json!({"deliveryInfo": [{"address": "tel:+1", "deliveryStatus": "DeliveredToTerminal"}]});
    let a: DeliveryInfoNotification = serde_json::from_value(one.clone()).unwrap();
    let b: DeliveryInfoNotification = serde_json::from_value(array).unwrap();
    assert_eq!(a, b);
    assert_eq!(serde_json::to_value(&a).unwrap(), one);
}

#[test]
fn addresses_in_urls_are_encoded_as_the_spec_examples() {
    assert_eq!(
        urls::request("http://h/1", "tel:+15551230001", "r5c77bd"),
        "http://h/1/messaging/outbound/tel%3A%2B15551230001/requests/r5c77bd"
    );
    assert_eq!(
        urls::attachment("http://h/1", "3456", "m1", "a1"),
        "http://h/1/messaging/inbound/registrations/3456/messages/m1/attachments/a1"
    );
}
