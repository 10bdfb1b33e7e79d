//! Route53 A records against moto: upsert, list by suffix (paginated), delete, INSYNC.

use bbb_core::testing as support;

use std::net::Ipv4Addr;
use std::time::Duration;

use bbb_core::aws::{ARecordChange, AwsClients, Service};
use support::{shared, unique};

/// A new hosted zone `<unique>.example.com`; returns (zone id, zone name).
async fn zone(clients: &AwsClients) -> (String, String) {
    let name = format!("{}.example.com", unique("zone"));
    let out = clients
        .route53_sdk()
        .create_hosted_zone()
        .name(&name)
        .caller_reference(unique("ref"))
        .send()
        .await
        .expect("CreateHostedZone");
    let id = out.hosted_zone().expect("zone").id().to_owned();
    (id, name)
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 1, last)
}

#[tokio::test]
async fn upsert_list_delete_a_records() {
    let clients = shared().clients().await;
    let (zone_id, zone_name) = zone(&clients).await;
    let suffix = format!("bbb.{zone_name}");
    clients.counters().reset();

    let changes = vec![
        ARecordChange::upsert(format!("a.{suffix}"), ip(1), 60),
        ARecordChange::upsert(format!("B.{suffix}."), ip(2), 60),
        ARecordChange::upsert(format!("c.{suffix}"), ip(3), 60),
        // Outside the suffix: a sibling that sorts before it and one that sorts after it.
        ARecordChange::upsert(format!("bbb-x.{zone_name}"), ip(4), 60),
        ARecordChange::upsert(format!("www.{zone_name}"), ip(5), 60),
    ];
    let ids = clients
        .change_a_records(&zone_id, &changes)
        .await
        .expect("upsert");
    assert_eq!(ids.len(), 1, "one batch");
    clients
        .wait_for_change(&ids[0], Duration::from_secs(30), Duration::from_millis(200))
        .await
        .expect("INSYNC");

    let mut records = clients.list_records(&zone_id, &suffix).await.expect("list");
    records.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("a.{suffix}"),
            format!("b.{suffix}"),
            format!("c.{suffix}")
        ]
    );
    for (r, last) in records.iter().zip([1u8, 2, 3]) {
        assert_eq!(r.record_type, "A");
        assert_eq!(r.ttl, Some(60));
        assert_eq!(r.values, [ip(last).to_string()]);
        assert!(!r.alias);
    }

    // UPSERT replaces the address; DELETE removes a record; the zone's other records stay.
    let ids = clients
        .change_a_records(
            &zone_id,
            &[
                ARecordChange::upsert(format!("a.{suffix}"), ip(11), 60),
                ARecordChange::delete(format!("c.{suffix}"), ip(3), 60),
            ],
        )
        .await
        .expect("change");
    clients
        .wait_for_change(&ids[0], Duration::from_secs(30), Duration::from_millis(200))
        .await
        .expect("INSYNC");
    let mut records = clients.list_records(&zone_id, &suffix).await.expect("list");
    records.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].values, [ip(11).to_string()]);
    assert_eq!(records[1].name, format!("b.{suffix}"));
    let all = clients.list_records(&zone_id, "").await.expect("list all");
    assert!(all.iter().any(|r| r.name == format!("www.{zone_name}")));
    assert!(all.iter().any(|r| r.name == format!("bbb-x.{zone_name}")));
    assert!(all.iter().any(|r| r.record_type == "SOA"));

    // Deleting a record that is not there fails (AWS: InvalidChangeBatch "... not found";
    // moto: InvalidInput), naming the call.
    let err = clients
        .change_a_records(
            &zone_id,
            &[ARecordChange::delete(format!("zzz.{suffix}"), ip(9), 60)],
        )
        .await
        .expect_err("delete of a missing record");
    assert!(
        matches!(err.code(), Some("InvalidChangeBatch" | "InvalidInput")),
        "{err}"
    );
    assert!(
        err.to_string().contains("ChangeResourceRecordSets"),
        "{err}"
    );

    let counts = clients.counters().call_counts();
    assert_eq!(counts.route53, 8, "{counts}");
    assert_eq!(counts.autoscaling + counts.ec2 + counts.ssm, 0);
}

#[tokio::test]
async fn listing_follows_pages() {
    let clients = shared().clients().await;
    let (zone_id, zone_name) = zone(&clients).await;
    let suffix = format!("fleet.{zone_name}");
    let changes: Vec<ARecordChange> = (0..320u32)
        .map(|i| {
            ARecordChange::upsert(
                format!("bbb-{i:03}.{suffix}"),
                Ipv4Addr::from(0x0a00_0000 + i),
                30,
            )
        })
        .collect();
    let ids = clients
        .change_a_records(&zone_id, &changes)
        .await
        .expect("upsert 320");
    assert_eq!(ids.len(), 1, "640 weighted records fit one batch");
    clients.counters().reset();

    let records = clients.list_records(&zone_id, &suffix).await.expect("list");
    assert_eq!(records.len(), 320);
    assert!(records.iter().all(|r| r.name.ends_with(&suffix)));
    // Route53 (and moto) return at most 300 record sets per page.
    assert_eq!(clients.counters().calls(Service::Route53), 2);
}

#[tokio::test]
async fn unknown_zone_is_an_error_naming_it() {
    let clients = shared().clients().await;
    let err = clients
        .list_records("/hostedzone/ZNOSUCHZONE", "example.com")
        .await
        .expect_err("no such zone");
    assert_eq!(err.code(), Some("NoSuchHostedZone"), "{err}");
    assert!(err.to_string().contains("ZNOSUCHZONE"), "{err}");
}
