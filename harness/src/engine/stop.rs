//! Stopping a run early and cleanly: an interrupt (SIGINT, SIGTERM) or a target that stopped
//! answering. Cases not yet started are not started; cases in flight get a short grace period to
//! end, after which they are marked not run. Cloned handles share one state.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;

/// How long cases in flight may take to end after an interrupt.
pub const GRACE: Duration = Duration::from_secs(2);

/// A shared "stop now" flag with the reason it was raised.
#[derive(Debug, Clone)]
pub struct Stop(Arc<watch::Sender<Option<String>>>);

impl Default for Stop {
    fn default() -> Self {
        Self::new()
    }
}

impl Stop {
    pub fn new() -> Self {
        Self(Arc::new(watch::channel(None).0))
    }

    /// A flag raised by SIGINT or SIGTERM, with the signal's name as reason. Fails when the signal
    /// handlers cannot be installed.
    pub fn on_signals() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let stop = Self::new();
        let (mut interrupt, mut terminate) = (signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?);
        let raise = stop.clone();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            raise.raise(format!("{name} received"));
        });
        Ok(stop)
    }

    /// Raises the flag; the first reason is kept.
    pub fn raise(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.0.send_if_modified(|current| current.is_none() && current.replace(reason).is_none());
    }

    /// The reason, once raised.
    pub fn reason(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    /// Resolves once the flag is raised.
    pub async fn raised(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(Option::is_some).await;
    }
}
