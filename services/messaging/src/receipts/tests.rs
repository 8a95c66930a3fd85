//! The receipts' rounds: applied in memory, written in one statement while each row is as
//! read, and applied again to a row that changed meanwhile.

use parlay_kit::db::{connect_and_migrate, sqlite_plans};
use parlay_proto::net::v1::DeliveryState;
use sea_orm::{ActiveModelTrait, DbBackend, IntoActiveModel, QueryOrder, TransactionTrait};

use super::*;

fn receipt(request: &str, destination: &str, state: DeliveryState) -> Traced<DeliveryReceipt> {
    Traced {
        item: DeliveryReceipt {
            event_id: parlay_kit::ids::new_id("ev"),
            request_id: request.into(),
            destination: destination.into(),
            state: state as i32,
            description: Some(format!("{state:?}")),
            ..Default::default()
        },
        span: tracing::Span::none(),
    }
}

fn row(request: &str, position: i32, address: &str) -> delivery::Model {
    let waiting = DeliveryStatus::MessageWaiting;
    delivery::Model {
        request_id: request.into(),
        position,
        address: address.into(),
        address_lower: address.to_lowercase(),
        status: domain::status_name(waiting).into(),
        status_rank: i32::from(domain::rank(waiting)),
        description: None,
        updated_at: Utc::now(),
    }
}

fn stated(receipts: &[Traced<DeliveryReceipt>]) -> Vec<(usize, DeliveryStatus)> {
    receipts
        .iter()
        .enumerate()
        .map(|(i, r)| (i, convert::from_state(r.state()).unwrap()))
        .collect()
}

#[test]
fn a_batch_is_applied_in_memory_in_order_one_row_each() {
    use DeliveryState::*;
    let rows = [row("rq1", 0, "tel:+1"), row("rq1", 1, "SIP:b@x")];
    let receipts = [
        receipt("rq1", "tel:+1", DeliveredToNetwork),
        receipt("rq1", "tel:+1", DeliveredToTerminal),
        // Overtaken: after the terminal status it changes nothing.
        receipt("rq1", "tel:+1", DeliveredToNetwork),
        // Nothing applied to the row before it: no row is planned for it.
        receipt("rq1", "sip:B@x", MessageWaiting),
        receipt("rq9", "tel:+1", DeliveredToTerminal),
    ];
    let read = rows
        .iter()
        .map(|r| ((r.request_id.clone(), r.address_lower.clone()), r.clone()))
        .collect();
    let mut outcomes = vec![Outcome::Duplicate; receipts.len()];
    let planned = plan(&receipts, &stated(&receipts), read, &mut outcomes);
    assert_eq!(
        outcomes,
        [
            Outcome::Applied,
            Outcome::Applied,
            Outcome::Ignored,
            Outcome::Ignored,
            Outcome::Unknown
        ]
    );
    assert_eq!(planned.len(), 1);
    let p = &planned[0];
    assert_eq!((p.request_id.as_str(), p.position), ("rq1", 0));
    assert_eq!(p.status, DeliveryStatus::DeliveredToTerminal);
    assert_eq!(p.rank, i32::from(domain::rank(p.status)));
    assert_eq!(p.description.as_deref(), Some("DeliveredToTerminal"));
    assert_eq!(p.read_rank, rows[0].status_rank);
    assert_eq!(
        p.applied,
        [
            (0, DeliveryStatus::DeliveredToNetwork),
            (1, DeliveryStatus::DeliveredToTerminal)
        ]
    );
    assert_eq!(p.ignored, [(2, DeliveryStatus::DeliveredToNetwork)]);
}

#[tokio::test]
async fn a_row_changed_since_it_was_read_is_not_written_and_is_applied_again() {
    use DeliveryState::*;
    let file = std::env::temp_dir().join(format!("{}.db", parlay_kit::ids::new_id("rcpt-")));
    let db =
        connect_and_migrate::<crate::Migrator>(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .unwrap();
    request::Model {
        id: "rq1".into(),
        app_id: "app".into(),
        sender_address: "tel:+15550000".into(),
        sender_name: None,
        client_correlator: None,
        request_hash: String::new(),
        root: "sms".into(),
        kind: "sms".into(),
        text: Some("hi".into()),
        subject: None,
        priority: None,
        attachments: None,
        segments: 1,
        notify_url: None,
        callback_data: None,
        created_at: Utc::now(),
    }
    .into_active_model()
    .insert(&db)
    .await
    .unwrap();
    for r in [row("rq1", 0, "tel:+1"), row("rq1", 1, "tel:+2")] {
        r.into_active_model().insert(&db).await.unwrap();
    }
    let receipts = [
        receipt("rq1", "tel:+1", DeliveredToNetwork),
        receipt("rq1", "tel:+2", DeliveryUncertain),
        receipt("rq1", "tel:+2", DeliveredToNetwork),
    ];
    let these = stated(&receipts);
    let txn = db.begin().await.unwrap();
    let mut outcomes = vec![Outcome::Unknown; receipts.len()];
    let read = rows_of(&txn, &receipts, &these).await.unwrap();
    let planned = plan(&receipts, &these, read, &mut outcomes);
    // Another writer moves tel:+2 to DeliveredToNetwork after the read.
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::StatusRank,
            sea_orm::sea_query::Expr::value(i32::from(domain::rank(
                DeliveryStatus::DeliveredToNetwork,
            ))),
        )
        .col_expr(
            delivery::Column::Status,
            sea_orm::sea_query::Expr::value("DeliveredToNetwork"),
        )
        .filter(delivery::Column::Position.eq(1))
        .exec(&txn)
        .await
        .unwrap();
    let now = Utc::now();
    assert_eq!(write(&txn, &planned, now).await.unwrap(), [true, false]);
    // Applied again to tel:+2 as it is now: DeliveryUncertain still moves it forward, the
    // DeliveredToNetwork after it does not.
    let again: Vec<(usize, DeliveryStatus)> = planned[1]
        .applied
        .iter()
        .chain(&planned[1].ignored)
        .copied()
        .collect();
    assert_eq!(again.len(), 2);
    let read = rows_of(&txn, &receipts, &again).await.unwrap();
    let replanned = plan(&receipts, &again, read, &mut outcomes);
    assert_eq!(write(&txn, &replanned, now).await.unwrap(), [true]);
    txn.commit().await.unwrap();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Applied, Outcome::Ignored]
    );
    let rows = delivery::Entity::find()
        .order_by_asc(delivery::Column::Position)
        .all(&db)
        .await
        .unwrap();
    let statuses: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.status.as_str(), r.description.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("DeliveredToNetwork", Some("DeliveredToNetwork")),
            ("DeliveryUncertain", Some("DeliveryUncertain"))
        ]
    );
    db.close().await.unwrap();
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn the_write_looks_each_row_up_by_its_key() {
    let planned = [Planned {
        request_id: "rq1".into(),
        position: 0,
        address: "tel:+1".into(),
        read_rank: 0,
        status: DeliveryStatus::DeliveredToTerminal,
        rank: 3,
        description: None,
        applied: Vec::new(),
        ignored: Vec::new(),
    }];
    let statement = DbBackend::Sqlite.build(&write_statement(&planned, Utc::now()));
    let plans = sqlite_plans::<crate::Migrator>(&[statement]).await.unwrap();
    let scans: Vec<&str> = plans[0]
        .lines()
        .filter(|l| l.contains("SCAN messaging_deliveries"))
        .collect();
    assert!(scans.is_empty(), "the write scans the table:\n{}", plans[0]);
    assert!(
        plans[0].contains("SEARCH messaging_deliveries USING"),
        "{}",
        plans[0]
    );
}

/// The read of a round, run alone in `txn`.
async fn rows_of(
    txn: &sea_orm::DatabaseTransaction,
    receipts: &[Traced<DeliveryReceipt>],
    these: &[(usize, DeliveryStatus)],
) -> Result<HashMap<(String, String), delivery::Model>> {
    use sea_orm::ConnectionTrait;
    let statement = rows_statement(txn.get_database_backend(), receipts, these);
    rows_from(&txn.query_all_raw(statement).await?)
}

/// The write of a round, run alone in `txn`: whether each planned row was written.
async fn write(
    txn: &sea_orm::DatabaseTransaction,
    planned: &[Planned],
    now: chrono::DateTime<Utc>,
) -> Result<Vec<bool>> {
    use sea_orm::ConnectionTrait;
    let statement = txn
        .get_database_backend()
        .build(&write_statement(planned, now));
    written_of(planned, &txn.query_all_raw(statement).await?)
}
