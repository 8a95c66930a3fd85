//! Applications on a real SQLite file: creation, key format, authentication, restrictions.

use sea_orm::{DatabaseConnection, EntityTrait};

use super::*;
use crate::Migrator;

/// A fresh database in a file of its own, removed when dropped.
pub(crate) struct TempDb {
    pub db: DatabaseConnection,
    path: std::path::PathBuf,
}

impl TempDb {
    pub(crate) async fn new() -> TempDb {
        let path = std::env::temp_dir().join(format!(
            "parlay-gateway-{}.db",
            parlay_kit::ids::new_id("t")
        ));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = parlay_kit::db::connect_and_migrate::<Migrator>(&url)
            .await
            .unwrap();
        TempDb { db, path }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

#[tokio::test]
async fn created_apps_authenticate_with_their_key_only() {
    let t = TempDb::new().await;
    let users = vec!["tel:+15551230001".to_string()];
    let (app, key) = create(&t.db, " Click to call ", users.clone())
        .await
        .unwrap();
    assert_eq!(app.name, "Click to call");
    assert_eq!(app.users, users);
    assert!(app.id.starts_with("app"));
    assert!(key.starts_with("prl_"));
    assert_eq!(key.len(), 44);
    assert!(key[4..].bytes().all(|b| b.is_ascii_alphanumeric()));

    assert_eq!(authenticate(&t.db, &key).await.unwrap(), Some(app.clone()));
    assert_eq!(authenticate(&t.db, "prl_wrong").await.unwrap(), None);
    assert_eq!(authenticate(&t.db, "").await.unwrap(), None);

    // Only the hash is stored.
    let rows = entity::Entity::find().all(&t.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key_hash, key_hash(&key));
    assert!(!rows[0].key_hash.contains(&key[4..]));
}

#[tokio::test]
async fn each_app_gets_its_own_key() {
    let t = TempDb::new().await;
    let (a, key_a) = create(&t.db, "a", vec![]).await.unwrap();
    let (b, key_b) = create(&t.db, "b", vec![]).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_ne!(key_a, key_b);
    assert_eq!(authenticate(&t.db, &key_b).await.unwrap().unwrap().id, b.id);
}

#[tokio::test]
async fn invalid_names_and_patterns_create_nothing() {
    let t = TempDb::new().await;
    assert!(matches!(
        create(&t.db, "  ", vec![]).await,
        Err(AppsError::InvalidName)
    ));
    let long = "x".repeat(129);
    assert!(matches!(
        create(&t.db, &long, vec![]).await,
        Err(AppsError::InvalidName)
    ));
    let bad = vec!["tel:+1555*".to_string(), "mailto:x@y".to_string()];
    match create(&t.db, "app", bad).await {
        Err(AppsError::InvalidPattern(p)) => assert_eq!(p, "mailto:x@y"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(entity::Entity::find().all(&t.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let t = TempDb::new().await;
    use sea_orm_migration::MigratorTrait;
    Migrator::up(&t.db, None).await.unwrap();
    assert!(
        Migrator::get_pending_migrations(&t.db)
            .await
            .unwrap()
            .is_empty()
    );
}

fn app(users: &[&str]) -> App {
    App {
        id: "app1".into(),
        name: "test".into(),
        users: users.iter().map(|s| s.to_string()).collect(),
        registrations: Vec::new(),
    }
}

#[test]
fn bound_user_is_one_literal_pattern() {
    assert_eq!(
        app(&["tel:+15551230001"]).bound_user(),
        Some("tel:+15551230001")
    );
    assert_eq!(app(&[]).bound_user(), None);
    assert_eq!(app(&["tel:+1555*"]).bound_user(), None);
    assert_eq!(app(&["tel:+1555123000?"]).bound_user(), None);
    assert_eq!(
        app(&["tel:+15551230001", "tel:+15551230002"]).bound_user(),
        None
    );
}

#[test]
fn restrictions_follow_the_patterns() {
    assert!(app(&[]).may_act_for("tel:+4930123"));
    let restricted = app(&["tel:+1555*", "sip:bob@ims.example.com"]);
    assert!(restricted.may_act_for("tel:+15551230001"));
    assert!(restricted.may_act_for("sip:bob@ims.example.com"));
    assert!(!restricted.may_act_for("sip:alice@ims.example.com"));
    assert!(!restricted.may_act_for("tel:+4930123"));
}

#[tokio::test]
async fn registrations_are_checked_stored_and_read_back() {
    let t = TempDb::new().await;
    let registrations = vec![
        "tel:+15551230001".to_string(),
        "3456".to_string(),
        "TEL:+15551230001".to_string(),
        "sip:shop@ims.example.com".to_string(),
    ];
    let (app, key) = create_with(&t.db, "reader", vec![], registrations)
        .await
        .unwrap();
    assert_eq!(
        app.registrations,
        ["tel:+15551230001", "3456", "sip:shop@ims.example.com"]
    );
    assert_eq!(authenticate(&t.db, &key).await.unwrap(), Some(app.clone()));
    assert_eq!(
        app.registration("Tel:+15551230001"),
        Some("tel:+15551230001")
    );
    assert_eq!(app.registration("3456"), Some("3456"));
    assert_eq!(app.registration("34567"), None);

    // Without registrations: an empty list.
    let (plain, key) = create(&t.db, "plain", vec![]).await.unwrap();
    assert!(plain.registrations.is_empty());
    assert!(
        authenticate(&t.db, &key)
            .await
            .unwrap()
            .unwrap()
            .registrations
            .is_empty()
    );

    for bad in [
        "tel:+1555*",
        "acr:Authorization",
        "mailto:x@y",
        "",
        "34 56",
        "a/b",
    ] {
        match create_with(&t.db, "bad", vec![], vec![bad.to_string()]).await {
            Err(AppsError::InvalidRegistration(r)) => assert_eq!(r, bad),
            other => panic!("{bad:?}: unexpected {other:?}"),
        }
    }
    assert_eq!(entity::Entity::find().all(&t.db).await.unwrap().len(), 2);
}

#[tokio::test]
async fn apps_created_before_registrations_read_with_none() {
    use sea_orm::ConnectionTrait;
    let t = TempDb::new().await;
    t.db.execute_unprepared(
        "INSERT INTO apps (id, name, key_hash, users, created_at) \
         VALUES ('appold', 'old', 'h0', '[]', '2026-01-01T00:00:00Z')",
    )
    .await
    .unwrap();
    let old = find_by_hash(&t.db, "h0").await.unwrap().unwrap();
    assert!(old.registrations.is_empty());
}
