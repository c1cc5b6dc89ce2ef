//! The server side of `wss://` (wsspec testing clients, and the embedded reference server): one
//! rustls server config per certificate wsspec can present, chosen per connection before the
//! handshake starts.

use std::{
    io,
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{pki_types::CertificateDer, ServerConfig};
use tokio::net::TcpStream;
use tokio_rustls::{server::TlsStream, TlsAcceptor};

use super::{
    certs::{self, Identity},
    provider, ALPN_H2, ALPN_HTTP_1_1,
};

/// Which certificate a connection is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    /// The server's own certificate, which the client is told to trust.
    Good,
    /// Signed by the trusted CA, for another name.
    WrongName,
    /// Signed by the trusted CA, for the right name, expired.
    Expired,
    /// For the right name, valid, signed by an issuer the client was never told of.
    UnknownIssuer,
}

/// Accepts TLS connections with the certificate a connection is meant to see.
#[derive(Clone)]
pub struct Acceptor {
    good: TlsAcceptor,
    wrong_name: Option<TlsAcceptor>,
    expired: Option<TlsAcceptor>,
    unknown_issuer: TlsAcceptor,
    /// The throw-away CA, when wsspec made the certificates.
    ca: Option<CertificateDer<'static>>,
    ca_file: Option<PathBuf>,
}

impl Acceptor {
    /// Presents the operator's certificate (`--cert`/`--key`). Without the issuer's key wsspec cannot
    /// make a trusted certificate for another name or an expired one, so only the unknown-issuer
    /// certificate is available besides it.
    pub fn from_files(cert: &Path, key: &Path, names: &[String]) -> Result<Self, String> {
        let identity = certs::load(cert, key)?;
        let spare = certs::throw_away(names)?;
        Ok(Self {
            good: acceptor(identity).map_err(|e| format!("{}: {e}", cert.display()))?,
            wrong_name: None,
            expired: None,
            unknown_issuer: acceptor(spare.unknown_issuer).map_err(|e| e.to_string())?,
            ca: None,
            ca_file: None,
        })
    }

    /// Makes throw-away certificates for `names` and writes the CA certificate to
    /// `out_dir/`[`THROW_AWAY_CA`](super::THROW_AWAY_CA), the file the client under test must trust.
    pub fn throw_away(names: &[String], out_dir: &Path) -> Result<Self, String> {
        let set = certs::throw_away(names)?;
        std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
        let ca_file = out_dir.join(super::THROW_AWAY_CA);
        std::fs::write(&ca_file, &set.ca_pem).map_err(|e| format!("{}: {e}", ca_file.display()))?;
        Self::from_set(set, Some(ca_file))
    }

    /// Throw-away certificates kept in memory only (tests, the embedded peers).
    pub fn in_memory(names: &[String]) -> Result<Self, String> {
        Self::from_set(certs::throw_away(names)?, None)
    }

    fn from_set(set: certs::ThrowAway, ca_file: Option<PathBuf>) -> Result<Self, String> {
        let make = |identity| acceptor(identity).map_err(|e| format!("throw-away certificate: {e}"));
        Ok(Self {
            good: make(set.good)?,
            wrong_name: Some(make(set.wrong_name)?),
            expired: Some(make(set.expired)?),
            unknown_issuer: make(set.unknown_issuer)?,
            ca: Some(set.ca),
            ca_file,
        })
    }

    /// The same certificates, selecting ALPN `h2` only (RFC 9113 §3.2): the embedded HTTP/2 server
    /// over TLS. A client that offers no `h2` gets the handshake failure rustls sends for a client
    /// with no protocol in common (`no_application_protocol`).
    pub fn for_http2(&self) -> Self {
        let h2 = |acceptor: &TlsAcceptor| {
            let mut config = ServerConfig::clone(acceptor.config());
            config.alpn_protocols = vec![ALPN_H2.to_vec()];
            TlsAcceptor::from(Arc::new(config))
        };
        Self {
            good: h2(&self.good),
            wrong_name: self.wrong_name.as_ref().map(h2),
            expired: self.expired.as_ref().map(h2),
            unknown_issuer: h2(&self.unknown_issuer),
            ca: self.ca.clone(),
            ca_file: self.ca_file.clone(),
        }
    }

    /// The throw-away CA certificate, when wsspec made the certificates.
    pub fn ca(&self) -> Option<&CertificateDer<'static>> {
        self.ca.as_ref()
    }

    /// Where the throw-away CA certificate was written.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Whether this acceptor can present `what` soundly.
    pub fn can_present(&self, what: Presented) -> bool {
        match what {
            Presented::WrongName => self.wrong_name.is_some(),
            Presented::Expired => self.expired.is_some(),
            Presented::Good | Presented::UnknownIssuer => true,
        }
    }

    /// Completes the server side of the TLS handshake showing `what` (the good certificate if
    /// `what` cannot be presented). The error is the handshake's: a client that refused the
    /// certificate shows up here, typically as the alert it sent.
    pub async fn accept(&self, tcp: TcpStream, what: Presented) -> io::Result<TlsStream<TcpStream>> {
        let acceptor = match what {
            Presented::Good => &self.good,
            Presented::WrongName => self.wrong_name.as_ref().unwrap_or(&self.good),
            Presented::Expired => self.expired.as_ref().unwrap_or(&self.good),
            Presented::UnknownIssuer => &self.unknown_issuer,
        };
        acceptor.accept(tcp).await
    }
}

fn acceptor(identity: Identity) -> Result<TlsAcceptor, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)?;
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
