use super::*;

#[test]
fn socket_mode_refuses_a_bad_base_url_and_never_shows_its_token() {
    let token = || SecretString::from("xapp-1-A111-222-secretsecret");
    assert!(SocketMode::new("not a url", token(), reqwest::Client::new()).is_err());
    assert!(SocketMode::new("ftp://slack.com/api/", token(), reqwest::Client::new()).is_err());
    let socket = SocketMode::new("https://slack.com/api", token(), reqwest::Client::new())
        .expect("a valid base URL");
    assert_eq!(socket.base_url.as_str(), "https://slack.com/api/");
    let shown = format!("{socket:?}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[test]
fn socket_mode_drain_time_covers_a_longer_ack_deadline() {
    let socket = SocketMode::new(
        "https://slack.com/api/",
        SecretString::from("xapp-1"),
        reqwest::Client::new(),
    )
    .expect("a valid base URL")
    .with_ack_deadline(Duration::from_secs(20));
    assert!(socket.timings.drain_limit > Duration::from_secs(20));
}

/// A `wss://` URL goes through rustls: building its client configuration must find a crypto
/// provider (the one reqwest's rustls uses) instead of panicking. The server here speaks no TLS,
/// so the handshake fails, as an error.
#[tokio::test]
async fn socket_wss_urls_fail_as_errors_not_panics() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    let server = tokio::spawn(async move {
        if let Ok((mut stream, _)) = listener.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let timings = Timings {
        connect_timeout: Duration::from_secs(5),
        ..Timings::default()
    };
    let url = format!("wss://127.0.0.1:{port}/link/?ticket=secret-ticket");
    let error = match establish(&url, &timings).await {
        Ok(_) => panic!("a plain TCP server cannot complete a TLS handshake"),
        Err(error) => error,
    };
    assert!(!error.contains("secret-ticket"), "{error}");
    assert!(
        !error.contains("not compiled"),
        "TLS support is built in: {error}"
    );
    server.abort();
}
