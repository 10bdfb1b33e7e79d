//! Scalelite down behind its nginx proxy: 502 Bad Gateway, then back with its servers.

#[tokio::test]
async fn an_unavailable_scalelite_answers_bad_gateway_and_recovers() {
    let double = bbb_doubles::ScaleliteDouble::start("s3cret")
        .await
        .expect("start");
    let http = reqwest::Client::new();
    double.set_available(false);
    let r = http
        .get(format!("{}/scalelite/api/getServers", double.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 502);
    assert!(r.text().await.expect("body").contains("nginx"));
    assert_eq!(double.calls("getServers"), 1);
    double.set_available(true);
    let r = http
        .get(format!("{}/scalelite/api/getServers", double.url()))
        .send()
        .await
        .expect("request");
    assert_ne!(
        r.status().as_u16(),
        502,
        "answers again (here: checksum refused)"
    );
}
