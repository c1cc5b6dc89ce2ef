//! Reference peers: independent WebSocket implementations wsspec runs against itself, for the demo
//! and for the tests.

pub mod deflate_reference;
pub mod faulty;
pub mod h2_server;
pub mod reference_client;
pub mod reference_server;

use std::{future::Future, io, net::SocketAddr};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// Binds `addr` and hands every TCP connection accepted there (Nagle's algorithm off) to `serve`, on
/// a task of its own, until the accept task returned with the bound address is aborted.
///
/// # Errors
/// The bind's: the address is taken, or not local.
pub(crate) async fn accept_each<F, Fut>(addr: &str, serve: F) -> io::Result<(SocketAddr, JoinHandle<()>)>
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve(stream));
        }
    });
    Ok((addr, task))
}
