//! Targets that misbehave at the transport level: each yields a verdict within the case's bounds,
//! never a hang or a panic.

use std::{future::Future, time::{Duration, Instant}};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use wsspec::{
    engine::{judge, run_case, RunOptions, Target},
    frame::{FrameSpec, LengthEncoding, OpCode},
};
use wsspec_reports::{Behavior, BehaviorClose};

use crate::support;

/// Serves every connection with `behave` on an ephemeral loopback port.
async fn serve<F, Fut>(behave: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behave(stream));
        }
    });
    url
}

/// A target that opens the WebSocket and then says nothing for a minute.
async fn stalling_target() -> String {
    serve(|mut s| async move {
        support::accept_websocket(&mut s).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    })
    .await
}

/// Runs the echo case 1.1.2 against `url` with timeouts scaled by `scale`; returns verdicts, the
/// reason and the wall time.
async fn echo_case(url: &str, scale: f64) -> (Behavior, BehaviorClose, String, Duration) {
    let case = support::catalog().case("1.1.2").unwrap().clone();
    let options = RunOptions { timeout_scale: scale, ..RunOptions::default() };
    let started = Instant::now();
    let obs = run_case(&case, &Target::parse(url).unwrap(), &options).await;
    let verdict = judge(&case, &obs);
    (verdict.behavior, verdict.behavior_close, format!("{} / {}", verdict.result, verdict.result_close), started.elapsed())
}

#[tokio::test]
async fn a_target_that_stalls_after_the_handshake() {
    let url = stalling_target().await;
    let (behavior, close, reason, took) = echo_case(&url, 0.3).await;
    assert_eq!(behavior, Behavior::Failed, "{reason}");
    assert_eq!(close, BehaviorClose::Unclean, "{reason}");
    assert!(took < Duration::from_secs(2), "bounded by the case timeout and the close wait: {took:?}");
}

#[tokio::test]
async fn a_target_that_never_answers_the_handshake() {
    let url = serve(|s| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(s);
    })
    .await;
    let (behavior, close, reason, took) = echo_case(&url, 0.1).await;
    assert_eq!((behavior, close), (Behavior::Failed, BehaviorClose::Failed));
    assert!(reason.contains("opening handshake was never completed"), "{reason}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn a_target_that_floods_pings() {
    let url = serve(|mut s| async move {
        support::accept_websocket(&mut s).await;
        let ping = FrameSpec::new(OpCode::Ping, b"flood".to_vec()).encode().repeat(1000);
        while s.write_all(&ping).await.is_ok() {}
    })
    .await;
    let (behavior, _, reason, took) = echo_case(&url, 1.0).await;
    assert_eq!(behavior, Behavior::Failed, "{reason}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_target_that_declares_a_huge_length() {
    let url = serve(|mut s| async move {
        support::accept_websocket(&mut s).await;
        let lie = FrameSpec {
            length_encoding: LengthEncoding::Bits64,
            declared_length: Some(0x8000_0000_0000_0000),
            ..FrameSpec::new(OpCode::Text, b"tiny".to_vec())
        };
        let _ = s.write_all(&lie.encode()).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    })
    .await;
    let (behavior, _, reason, took) = echo_case(&url, 1.0).await;
    assert_eq!(behavior, Behavior::Failed);
    assert!(reason.contains("declares 9223372036854775808 bytes"), "{reason}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn a_target_that_resets_the_connection() {
    let url = serve(|mut s| async move {
        support::accept_websocket(&mut s).await;
        let mut buf = [0u8; 16];
        let _ = s.read(&mut buf).await;
        #[allow(deprecated)] // A zero linger is how a test makes a reset; blocking on drop is moot.
        let _ = s.set_linger(Some(Duration::ZERO));
        drop(s);
    })
    .await;
    let (behavior, close, reason, _) = echo_case(&url, 1.0).await;
    assert_eq!(behavior, Behavior::Failed, "{reason}");
    assert_eq!(close, BehaviorClose::Failed, "the target, not wsspec, ended the connection: {reason}");
}

#[tokio::test]
async fn a_target_that_is_not_a_websocket_server() {
    let url = serve(|mut s| async move {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi").await;
    })
    .await;
    let (behavior, close, reason, _) = echo_case(&url, 1.0).await;
    assert_eq!((behavior, close), (Behavior::Failed, BehaviorClose::Failed));
    assert!(reason.contains("status 200"), "{reason}");
}

#[tokio::test]
async fn a_server_that_masks_its_frames() {
    let url = serve(|mut s| async move {
        support::accept_websocket(&mut s).await;
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap_or(0);
        let echo = FrameSpec::new(OpCode::Text, vec![b'*'; 125]).masked([1, 2, 3, 4]);
        if n > 0 {
            let _ = s.write_all(&echo.encode()).await;
        }
        let _ = s.read(&mut buf).await;
    })
    .await;
    let (behavior, _, reason, _) = echo_case(&url, 1.0).await;
    assert_eq!(behavior, Behavior::Failed);
    assert!(reason.contains("a server MUST NOT mask"), "{reason}");
}

#[tokio::test]
async fn a_timeout_decided_while_wsspec_was_starved_is_wsspec_s_error_not_the_target_s() {
    let url = stalling_target().await;
    // The test's runtime has one thread: blocking it starves every timer of the case.
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        std::thread::sleep(Duration::from_millis(1_500));
    });
    let case = support::catalog().case("1.1.2").unwrap().clone();
    let options = RunOptions { timeout_scale: 0.3, ..RunOptions::default() };
    let obs = run_case(&case, &Target::parse(&url).unwrap(), &options).await;
    assert!(obs.timed_out);
    let error = obs.overload().expect("an overloaded wsspec, not a failing target");
    assert!(error.contains("the machine is overloaded"), "{error}");

    // The same stalling target, with wsspec's timers on time, is the target's failure.
    let obs = run_case(&case, &Target::parse(&url).unwrap(), &options).await;
    assert!(obs.timed_out && obs.overload().is_none(), "timers late by {:?}", obs.timers_late);
}
