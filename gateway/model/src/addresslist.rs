//! Address List Management (addresslist.md §2): members and contact lists. Element names
//! are the spec's (inferred there, see docs/presence.md). Input bodies reject unknown fields;
//! repeated elements accept one object or an array.

use serde::{Deserialize, Serialize};

use crate::tolerant;

/// One free attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

/// `attributeList`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeList {
    #[serde(default, deserialize_with = "tolerant::one_or_many")]
    pub attribute: Vec<Attribute>,
}

/// `member` (§2.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Member {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_list: Option<AttributeList>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_deserializing,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

/// `{"member": …}`; a PUT may also send `{}` (no member data).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
}

/// `memberList` (§2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberList {
    #[serde(default)]
    pub member: Vec<Member>,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberListBody {
    pub member_list: MemberList,
}

/// `contactList` (§2.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactList {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_list_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_list: Option<AttributeList>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_deserializing,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactListBody {
    pub contact_list: ContactList,
}

/// `contactListCollection`: the user's lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactListCollection {
    #[serde(default)]
    pub contact_list: Vec<ContactList>,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactListCollectionBody {
    pub contact_list_collection: ContactListCollection,
}

pub mod urls {
    //! The address-list URLs: `{root}/addresslistmgt/{userId}/contactLists/…`.

    use crate::messaging::urls::segment;

    pub fn lists(root: &str, user: &str) -> String {
        format!(
            "{}/addresslistmgt/{}/contactLists",
            root.trim_end_matches('/'),
            segment(user)
        )
    }

    pub fn list(root: &str, user: &str, list: &str) -> String {
        format!("{}/{}", lists(root, user), segment(list))
    }

    pub fn members(root: &str, user: &str, list_id: &str) -> String {
        format!("{}/members", list(root, user, list_id))
    }

    pub fn member(root: &str, user: &str, list_id: &str, member: &str) -> String {
        format!("{}/{}", members(root, user, list_id), segment(member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_parse_leniently_and_refuse_read_only_fields() {
        let b: MemberBody = crate::from_json(br#"{}"#).unwrap();
        assert!(b.member.is_none());
        let b: MemberBody = crate::from_json(
            br#"{"member": {"memberId": "tel:+1", "attributeList": {"attribute": {"name": "n", "value": "v"}}}}"#,
        )
        .unwrap();
        let m = b.member.unwrap();
        assert_eq!(m.attribute_list.unwrap().attribute.len(), 1);
        assert!(crate::from_json::<MemberBody>(br#"{"member": {"resourceURL": "x"}}"#).is_err());
        assert_eq!(
            urls::member("http://h/1", "tel:+1", "rcs", "sip:a@b"),
            "http://h/1/addresslistmgt/tel%3A%2B1/contactLists/rcs/members/sip%3Aa%40b"
        );
    }
}
