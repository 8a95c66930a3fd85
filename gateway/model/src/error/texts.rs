//! Text templates of the exception ids (common.md §6.2), with `%1`, `%2`… placeholders.

/// Template for a generic service error, also used for unknown `SVC` ids.
const SVC0001: &str = "A service error occurred. Error code is %1";
/// Template for a generic policy error, also used for unknown `POL` ids.
const POL0001: &str = "A policy error occurred. Error code is %1";

/// The text template sent with `message_id`; unknown ids get the SVC0001 or POL0001 template.
pub fn text_for(message_id: &str) -> &'static str {
    match message_id {
        "SVC0001" => SVC0001,
        "SVC0002" => "Invalid input value for message part %1",
        "SVC0003" => "Invalid input value for message part %1, valid values are %2",
        "SVC0004" => "No valid addresses provided in message part %1",
        "SVC0005" => "Correlator %1 specified in message part %2 is a duplicate",
        "SVC0006" => "Group %1 in message part %2 is not a valid group",
        "SVC0007" => "Invalid charging information",
        "SVC0008" => "Overlapped criteria %1",
        "POL0001" => POL0001,
        "POL0002" => "Privacy verification failed for address %1, request is refused",
        "POL0003" => "Too many addresses specified in message part %1",
        "POL0004" => "Unlimited notifications are not supported",
        "POL0005" => "Too many notifications requested",
        "POL0006" => "Group %1 in message part %2 not allowed",
        "POL0007" => "Nested groups not allowed in group %1",
        "POL0008" => "Charging is not supported",
        "POL0009" => "Invalid frequency requested",
        "POL0010" => "Retention time interval expired",
        "POL0011" => "Media type not supported",
        "POL0012" => "Too many description entries specified in message part %1",
        "POL0013" => "Duplicated addresses %1",
        other => api_specific(other),
    }
}

/// Ids owned by one API (common.md §6.2, second table).
fn api_specific(message_id: &str) -> &'static str {
    match message_id {
        "SVC0261" => "Call session %1 already terminated",
        "SVC0290" => "Media stream %1 is a duplicate",
        "SVC0291" => "Media stream %1 does not match",
        "SVC0280" => "Message too long. Maximum length is %1 characters",
        "SVC0281" => "Unrecognized data format %1",
        "SVC0283" => "Delivery Receipt Notification not supported",
        "SVC0220" => "No subscription request from watcher %1",
        "SVC0221" => "%1 is not a watcher",
        "SVC0222" | "SVC0240" => "Key property %1 cannot be changed",
        "POL0260" | "POL0214" => "Too many resources of type %1",
        "POL0210" => "Too many members in group %1",
        "POL0211" => "Subgroups not supported",
        "POL0212" => "Group name too long",
        "POL0213" => "Group %1 already exists",
        "POL1019" => "Binary SMS not allowed",
        "POL1020" => "Maximum batch size %1 exceeded",
        other if other.starts_with("POL") => POL0001,
        _ => SVC0001,
    }
}
