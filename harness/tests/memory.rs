//! What the catalog holds and what the engine allocates while it sends and checks big messages,
//! counted by this binary's own global allocator (a binary of its own, its tests one at a time, so
//! nothing else allocates meanwhile; the echo server is a separate `wsspec reference-server`
//! process). Not timing-based: the counts are bytes live at once, whatever the machine's speed.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering::Relaxed},
        OnceLock,
    },
};

use wsspec::{
    catalog::{case_matches, Catalog, Role},
    engine::{run_cases, RunConfig, RunOptions, Stop, Target},
};
use wsspec_reports::sink::Sink;

/// The system allocator, counting the bytes live and the most ever live at once.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(live, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Taken by each test for its whole length: the counts are the whole process's.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The built-in catalog, and the bytes its first load left live (the five data sets of 12.x/13.x
/// included: the load measures their first slices); a later load costs only the cases.
fn catalog() -> (Catalog, usize) {
    static FIRST_LOAD: OnceLock<usize> = OnceLock::new();
    let before = LIVE.load(Relaxed);
    let catalog = Catalog::embedded().unwrap();
    let held = *FIRST_LOAD.get_or_init(|| LIVE.load(Relaxed) - before);
    (catalog, held)
}

/// The catalog a run keeps, and each copy of its 675 cases (both roles): 3.15 MiB and 1.05 MiB.
/// They were 5.79 MiB and 1.42 MiB while every character of the text data sets had an offset of
/// its own (1.8 MB) and every case kept room for a crafted handshake (608 of its 992 octets).
#[test]
fn the_catalog_a_run_keeps_is_small() {
    let _alone = ONE_AT_A_TIME.blocking_lock();
    let (catalog, loaded) = catalog();
    let before = LIVE.load(Relaxed);
    let copy = catalog.cases.clone();
    let copied = LIVE.load(Relaxed) - before;
    eprintln!("catalog: {} KiB loaded, {} KiB per copy of its {} cases", loaded >> 10, copied >> 10, copy.len());
    assert!(loaded < 4 << 20, "the catalog and its data sets hold {} KiB", loaded >> 10);
    assert!(copied < 1_300 << 10, "a copy of the cases holds {} KiB", copied >> 10);
}

/// The 16 MiB messages (9.1.6 text, 9.2.6 binary), 4 MiB in 65,536 frames (9.3.1) and 1 MiB in
/// 64-byte writes (9.5.1), echoed by tungstenite: each passes, and while they run the engine never
/// holds more than 4 MiB more than before (it held 48 MiB and more when a message was kept whole:
/// payload, encoded frame and echo).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_echoes_are_checked_in_bounded_memory() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let mut server = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["reference-server", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the reference server starts");
    let mut url = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut url).unwrap();
    let cases: Vec<_> = catalog()
        .0
        .cases
        .into_iter()
        .filter(|c| c.applies_to(Role::Server) && ["9.1.6", "9.2.6", "9.3.1", "9.5.1"].iter().any(|p| case_matches(p, c.id.as_str())))
        .collect();
    assert_eq!(cases.len(), 4);
    let out = tempfile::tempdir().unwrap();
    let config = RunConfig {
        agent: "memory".into(),
        target: Target::parse(url.trim()).expect("the server's URL"),
        options: RunOptions { jobs: 1, ..RunOptions::default() },
    };
    let sink = Sink::open(out.path()).unwrap();
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let mut verdicts = Vec::new();
    let report = run_cases(&cases, &config, &sink, &Stop::new(), |r| verdicts.push(format!("{} {:?} {:?}", r.id, r.behavior, r.behavior_close))).await;
    let peak = PEAK.load(Relaxed) - before;
    let _ = server.kill();
    report.expect("the run completes");
    assert_eq!(verdicts, ["9.1.6 Ok Ok", "9.2.6 Ok Ok", "9.3.1 Ok Ok", "9.5.1 Ok Ok"]);
    assert!(peak < 4 << 20, "the engine held {} KiB at once for 16 MiB messages", peak >> 10);
    eprintln!("peak heap above the start: {} KiB", peak >> 10);
}

/// A compressed message is inflated as its frames arrive, never held whole: a target that answers
/// 12.1.1 with a 16 MiB message compressed to about 16 MiB (stored blocks), in 1 MiB frames, costs
/// the engine no more than 4 MiB above the start (it held the whole compressed message, 16 MiB and
/// its growth room, until the final frame, and a target never sending that frame kept it so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_compressed_message_is_inflated_in_bounded_memory() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wsspec::extension::permessage_deflate::{deflater::MessageDeflater, params::DirectionParams};
    let _alone = ONE_AT_A_TIME.lock().await;
    let message: Vec<u8> = (0..16u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let compressed: &'static [u8] = MessageDeflater::with_level(DirectionParams::default(), 0).compress_message(&message).leak();
    drop(message);
    assert!(compressed.len() > 16 << 20, "stored blocks: {} octets", compressed.len());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head);
                let Some(key) = text.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")) else { return };
                let deflate = if text.contains("permessage-deflate") { "Sec-WebSocket-Extensions: permessage-deflate\r\n" } else { "" };
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{deflate}\r\n",
                    wsspec::handshake::accept_key(key.trim())
                );
                if stream.write_all(answer.as_bytes()).await.is_err() || deflate.is_empty() {
                    return;
                }
                // A binary message, RSV1 on its first frame, in 1 MiB frames.
                let pieces: Vec<&[u8]> = compressed.chunks(1 << 20).collect();
                for (n, piece) in pieces.iter().enumerate() {
                    let first = if n == 0 { 0x42 } else { 0x00 };
                    let fin = if n + 1 == pieces.len() { 0x80 } else { 0x00 };
                    let mut header = vec![first | fin, 127];
                    header.extend_from_slice(&(piece.len() as u64).to_be_bytes());
                    if stream.write_all(&header).await.is_err() || stream.write_all(piece).await.is_err() {
                        return;
                    }
                }
                let _ = stream.read(&mut [0u8; 1024]).await;
            });
        }
    });
    let cases: Vec<_> = catalog().0.cases.into_iter().filter(|c| c.applies_to(Role::Server) && c.id.as_str() == "12.1.1").collect();
    let out = tempfile::tempdir().unwrap();
    let config = RunConfig { agent: "memory".into(), target: Target::parse(&url).unwrap(), options: RunOptions { jobs: 1, ..RunOptions::default() } };
    let sink = Sink::open(out.path()).unwrap();
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let mut reasons = Vec::new();
    let report = run_cases(&cases, &config, &sink, &Stop::new(), |r| reasons.push(r.result.clone())).await;
    let peak = PEAK.load(Relaxed) - before;
    report.expect("the run completes");
    assert_eq!(reasons.len(), 1, "12.1.1 judged");
    assert!(reasons[0].contains("16777216"), "the 16 MiB message was inflated whole: {}", reasons[0]);
    assert!(peak < 4 << 20, "the engine held {} KiB at once for a 16 MiB compressed message", peak >> 10);
    eprintln!("peak heap above the start: {} KiB", peak >> 10);
}
