//! Address List Management end to end: every user has `rcs` and `rcs_revoke`; members are
//! added (201, then 200), read, listed and removed; lists are created, read, renamed and
//! deleted; the exceptions of addresslist.md (SVC0240, POL0001, POL0002, POL0210, POL0213,
//! 404) change nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    harness::{Mode, Suite, both_modes, unique_tel},
    messaging::enc,
};

both_modes!(
    members_of_the_rcs_list_are_added_read_listed_and_removed,
    lists_are_created_renamed_and_deleted_but_not_the_rcs_ones,
    a_user_the_key_may_not_act_for_is_refused,
);

pub fn member_path(user: &str, list: &str, member: &str) -> String {
    format!(
        "/addresslistmgt/{}/contactLists/{list}/members/{}",
        enc(user),
        enc(member)
    )
}

async fn members_of_the_rcs_list_are_added_read_listed_and_removed(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (a, b) = (unique_tel(), unique_tel());
    let app = suite.app("alm", &[&a]).await;
    let path = member_path("acr:Authorization", "rcs", &b);
    let put = app
        .send(
            Method::PUT,
            &path,
            Some(json!({"member": {"memberId": b, "displayName": "Bob"}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{:?}", put.body);
    let url = app.url(&path);
    assert_eq!(put.header("location"), url);
    assert_eq!(put.body["member"]["resourceURL"], url.as_str());
    assert_eq!(put.body["member"]["memberId"], b.as_str());
    assert_eq!(put.body["member"]["displayName"], "Bob");
    let again = app
        .send(
            Method::PUT,
            &path,
            Some(json!({"member": {"displayName": "Bob"}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    // An empty body means "add with no extra data".
    let other = unique_tel();
    let bare = app
        .raw(
            Method::PUT,
            &member_path("acr:Authorization", "rcs", &other),
            "application/json",
            vec![],
        )
        .await;
    assert_eq!(bare.status, StatusCode::CREATED, "{:?}", bare.body);
    // The body contradicts the URL: nothing changes.
    let wrong = app
        .send(
            Method::PUT,
            &path,
            Some(json!({"member": {"memberId": unique_tel()}})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.exception(), ("SVC0240", vec!["memberId".to_string()]));
    let read = app.send(Method::GET, &path, None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["member"]["displayName"], "Bob");
    let list = app
        .send(
            Method::GET,
            &format!("/addresslistmgt/{}/contactLists/rcs/members", enc(&a)),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let members = list.body["memberList"]["member"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["memberId"], b.as_str());
    // Unknown list: 404 before the body is looked at.
    let unknown = app
        .send(
            Method::PUT,
            &member_path(&a, "nolist", &b),
            Some(json!({"member": {"memberId": "x"}})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // A member id that is no address.
    let bad = app
        .send(Method::PUT, &member_path(&a, "rcs", "bob"), None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.exception().0, "SVC0004");
    let del = app.send(Method::DELETE, &path, None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = app.send(Method::DELETE, &path, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.send(Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn lists_are_created_renamed_and_deleted_but_not_the_rcs_ones(mode: Mode) {
    let suite = Suite::start(mode).await;
    let a = unique_tel();
    let app = suite.app("alm", &[&a]).await;
    let lists = format!("/addresslistmgt/{}/contactLists", enc(&a));
    let all = app.send(Method::GET, &lists, None).await;
    assert_eq!(all.status, StatusCode::OK);
    let ids: Vec<_> = all.body["contactListCollection"]["contactList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["contactListId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["rcs", "rcs_revoke"]);
    let created = app
        .send(
            Method::POST,
            &lists,
            Some(json!({"contactList": {"contactListId": "friends", "displayName": "Friends"}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let url = app.url(&format!("{lists}/friends"));
    assert_eq!(created.header("location"), url);
    assert_eq!(created.body["contactList"]["resourceURL"], url.as_str());
    let twice = app
        .send(
            Method::POST,
            &lists,
            Some(json!({"contactList": {"contactListId": "friends"}})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::FORBIDDEN);
    assert_eq!(twice.exception().0, "POL0213");
    let generated = app
        .send(
            Method::POST,
            &lists,
            Some(json!({"contactList": {"displayName": "Work"}})),
        )
        .await;
    assert_eq!(generated.status, StatusCode::CREATED);
    assert!(
        generated.body["contactList"]["contactListId"]
            .as_str()
            .unwrap()
            .starts_with("cl")
    );
    let renamed = app
        .send(
            Method::PUT,
            &format!("{lists}/friends"),
            Some(json!({"contactList": {"displayName": "Best friends"}})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.body["contactList"]["displayName"], "Best friends");
    let key = app
        .send(
            Method::PUT,
            &format!("{lists}/friends"),
            Some(json!({"contactList": {"contactListId": "other"}})),
        )
        .await;
    assert_eq!(key.exception().0, "SVC0240");
    let rename_rcs = app
        .send(
            Method::PUT,
            &format!("{lists}/rcs"),
            Some(json!({"contactList": {"displayName": "x"}})),
        )
        .await;
    assert_eq!(rename_rcs.status, StatusCode::FORBIDDEN);
    assert_eq!(rename_rcs.exception().0, "POL0001");
    for reserved in ["rcs", "rcs_revoke"] {
        let del = app
            .send(Method::DELETE, &format!("{lists}/{reserved}"), None)
            .await;
        assert_eq!(del.status, StatusCode::FORBIDDEN);
        assert_eq!(del.exception().0, "POL0001");
    }
    let b = unique_tel();
    let member = app
        .send(
            Method::PUT,
            &member_path(&a, "friends", &b),
            Some(json!({})),
        )
        .await;
    assert_eq!(member.status, StatusCode::CREATED);
    assert_eq!(
        app.send(Method::DELETE, &format!("{lists}/friends"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send(Method::GET, &format!("{lists}/friends"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send(Method::GET, &member_path(&a, "friends", &b), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn a_user_the_key_may_not_act_for_is_refused(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (a, b, c) = (unique_tel(), unique_tel(), unique_tel());
    let app = suite.app("alm", &[&a, &b]).await;
    let refused = app
        .send(Method::PUT, &member_path(&c, "rcs", &a), Some(json!({})))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.exception(), ("POL0002", vec![c.clone()]));
    // Two users: acr:Authorization names none of them.
    let acr = app
        .send(
            Method::GET,
            "/addresslistmgt/acr%3AAuthorization/contactLists",
            None,
        )
        .await;
    assert_eq!(acr.status, StatusCode::FORBIDDEN);
    assert_eq!(acr.exception().0, "POL0002");
    let junk = app
        .send(Method::GET, "/addresslistmgt/bob/contactLists", None)
        .await;
    assert_eq!(junk.status, StatusCode::FORBIDDEN);
    // Nothing was added.
    let members = app
        .send(
            Method::GET,
            &format!("/addresslistmgt/{}/contactLists/rcs/members", enc(&c)),
            None,
        )
        .await;
    assert_eq!(members.status, StatusCode::FORBIDDEN);
    let own = app
        .send(
            Method::GET,
            &format!("/addresslistmgt/{}/contactLists/rcs/members", enc(&a)),
            None,
        )
        .await;
    assert!(
        own.body["memberList"]["member"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
